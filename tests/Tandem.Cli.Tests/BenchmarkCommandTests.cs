using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Tandem.Core.Benchmarking;
using Tandem.Core.Spaces.Families;

namespace Tandem.Cli.Tests;

public class BenchmarkCommandTests
{
    /// <summary>A synthetic table of all 15,625 NB201 cells: accuracy and latency grow with the convolutions.</summary>
    private static string Table(CliHarness cli)
    {
        var sb = new StringBuilder("arch_str,acc,lat_ms\n");
        foreach (var d in TabularSpace.Create("nb201").Space.Enumerate())
        {
            var ops = Nb201Family.Edges.Select(e => d.GetString(Nb201Family.ParameterName(e.To, e.From))).ToArray();
            double acc = 40 + ops.Select((o, i) => o switch { "nor_conv_3x3" => 7.0 + i, "nor_conv_1x1" => 4.0, "skip_connect" => 1.5, _ => 0.5 }).Sum();
            double lat = 1 + ops.Select((o, i) => o switch { "nor_conv_3x3" => 9.0 + i * 0.3, "nor_conv_1x1" => 1.0 + i * 0.1, "avg_pool_3x3" => 0.2, _ => 0 }).Sum();
            sb.Append(CultureInfo.InvariantCulture, $"{Nb201Family.ArchString(d)},{acc:R},{lat:R}\n");
        }
        return cli.Write("table.csv", sb.ToString());
    }

    [Fact]
    public async Task Tabular_benchmark_writes_the_summary_curves_and_plots()
    {
        using var cli = new CliHarness();
        var table = Table(cli);
        int code = await cli.Run("benchmark", "tabular", "--space", "nb201", "--table", table, "--maximize", "acc", "--minimize", "lat_ms",
            "--strategies", "random,nsga2", "--budget", "20", "--seeds", "2", "--out", "bench");
        Assert.True(code == 0, cli.Err.ToString());
        var summary = JsonNode.Parse(File.ReadAllText(cli.Dir.File("bench/summary.json")))!;
        foreach (var s in new[] { "random", "nsga2" })
        {
            Assert.InRange((double)summary["strategies"]![s]!["hypervolume_ratio"]!["mean"]!, 0, 1);
            Assert.NotNull(summary["strategies"]![s]!["front_fraction"]!["std"]);
        }
        Assert.Contains("--strategies random,nsga2", (string)summary["command"]!);
        Assert.True(File.Exists(cli.Dir.File("bench/curves.csv")));
        Assert.True(new FileInfo(cli.Dir.File("bench/hypervolume_ratio.png")).Length > 1000);
        Assert.True(File.Exists(cli.Dir.File("bench/front_fraction.png")));
        Assert.Contains("nsga2", cli.Out.ToString());
    }

    [Theory]
    [InlineData("--constraint", "lat_ms<<3", "is not a constraint")]
    [InlineData("--strategies", "random,nsgaii", "did you mean 'nsga2'")]
    [InlineData("--maximize", "accuracy", "no column 'accuracy'")]
    [InlineData("--space", "nb101", "unknown tabular space 'nb101'")]
    public async Task Bad_flags_exit_with_code_2_and_one_clear_message(string flag, string value, string expected)
    {
        using var cli = new CliHarness();
        var table = cli.Write("t.csv", "arch_str,acc,lat_ms\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10,1\n");
        var args = new List<string> { "benchmark", "tabular", "--space", "nb201", "--table", table, "--maximize", "acc", "--minimize", "lat_ms", "--budget", "2", "--seeds", "1", "--out", "o" };
        int at = args.IndexOf(flag);
        if (at >= 0) args[at + 1] = value; else args.AddRange([flag, value]);
        Assert.Equal(2, await cli.Run([.. args]));
        Assert.Contains(expected, cli.Err.ToString());
    }
}
