using Tandem.Core.Accuracy.Tabular;
using Tandem.Core.Benchmarking;
using Tandem.Core.Configuration;
using Tandem.Core.Spaces;
using Tandem.Core.Tests.Studies;
using Tandem.Core.Workloads;
using Tandem.Testing;
using static Tandem.Core.Tests.Search.SearchTestKit;

namespace Tandem.Core.Tests.Benchmarking;

public class CodesignBenchmarkTests
{
    /// <summary>Two choices: width (8, 16, 32) and depth (1, 2); key "w8-d1" etc.</summary>
    private sealed class TinyFamily : ITableKeyedFamily
    {
        public string Name => "tiny";
        public IReadOnlyList<Parameter> Parameters { get; } = [new OrdinalParameter("arch.width", [8, 16, 32]), new OrdinalParameter("arch.depth", [1, 2])];
        public string TableKey(Design d) => $"w{d.GetInt("arch.width")}-d{d.GetInt("arch.depth")}";

        public Workload Lower(Design design, TensorShape input, int numClasses)
        {
            var b = new WorkloadBuilder("tiny", input);
            for (int i = 0; i < design.GetInt("arch.depth"); i++) b.Conv(design.GetInt("arch.width"), 3);
            b.Dense(numClasses);
            return b.Build();
        }
    }

    [Fact]
    public async Task Enumerates_every_pair_finds_the_exact_front_and_compares_the_three_ways_of_searching()
    {
        using var dir = new TempDirectory();
        var path = dir.File("acc.csv");
        // accuracy grows with MACs, so every network is on the (accuracy, latency, energy) front on the fastest hardware
        File.WriteAllText(path, "key,acc\nw8-d1,60\nw16-d1,65\nw32-d1,70\nw8-d2,75\nw16-d2,80\nw32-d2,85\n");
        var options = new CodesignBenchmarkOptions
        {
            Family = new TinyFamily(),
            Table = MetricTable.Load([path], "key"),
            AccuracyColumn = "acc",
            Input = new TensorShape(1, 8, 8),
            Hardware = new ToyTemplate(),
            Strategies = [new BenchmarkStrategy("exhaustive", ConfigMap.Empty("exhaustive"))],
            Budget = 18,
            Seeds = 1,
            Threads = 2,
        };
        var bench = new CodesignBenchmark(options, Registry);
        var modes = await bench.RunAsync();

        Assert.Equal(6 * 3, bench.Enumeration.Pairs);
        var exact = modes["joint"].Exact;
        Assert.Equal(6, exact.Size);
        Assert.All(exact.Members, m => Assert.EndsWith("hw.speed=100", m.Key));
        Assert.Equal("hw.speed=100", bench.FixedHardware);

        var joint = modes["joint"].Strategies[0].Runs[0];
        Assert.Equal(1, joint.FrontFraction[^1]);
        Assert.Equal(1, joint.HypervolumeRatio[^1], 12);
        // hardware-first on the best fixed hardware finds the front after the 6 networks
        var hwFirst = modes["hardware-first"].Strategies[0].Runs[0];
        Assert.Equal(1, hwFirst.FrontFraction[5]);
        // network-first searches networks alone (exhaustive ends after the 6 networks, before half the budget),
        // then sizes hardware for the chosen networks, most accurate first, all 3 configurations each
        var netFirst = modes["network-first"].Strategies[0].Runs[0];
        Assert.Equal(0, netFirst.FrontFraction[5]);
        Assert.Equal(1.0 / 6, netFirst.FrontFraction[8], 12);
        Assert.Equal(4.0 / 6, netFirst.FrontFraction[^1], 12);
    }
}
