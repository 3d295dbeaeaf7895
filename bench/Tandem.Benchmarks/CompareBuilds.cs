using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;
using Tandem.Core.Hardware.Systolic;

namespace Tandem.Benchmarks;

/// <summary>
/// Times two or more builds of the model on every SCALE-Sim reference row in one process, alternating between them.
/// <para>
/// Each directory is a build output of this project (it holds <c>Tandem.Benchmarks.dll</c> and its
/// <c>Tandem.Core.dll</c>); each is loaded into its own assembly load context and reads the reference rows with its
/// own parser. After a warm-up of three passes over every row and build, each row is timed in slices of about 4 ms
/// wall time per build, the builds taking turns, and each build's time for the row is its fastest slice. On a
/// machine whose speed drifts over seconds (a shared virtual machine), separate runs of separate builds can differ
/// by more than a change between them; slices that alternate every few milliseconds see the same machine.
/// </para>
/// </summary>
internal static class CompareBuilds
{
    private sealed class BuildContext(string directory) : AssemblyLoadContext($"build {directory}")
    {
        protected override Assembly? Load(AssemblyName name)
        {
            string path = Path.Combine(directory, name.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }

    public static int Run(string[] args)
    {
        var ci = CultureInfo.InvariantCulture;
        int slices = 3;
        string? perRow = null;
        var positional = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--slices" && i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, ci, out slices) && slices >= 1) i++;
            else if (args[i] == "--per-row" && i + 1 < args.Length) perRow = args[++i];
            else if (args[i].StartsWith("--", StringComparison.Ordinal)) return Usage($"unknown or incomplete option {args[i]}");
            else positional.Add(args[i]);
        }
        if (positional.Count < 3) return Usage("give the reference file and at least two build directories");
        string reference = positional[0];
        if (!File.Exists(reference)) return Usage($"reference file not found: {reference}");
        var dirs = positional.Skip(1).Select(Path.GetFullPath).ToList();
        foreach (var d in dirs)
            if (!File.Exists(Path.Combine(d, "Tandem.Benchmarks.dll")) || !File.Exists(Path.Combine(d, "Tandem.Core.dll")))
                return Usage($"{d} holds no Tandem.Benchmarks.dll and Tandem.Core.dll (a build output of bench/Tandem.Benchmarks)");

        var builds = dirs.Select(d => Load(d, reference)).ToList();
        int n = builds[0].Count;
        if (builds.Any(b => b.Count != n)) return Usage("the builds read different numbers of reference rows");
        int differ = 0;
        for (int i = 0; i < n; i++)
            if (builds.Select(b => b[i].Evaluate().ToString()).Distinct().Count() > 1) differ++;
        for (int pass = 0; pass < 3; pass++)
            for (int i = 0; i < n; i++)
                foreach (var b in builds)
                    for (int k = 0; k < 8; k++) b[i].Evaluate();

        var best = new double[builds.Count, n];
        for (int i = 0; i < n; i++)
        {
            for (int b = 0; b < builds.Count; b++) best[b, i] = double.MaxValue;
            for (int s = 0; s < slices; s++)
                for (int b = 0; b < builds.Count; b++)
                    best[b, i] = Math.Min(best[b, i], Slice(builds[b][i].Evaluate, Stopwatch.Frequency / 250));
        }

        Console.WriteLine($"{n} rows, {slices} alternating slices of about 4 ms per row and build, fastest slice per row (wall time per evaluation)");
        if (differ > 0) Console.WriteLine($"warning: the builds' results differ on {differ} rows");
        Console.WriteLine("| build | Tandem total | min speed-up | geometric mean | rows ≥ 100,000× | whole set |");
        Console.WriteLine("|---|---|---|---|---|---|");
        for (int b = 0; b < builds.Count; b++)
        {
            double total = 0, logSum = 0, min = double.MaxValue, sim = 0;
            int over = 0;
            for (int i = 0; i < n; i++)
            {
                double ratio = builds[b][i].SimSeconds / best[b, i];
                total += best[b, i];
                sim += builds[b][i].SimSeconds;
                logSum += Math.Log(ratio);
                min = Math.Min(min, ratio);
                if (ratio >= 1e5) over++;
            }
            Console.WriteLine(string.Create(ci, $"| {dirs[b]} | {total * 1e3:0.000} ms | {min:0} | {Math.Exp(logSum / n):0} | {over} | {sim / total:0}× |"));
        }
        if (perRow is not null)
            File.WriteAllLines(perRow, Enumerable.Range(0, n).Select(i => string.Create(ci,
                    $"{builds[0][i].Id},{builds[0][i].SimSeconds},{string.Join(",", Enumerable.Range(0, builds.Count).Select(b => (best[b, i] * 1e6).ToString("0.000", ci)))}"))
                .Prepend("row,scalesim_s," + string.Join(",", Enumerable.Range(1, builds.Count).Select(b => $"build{b}_us"))));
        return 0;
    }

