using System.Globalization;
using System.Text;
using Tandem.Core.Accuracy.Tabular;
using Tandem.Core.Benchmarking;
using Tandem.Core.Objectives;
using Tandem.Core.Search;
using Tandem.Core.Spaces.Families;
using Tandem.Testing;
using static Tandem.Core.Tests.Search.SearchTestKit;

namespace Tandem.Core.Tests.Benchmarking;

public class TabularBenchmarkTests
{
    /// <summary>A synthetic NB201 table: accuracy rises with convolutions and falls with "none" edges, latency counts convolutions.</summary>
    private static string SyntheticTable(TempDirectory dir)
    {
        var space = TabularSpace.Create("nb201").Space;
        var sb = new StringBuilder("arch_str,acc,lat_ms\n");
        foreach (var d in space.Enumerate())
        {
            var ops = Nb201Family.Edges.Select(e => d.GetString(Nb201Family.ParameterName(e.To, e.From))).ToArray();
            double acc = 50 + ops.Select((o, i) => o switch { "nor_conv_3x3" => 6.0 + i, "nor_conv_1x1" => 4.0 + i * 0.5, "skip_connect" => 2.0, "avg_pool_3x3" => 1.0, _ => 0 }).Sum();
            double lat = 1 + ops.Select((o, i) => o switch { "nor_conv_3x3" => 9.0 + i * 0.1, "nor_conv_1x1" => 1.0 + i * 0.05, "avg_pool_3x3" => 0.3, _ => 0 }).Sum();
            sb.Append(Nb201Family.ArchString(d)).Append(',').Append(acc.ToString("R", CultureInfo.InvariantCulture)).Append(',').Append(lat.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
        var path = dir.File("synthetic.csv");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private static TabularBenchmarkOptions Options(string table, string[] strategies, int budget, int seeds, params Constraint[] constraints) => new()
    {
        Space = TabularSpace.Create("nb201"),
        Table = MetricTable.Load([table], "arch_str"),
        Objectives = [new Objective("acc", Direction.Maximize), new Objective("lat_ms", Direction.Minimize)],
        Constraints = constraints,
        Strategies = strategies.Select(s => new BenchmarkStrategy(s, Tandem.Core.Configuration.ConfigMap.Empty(s))).ToArray(),
        Budget = budget,
        Seeds = seeds,
    };

    [Fact]
    public async Task Exhaustive_search_of_the_whole_table_finds_the_whole_front()
    {
        using var dir = new TempDirectory();
        var result = await new TabularBenchmark(Options(SyntheticTable(dir), ["exhaustive"], 15625, 1), Registry).RunAsync();
        var runs = result.Strategies[0].Runs;
        Assert.Equal(1, runs[0].HypervolumeRatio[^1], 12);
        Assert.Equal(1, runs[0].FrontFraction[^1]);
        Assert.Equal(result.Exact.Size, runs[0].FrontFound);
    }

    [Fact]
    public async Task Curves_are_monotone_the_constraint_shapes_the_front_and_the_summary_has_the_documented_fields()
    {
        using var dir = new TempDirectory();
        var table = SyntheticTable(dir);
        var unconstrained = await new TabularBenchmark(Options(table, ["random"], 40, 1), Registry).RunAsync();
        var options = Options(table, ["random", "nsga2"], 60, 3, new Constraint("lat_ms", ConstraintOp.LessOrEqual, 20));
        var result = await new TabularBenchmark(options, Registry).RunAsync();
        Assert.All(result.Exact.Members, m => Assert.True(m.Vector[1] <= 20));
        Assert.NotEqual(unconstrained.Exact.Size, result.Exact.Size);
        foreach (var s in result.Strategies)
        {
            Assert.Equal(3, s.Runs.Count);
            Assert.Equal([0, 1, 2], s.Runs.Select(r => r.Seed));
            foreach (var r in s.Runs)
                for (int k = 1; k < r.HypervolumeRatio.Length; k++)
                {
                    Assert.True(r.HypervolumeRatio[k] >= r.HypervolumeRatio[k - 1]);
                    Assert.True(r.FrontFraction[k] >= r.FrontFraction[k - 1]);
                    Assert.InRange(r.HypervolumeRatio[k], 0, 1 + 1e-12);
                }
        }
        var json = BenchmarkReport.Summary(result, new System.Text.Json.Nodes.JsonObject { ["benchmark"] = "tabular" });
        var nsga = json["strategies"]!["nsga2"]!;
        Assert.Null(nsga["membership_forecasts"]); // NSGA-II makes no forecasts
        var (mean, std) = StrategyResult.MeanStd(result.Strategies[1].Runs.Select(r => r.HypervolumeRatio[^1]).ToArray());
        Assert.Equal(mean, (double)nsga["hypervolume_ratio"]!["mean"]!, 12);
        Assert.Equal(std, (double)nsga["hypervolume_ratio"]!["std"]!, 12);
        Assert.NotNull(nsga["front_fraction"]!["mean"]);
        Assert.NotNull(nsga["front_fraction"]!["std"]);
        Assert.Equal(60, (int)json["budget"]!);
        var csv = BenchmarkReport.CurvesCsv(result).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1 + 2 * 60, csv.Length);

        // evaluations.csv: one row per evaluation of every run; its member flags add up to each run's count
        var rows = BenchmarkReport.EvaluationsCsv(result).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => l.Split(',')).ToArray();
        Assert.Equal(2 * 3 * 60, rows.Length);
        foreach (var s in result.Strategies)
            foreach (var r in s.Runs)
            {
                var mine = rows.Where(x => x[0] == s.Label && x[1] == r.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                Assert.Equal(Enumerable.Range(1, 60).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), mine.Select(x => x[2]));
                Assert.Equal(r.FrontFound, mine.Count(x => x[4] == "1"));
                Assert.Equal(60, mine.Select(x => x[3]).Distinct().Count());
                Assert.All(mine, x => Assert.Equal("", x[5])); // random and NSGA-II make no membership forecasts
            }
        await BenchmarkReport.WriteAsync(result, [], dir.Path);
        Assert.True(File.Exists(Path.Combine(dir.Path, "evaluations.csv")));
    }

    [Fact]
    public async Task Membership_forecasts_are_written_beside_the_evaluations_they_chose()
    {
        using var dir = new TempDirectory();
        var config = Tandem.Core.Tests.Search.SearchTestKit.Options("""{"name": "bo", "acquisition": "membership", "initial": 8, "membership_draws": 8, "membership_pool": 200}""");
        var options = Options(SyntheticTable(dir), [], 30, 1) with { Strategies = [new BenchmarkStrategy("bo-member", config)] };
        var result = await new TabularBenchmark(options, Registry).RunAsync();
        var run = result.Strategies[0].Runs[0];
        Assert.Equal(30, run.Forecasts.Count);
        Assert.All(run.Forecasts.Take(8), f => Assert.Null(f)); // the initial random designs
        Assert.All(run.Forecasts.Skip(8), f => Assert.InRange(f!.Value, 0, 1));
        Assert.Contains(run.Forecasts, f => f > 0);
        var rows = BenchmarkReport.EvaluationsCsv(result).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("strategy,seed,evaluation,design,exact_front_member,predicted_member_probability", rows[0]);
        var written = rows.Skip(1).Select(l => l.Split(',')[5]).ToArray();
        Assert.Equal(run.Forecasts.Select(f => f is double p ? p.ToString("R", CultureInfo.InvariantCulture) : ""), written);

        // summary.json: the forecasts' sum against the members among the forecast designs, and per band
        var summary = BenchmarkReport.Summary(result, [])["strategies"]!["bo-member"]!["membership_forecasts"]!;
        var forecast = run.Keys.Zip(run.Forecasts).Where(x => x.Second is not null).ToList();
        Assert.Equal(22, (int)summary["evaluations"]!);
        Assert.Equal(forecast.Sum(x => x.Second!.Value), (double)summary["members_expected"]!, 12);
        Assert.Equal(forecast.Count(x => result.Exact.Keys.Contains(x.First)), (int)summary["members_found"]!);
        var bands = summary["bands"]!.AsArray();
        Assert.Equal(22, bands.Sum(b => (int)b!["evaluations"]!));
        Assert.Equal(0, (double)bands[0]!["from"]!);
        Assert.Equal(1, (double)bands[^1]!["to"]!);
        foreach (var b in bands)
            if ((int)b!["evaluations"]! > 0)
                Assert.InRange((double)b["mean_forecast"]!, (double)b["from"]!, (double)b["to"]!);
    }

    [Fact]
    public async Task A_table_row_that_is_not_a_design_of_the_space_is_an_input_error()
    {
        using var dir = new TempDirectory();
        var path = dir.File("bad.csv");
        File.WriteAllText(path, "arch_str,acc,lat_ms\n|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|,1,2\n");
        var e = await Assert.ThrowsAsync<TableException>(() => new TabularBenchmark(Options(path, ["random"], 5, 1), Registry).RunAsync());
        Assert.Contains("is not a design of the nb201 space", e.Message);
    }
}
