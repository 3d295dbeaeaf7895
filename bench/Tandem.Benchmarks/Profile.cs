using System.Diagnostics;
using System.Globalization;
using Tandem.Core.Hardware.Systolic;

namespace Tandem.Benchmarks;

/// <summary>Development aid: per (layer, array) CPU time of the model and of its ifmap part, slowest first.</summary>
internal static class Profile
{
    public static int Run(int top)
    {
        Collect(); // warm-up pass (tiered JIT)
        Measure(Collect(), top);
        return 0;
    }

    /// <summary>The same split (whole model, ifmap DRAM reads) for every row of the SCALE-Sim reference file, slowest first.</summary>
    public static int RunRows(string path, int top, string? only = null)
    {
        var rows = new List<(string Id, double Total, double Ifmap, long Misses)>();
        var selected = ScaleSimReferenceRow.Read(path).Where(r => only is null || r.Id.Contains(only, StringComparison.Ordinal)).ToList();
        // Warm-up: without it the first rows' CPU time includes the JIT's tier-up compilations, which
        // wait for 30 calls of a method and then run in the background, so a few filtered rows need
        // repeating for a while (at least three passes and half a second).
        var warm = Stopwatch.StartNew();
        for (int pass = 0; pass < 3 || warm.ElapsedMilliseconds < 500; pass++)
            foreach (var row in selected) SystolicModel.Evaluate(row.Shape, row.Config);
        foreach (var row in selected)
        {
            var (s, config) = (row.Shape, row.Config);
            var g = new SystolicModel.Geometry(s, config);
            long w = SystolicModel.Window(config.IfmapSramWords);
            rows.Add(($"{row.Net}/{row.Layer} {Describe(s)} on {config.Rows}x{config.Columns} {row.Dataflow} {row.Mode}",
                Time(() => SystolicModel.Evaluate(s, config)), Time(() => SystolicModel.IfmapDramReads(g, w)), SystolicModel.IfmapDramReads(g, w).Misses));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rows.Count} rows, {rows.Sum(r => r.Total) * 1e3:0.00} ms, ifmap {rows.Sum(r => r.Ifmap) * 1e3:0.00} ms"));
        foreach (var r in rows.OrderByDescending(r => r.Total).Take(top))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {r.Total * 1e6,9:0.0} µs (ifmap {r.Ifmap * 1e6,9:0.0}, {r.Misses} misses) {r.Id}"));
        return 0;
    }

    private static List<(string Net, string Layer, string Array, double Total, double Ifmap)> Collect()
    {
        var rows = new List<(string Net, string Layer, string Array, double Total, double Ifmap)>();
        foreach (var (name, shapes) in new[] { ("mobilenet", SystolicBenchmarks.Shapes(Tandem.Core.Workloads.ModelZoo.MobileNetV1())), ("resnet50", SystolicBenchmarks.Shapes(Tandem.Core.Workloads.ModelZoo.ResNet50())) })
            foreach (var n in SystolicBenchmarks.ArraySizes)
                foreach (var d in new[] { SystolicDataflow.OutputStationary, SystolicDataflow.WeightStationary, SystolicDataflow.InputStationary })
                {
                    var c = new SystolicConfig { Rows = n, Columns = n, Dataflow = d };
                    foreach (var s in shapes)
                    {
                        var g = new SystolicModel.Geometry(s, c);
                        long w = SystolicModel.Window(c.IfmapSramWords);
                        rows.Add((name, Describe(s), $"{n} {d}",
                            Time(() => SystolicModel.Evaluate(s, c)), Time(() => SystolicModel.IfmapDramReads(g, w))));
                    }
                }
        return rows;
    }

    private static void Measure(List<(string Net, string Layer, string Array, double Total, double Ifmap)> rows, int top)
    {
        foreach (var net in new[] { "mobilenet", "resnet50" })
        {
            var set = rows.Where(r => r.Net == net).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{net}: {set.Count} evaluations, {set.Sum(r => r.Total) * 1e3:0.00} ms, ifmap {set.Sum(r => r.Ifmap) * 1e3:0.00} ms"));
            foreach (var a in set.GroupBy(r => r.Array))
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {a.Key}: {a.Average(r => r.Total) * 1e6:0.0} µs/layer, ifmap {a.Average(r => r.Ifmap) * 1e6:0.0}"));
        }
        foreach (var r in rows.OrderByDescending(r => r.Total).Take(top))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {r.Total * 1e6,9:0.0} µs (ifmap {r.Ifmap * 1e6,9:0.0}) {r.Net} {r.Layer} on {r.Array}"));
    }

