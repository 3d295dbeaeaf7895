using System.Diagnostics;
using System.Globalization;
using Tandem.Core.Hardware.Systolic;

namespace Tandem.Benchmarks;

/// <summary>
/// Times the model on every row of the SCALE-Sim v2 reference data (the same layer, array and
/// dataflow) and divides SCALE-Sim's recorded simulation wall time by it. After a warm-up of three
/// passes over all rows (tiered JIT), each row is repeated until at least 20 ms of CPU time has
/// passed on this thread's process; times are CPU times, so a machine shared with other work does
/// not inflate them.
/// </summary>
internal static class ScaleSimSpeedup
{
    public static int Run(string? path, string? perRowPath = null)
    {
        path ??= Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/reference/scalesim/scalesim_v2_reference.csv"));
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"reference file not found: {path}");
            return 2;
        }
        var proc = Process.GetCurrentProcess();
        var cases = ScaleSimReferenceRow.Read(path).Select(r => (r.Id, r.Mode, r.SimSeconds, r.Shape, r.Config)).ToList();
        // Warm-up: passes over every row for at least three passes and two seconds, then a pause and one more pass,
        // so that the tiered JIT has optimised every code path before any row is timed. Its background compiler's
        // CPU time counts in the process's: with three passes alone, recompilations still running while the first
        // rows (AlexNet's) were timed added up to 2× to them.
        void Pass()
        {
            foreach (var k in cases)
                for (int i = 0; i < 16; i++) SystolicModel.Evaluate(k.Shape, k.Config);
        }
        var warm = Stopwatch.StartNew();
        for (int pass = 0; pass < 3 || warm.ElapsedMilliseconds < 2000; pass++) Pass();
        Thread.Sleep(500);
        Pass();
        // Each row in windows of at least 20 ms of process CPU time, the fastest window kept. Process CPU time also counts
        // the runtime's own threads: a garbage collection that falls in a row's window charges that row with the cost of
        // the allocations of all rows before it, and as allocations repeat run after run it falls on the same row
        // every run (one row measured 15 µs in one build and 45–55 µs in every run of another that did not change its
        // path). So a window during which a collection ran is measured again, up to four more times.
        var rows = new List<(string Id, string Mode, double SimSeconds, double OurSeconds)>();
        foreach (var (id, mode, sim, shape, config) in cases)
        {
            double best = double.MaxValue;
            for (int window = 0; window < 5; window++)
            {
                int collections = GC.CollectionCount(0);
                proc.Refresh();
                var t0 = proc.TotalProcessorTime;
                long n = 0;
                TimeSpan elapsed;
                do
                {
                    for (int i = 0; i < 16; i++) SystolicModel.Evaluate(shape, config);
                    n += 16;
                    proc.Refresh();
                    elapsed = proc.TotalProcessorTime - t0;
                } while (elapsed.TotalMilliseconds < 20);
                best = Math.Min(best, elapsed.TotalSeconds / n);
                if (GC.CollectionCount(0) == collections) break;
            }
            rows.Add((id, mode, sim, best));
        }

        if (perRowPath is not null)
            File.WriteAllLines(perRowPath, rows.Select(r => string.Create(CultureInfo.InvariantCulture,
                $"{r.Id},{r.Mode},{r.SimSeconds},{r.OurSeconds * 1e6:0.000},{r.SimSeconds / r.OurSeconds:0}")).Prepend("row,mode,scalesim_s,tandem_us,speedup"));
        void Summary(string label, IReadOnlyList<(string Id, string Mode, double SimSeconds, double OurSeconds)> set)
        {
            if (set.Count == 0) return;
            var ratios = set.Select(r => r.SimSeconds / r.OurSeconds).OrderBy(x => x).ToList();
            double geo = Math.Exp(ratios.Average(Math.Log));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {label} | {set.Count} | {set.Sum(r => r.SimSeconds):0.0} s | {set.Sum(r => r.OurSeconds) * 1e3:0.000} ms | {ratios[0]:0} | {ratios[ratios.Count / 2]:0} | {geo:0} | {set.Count(r => r.SimSeconds / r.OurSeconds >= 1e5)} | {set.Count / set.Sum(r => r.OurSeconds):0} |"));
        }
        Console.WriteLine("| rows | n | SCALE-Sim total | Tandem total (CPU) | min speed-up | median | geometric mean | rows ≥ 100,000× | layer evals/s (CPU) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        Summary("all", rows);
        Summary("CALC", rows.Where(r => r.Mode == "CALC").ToList());
        Summary("USER", rows.Where(r => r.Mode == "USER").ToList());
        Console.WriteLine();
        Console.WriteLine("Slowest five rows, then the eight CALC rows with the lowest speed-up (Tandem CPU time per evaluation):");
        foreach (var r in rows.OrderByDescending(r => r.OurSeconds).Take(5).Concat(rows.Where(r => r.Mode == "CALC").OrderBy(r => r.SimSeconds / r.OurSeconds).Take(8)))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {r.Id}: {r.OurSeconds * 1e6:0.0} µs vs SCALE-Sim {r.SimSeconds:0.00} s ({r.SimSeconds / r.OurSeconds:0}×)"));
        return 0;
    }
}
