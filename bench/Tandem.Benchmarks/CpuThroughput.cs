using System.Diagnostics;
using System.Globalization;
using Tandem.Core.Hardware;
using Tandem.Core.Hardware.Systolic;
using Tandem.Core.Workloads;

namespace Tandem.Benchmarks;

/// <summary>
/// The workloads of <see cref="SystolicBenchmarks"/>, timed by process CPU time instead of wall time,
/// so that other work on a shared machine does not inflate them. Single-threaded: the CPU time of
/// the process is the time of the one thread doing the work (plus a little runtime housekeeping,
/// which makes these figures conservative).
/// </summary>
internal static class CpuThroughput
{
    public static int Run()
    {
        var b = new SystolicBenchmarks();
        b.Setup();
        Measure("edge-CNN layer (4 layers × 9 arrays)", 36, () => b.EdgeCnnLayer());
        Measure("MobileNetV1 layer, cold (28 layers × 9 arrays)", 28 * 9, () => b.MobileNetLayer());
        Measure("ResNet-50 network, cold (9 arrays)", 9, () => b.ResNet50Sweep());
        Measure("MobileNetV1 network, cold (9 arrays)", 9, () => b.MobileNetV1Sweep());
        Measure("ResNet-50 network, memoised (9 arrays)", 9, () => b.ResNet50SweepMemoised());
        return 0;
    }

    private static void Measure(string name, int operations, Func<object> body)
    {
        var proc = Process.GetCurrentProcess();
        // Warm up for a second (at least three calls): the tiered JIT compiles the hot methods on a background thread
        // whose CPU time would otherwise be counted (measured on a 2-core machine: 3 calls left much of it in the timing).
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 3 || warm.ElapsedMilliseconds < 1000; i++) body();
        proc.Refresh();
        var t0 = proc.TotalProcessorTime;
        long n = 0;
        TimeSpan elapsed;
        do
        {
            body();
            n++;
            proc.Refresh();
            elapsed = proc.TotalProcessorTime - t0;
        } while (elapsed.TotalSeconds < 3);
        double perOp = elapsed.TotalSeconds / (n * operations);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {perOp * 1e6:0.###} µs | {1 / perOp:N0} /s |"));
    }
}
