using Tandem.Core.Configuration;
using Tandem.Core.Objectives;
using Tandem.Core.Search;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;
using Tandem.Torch.Search;

namespace Tandem.Torch.Tests.Search;

public class ReinforceStrategyTests
{
    private static readonly DesignSpace Space = new([
        new CategoricalParameter("a", ["p", "q", "r", "s"]),
        new OrdinalParameter("b", [1, 2, 4, 8, 16]),
        new CategoricalParameter("c", ["x", "y", "z"]),
        new FloatParameter("f", 0, 1),
    ]);

    private static readonly StrategyRegistry Registry = TorchStrategies.Register(BuiltInStrategies.Register(new StrategyRegistry()));

    private static ConfigMap Json(string json) => (ConfigMap)JsonConfigReader.Parse(json, "test.json");

    /// <summary>Score = 1 per matching choice of (a = r, b = 8, c = y) + (1 − |f − 0.9|).</summary>
    private static TrialOutcome Score(Design d) => TrialOutcome.Complete(new Dictionary<string, double>
    {
        ["score"] = (d.GetString("a") == "r" ? 1 : 0) + (d["b"] == 8 ? 1 : 0) + (d.GetString("c") == "y" ? 1 : 0) + 1 - Math.Abs(d["f"] - 0.9),
    });

    private static IStrategy Create(int seed, string json = "{}") =>
        Registry.Create("rl", new StrategyContext(Space, [new Objective("score", Direction.Maximize)], [], seed), Json(json));

    private static List<(Design D, double Score)> Drive(IStrategy s, int rounds, int batch)
    {
        var all = new List<(Design, double)>();
        for (int r = 0; r < rounds; r++)
            foreach (var d in s.Ask(batch))
            {
                var o = Score(d);
                s.Tell(d, o);
                all.Add((d, o.Metrics["score"]));
            }
        return all;
    }

    [Fact]
    public void Same_seed_gives_the_same_designs()
    {
        var a = Drive(Create(3), 20, 2).Select(x => x.D.Key).ToArray();
        var b = Drive(Create(3), 20, 2).Select(x => x.D.Key).ToArray();
        var c = Drive(Create(4), 20, 2).Select(x => x.D.Key).ToArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void The_controller_learns_to_propose_better_designs()
    {
        var history = Drive(Create(1, """{"learning_rate": 0.02}"""), 150, 2);
        double first = history.Take(50).Average(x => x.Score);
        double last = history.TakeLast(50).Average(x => x.Score);
        Assert.True(last > first + 0.8, $"mean score went from {first:F2} to {last:F2}");
        Assert.True(history.TakeLast(50).Count(x => x.D.GetString("a") == "r" && x.D["b"] == 8 && x.D.GetString("c") == "y") >= 25);
    }

    [Fact]
    public void Float_parameters_are_decided_in_bins_and_stay_in_range()
    {
        var designs = Drive(Create(2, """{"float_bins": 4}"""), 10, 3).Select(x => x.D["f"]).Distinct().ToArray();
        Assert.All(designs, f => Assert.Contains(f, new[] { 0.125, 0.375, 0.625, 0.875 }));
    }

    [Fact]
    public void Options_and_rewards_are_bound_from_config_with_clear_errors()
    {
        var e = Assert.Throws<ConfigException>(() => Create(0, """{"learning_rat": 0.1}"""));
        Assert.Contains("did you mean 'learning_rate'", e.Message);
        var r = Assert.Throws<ConfigException>(() => Create(0, """{"reward": {"kind": "mnasnet"}}"""));
        Assert.Contains("target", r.Message);
        var s = Create(0, """{"name": "rl", "reward": {"kind": "mnasnet", "metric": "score", "target": 2, "accuracy": "score"}, "shrinking": {"every": 5}}""");
        Assert.Equal("rl+shrinking", s.Name);
        Drive(s, 5, 2);
    }
}