    /// <summary>
    /// Development aid: CPU time of the ifmap DRAM count of one layer (SCALE-Sim topology fields: ifmap
    /// height, width, channels, filter height, width, stride, filters) on one square array and dataflow
    /// (os, ws, is), per evaluation, over at least <c>seconds</c> of CPU after a warm-up; for side-by-side
    /// runs of two builds (alternate them: this machine's speed drifts).
    /// </summary>
    public static int RunLayer(string[] a)
    {
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        if (!TryParseLayer(a.Take(9).ToArray(), out int[] n, out var flow)
            || (a.Length > 9 && !double.TryParse(a[9], System.Globalization.NumberStyles.Float, ci, out _)))
        {
            Console.Error.WriteLine("usage: --layer H W C R S STRIDE N ROWS DATAFLOW [SECONDS] (positive integers; DATAFLOW os, ws or is)");
            return 2;
        }
        var shape = SystolicLayerShape.FromScaleSim(n[0], n[1], n[3], n[4], n[2], n[6], n[5], n[5]);
        var config = new SystolicConfig { Rows = n[7], Columns = n[7], Dataflow = flow };
        var g = new SystolicModel.Geometry(shape, config);
        long window = SystolicModel.Window(config.IfmapSramWords);
        double seconds = a.Length > 9 ? double.Parse(a[9], ci) : 1;
        var result = SystolicModel.IfmapDramReads(g, window);
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 300) SystolicModel.IfmapDramReads(g, window);
        double perCall = Time(() => SystolicModel.IfmapDramReads(g, window), seconds);
        double whole = Time(() => SystolicModel.Evaluate(shape, config), seconds);
        Console.WriteLine(string.Create(ci, $"{Describe(shape)} on {config.Rows}x{config.Columns} {flow}: {result.Misses} ifmap DRAM reads, {perCall * 1e6:0.00} µs CPU per ifmap evaluation, {whole * 1e6:0.00} µs per whole-layer evaluation"));
        return 0;
    }

    /// <summary>
    /// A layer and array as <c>--layer</c> and <c>--compare-layers</c> take them: nine fields, H W C R S STRIDE N ROWS
    /// (SCALE-Sim topology order but channels third; positive integers) and a dataflow (os, ws or is).
    /// </summary>
    internal static bool TryParseLayer(IReadOnlyList<string> f, out int[] fields, out SystolicDataflow flow)
    {
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        fields = new int[8];
        flow = default;
        if (f.Count != 9 || SystolicConfig.ParseDataflow(f[8]) is not { } parsed) return false;
        for (int i = 0; i < 8; i++)
            if (!int.TryParse(f[i], System.Globalization.NumberStyles.None, ci, out fields[i]) || fields[i] < 1) return false;
        flow = parsed;
        return true;
    }

    /// <summary>A layer as the profiles print it: ifmap H×W×C, filter R×S/stride, filters.</summary>
    private static string Describe(SystolicLayerShape s) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{s.IfmapHeight}x{s.IfmapWidth}x{s.Channels} {s.FilterHeight}x{s.FilterWidth}/{s.StrideHeight} N={s.Filters}");

    /// <summary>CPU time per call, repeated for at least <paramref name="minSeconds"/> (20 ms by default).</summary>
    private static double Time(Action a, double minSeconds = 0.02)
    {
        a();
        var proc = Process.GetCurrentProcess();
        proc.Refresh();
        var t0 = proc.TotalProcessorTime;
        long n = 0;
        int batch = 4;
        TimeSpan elapsed;
        var wall = Stopwatch.StartNew();
        do
        {
            // Process CPU time is a system call: read it once per batch, and grow the batch until one takes at least
            // 2 ms, so that the reads cost nothing measurable even on sub-microsecond layers.
            long before = wall.ElapsedTicks;
            for (int i = 0; i < batch; i++) a();
            n += batch;
            if (wall.ElapsedTicks - before < Stopwatch.Frequency / 500 && batch < 1 << 20) batch *= 2;
            proc.Refresh();
            elapsed = proc.TotalProcessorTime - t0;
        } while (elapsed.TotalSeconds < minSeconds);
        return elapsed.TotalSeconds / n;
    }
}