    /// <summary>
    /// <c>--compare-layers BUILD_DIR BUILD_DIR [...] --layer "H W C R S STRIDE N ROWS DATAFLOW" [--layer …] [--seconds S]</c>:
    /// the same alternation for single layers (SCALE-Sim topology fields, a square array of ROWS with the default
    /// SRAMs and CALC bandwidth, dataflow os, ws or is), each build's whole-model evaluation timed in slices of about
    /// 5 ms for S seconds per layer (2 by default); prints per layer and build the fastest and the median slice and the
    /// bytes the build allocates per evaluation.
    /// </summary>
    public static int RunLayers(string[] args)
    {
        var ci = CultureInfo.InvariantCulture;
        double seconds = 2;
        var layers = new List<int[]>();
        var flows = new List<SystolicDataflow>();
        var dirs = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--seconds" && i + 1 < args.Length && double.TryParse(args[i + 1], NumberStyles.Float, ci, out seconds) && seconds > 0) i++;
            else if (args[i] == "--layer" && i + 1 < args.Length)
            {
                if (!Profile.TryParseLayer(args[++i].Split(' ', StringSplitOptions.RemoveEmptyEntries), out int[] fields, out var flow))
                    return LayersUsage($"--layer \"{args[i]}\": give H W C R S STRIDE N ROWS (positive integers) and a dataflow os, ws or is");
                layers.Add(fields);
                flows.Add(flow);
            }
            else if (args[i].StartsWith("--", StringComparison.Ordinal)) return LayersUsage($"unknown or incomplete option {args[i]}");
            else dirs.Add(Path.GetFullPath(args[i]));
        }
        if (dirs.Count < 2 || layers.Count == 0) return LayersUsage("give at least two build directories and one --layer");
        foreach (var d in dirs)
            if (!File.Exists(Path.Combine(d, "Tandem.Core.dll")))
                return LayersUsage($"{d} holds no Tandem.Core.dll (a build output of bench/Tandem.Benchmarks)");
        var makers = dirs.Select(LayerEvaluator).ToList();
        Console.WriteLine($"{seconds:0.##} s per layer, alternating slices of about 5 ms between builds (wall time per evaluation of the whole model)");
        Console.WriteLine("| layer | build | fastest slice | median slice | allocated per evaluation |");
        Console.WriteLine("|---|---|---|---|---|");
        for (int li = 0; li < layers.Count; li++)
        {
            var fs = makers.Select(m => m(layers[li], flows[li])).ToArray();
            var results = fs.Select(f => f().ToString()).ToArray();
            var bytes = new long[fs.Length];
            for (int b = 0; b < fs.Length; b++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int k = 0; k < 10; k++) fs[b]();
                bytes[b] = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;
            }
            var warm = Stopwatch.StartNew();
            while (warm.ElapsedMilliseconds < 300) foreach (var f in fs) f();
            var times = fs.Select(_ => new List<double>()).ToArray();
            var total = Stopwatch.StartNew();
            while (total.Elapsed.TotalSeconds < seconds)
                for (int b = 0; b < fs.Length; b++)
                    times[b].Add(Slice(fs[b], Stopwatch.Frequency / 200));
            string name = string.Join(" ", layers[li]) + " " + SystolicConfig.DataflowCode(flows[li]) + (results.Distinct().Count() > 1 ? " (results differ!)" : "");
            for (int b = 0; b < fs.Length; b++)
            {
                var sorted = times[b].OrderBy(t => t).ToList();
                Console.WriteLine(string.Create(ci, $"| {name} | {dirs[b]} | {sorted[0] * 1e6:0.0} µs | {sorted[sorted.Count / 2] * 1e6:0.0} µs | {bytes[b]:N0} B |"));
            }
        }
        return 0;
    }

    /// <summary>Seconds per evaluation over one slice of <paramref name="ticks"/> stopwatch ticks (at least one evaluation).</summary>
    private static double Slice(Func<object> evaluate, long ticks)
    {
        var sw = Stopwatch.StartNew();
        long k = 0;
        while (sw.ElapsedTicks < ticks) { evaluate(); k++; }
        return sw.Elapsed.TotalSeconds / k;
    }

    /// <summary>A build's <c>SystolicModel.Evaluate(shape, config)</c>.</summary>
    private static MethodInfo ModelEvaluate(Assembly core) =>
        core.GetType("Tandem.Core.Hardware.Systolic.SystolicModel", throwOnError: true)!.GetMethod("Evaluate", BindingFlags.Public | BindingFlags.Static)!;

    /// <summary>For a build directory: layer fields and dataflow → that build's whole-model evaluation of the layer.</summary>
    private static Func<int[], SystolicDataflow, Func<object>> LayerEvaluator(string directory)
    {
        var core = new BuildContext(directory).LoadFromAssemblyPath(Path.Combine(directory, "Tandem.Core.dll"));
        var shapeType = core.GetType("Tandem.Core.Hardware.Systolic.SystolicLayerShape", throwOnError: true)!;
        var configType = core.GetType("Tandem.Core.Hardware.Systolic.SystolicConfig", throwOnError: true)!;
        var flowType = core.GetType("Tandem.Core.Hardware.Systolic.SystolicDataflow", throwOnError: true)!;
        var fromScaleSim = shapeType.GetMethod("FromScaleSim", BindingFlags.Public | BindingFlags.Static)!;
        var evaluate = ModelEvaluate(core);
        return (v, flow) =>
        {
            // SCALE-Sim's topology order: ifmap H, W, filter R, S, channels, filters, strides.
            var shape = fromScaleSim.Invoke(null, [v[0], v[1], v[3], v[4], v[2], v[6], v[5], v[5]])!;
            var config = Activator.CreateInstance(configType)!;
            configType.GetProperty("Rows")!.SetValue(config, v[7]);
            configType.GetProperty("Columns")!.SetValue(config, v[7]);
            // The loaded build's own enum, by member name.
            configType.GetProperty("Dataflow")!.SetValue(config, Enum.Parse(flowType, flow.ToString()));
            object[] arguments = [shape, config];
            return () => evaluate.Invoke(null, arguments)!;
        };
    }

    private static int LayersUsage(string problem)
    {
        Console.Error.WriteLine($"--compare-layers: {problem}");
        Console.Error.WriteLine("usage: --compare-layers BUILD_DIR BUILD_DIR [...] --layer \"H W C R S STRIDE N ROWS DATAFLOW\" [--layer ...] [--seconds S]");
        return 2;
    }

    private static List<(string Id, double SimSeconds, Func<object> Evaluate)> Load(string directory, string reference)
    {
        var context = new BuildContext(directory);
        var bench = context.LoadFromAssemblyPath(Path.Combine(directory, "Tandem.Benchmarks.dll"));
        var core = context.LoadFromAssemblyPath(Path.Combine(directory, "Tandem.Core.dll"));
        var rowType = bench.GetType("Tandem.Benchmarks.ScaleSimReferenceRow", throwOnError: true)!;
        var read = rowType.GetMethod("Read", BindingFlags.Public | BindingFlags.Static)!;
        var evaluate = ModelEvaluate(core);
        var rows = new List<(string, double, Func<object>)>();
        foreach (var row in (System.Collections.IEnumerable)read.Invoke(null, [reference])!)
        {
            object[] arguments = [rowType.GetProperty("Shape")!.GetValue(row)!, rowType.GetProperty("Config")!.GetValue(row)!];
            rows.Add(((string)rowType.GetProperty("Id")!.GetValue(row)!, (double)rowType.GetProperty("SimSeconds")!.GetValue(row)!,
                () => evaluate.Invoke(null, arguments)!));
        }
        return rows;
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine($"--compare-builds: {problem}");
        Console.Error.WriteLine("usage: --compare-builds REFERENCE.csv BUILD_DIR BUILD_DIR [...] [--slices N] [--per-row OUT.csv]");
        return 2;
    }
}
