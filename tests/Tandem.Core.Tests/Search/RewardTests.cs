using Tandem.Core.Configuration;
using Tandem.Core.Objectives;
using Tandem.Core.Search;
using Tandem.Core.Search.Rewards;
using Tandem.Core.Studies;
using static Tandem.Core.Tests.Search.SearchTestKit;

namespace Tandem.Core.Tests.Search;

public class RewardTests
{
    private static TrialOutcome Outcome(double acc, double lat) =>
        TrialOutcome.Complete(new Dictionary<string, double> { ["accuracy"] = acc, ["latency_ms"] = lat });

    private static StrategyContext Ctx(params Constraint[] specs) =>
        new(Separable, [new Objective("accuracy", Direction.Maximize), new Objective("latency_ms", Direction.Minimize)], specs, 0);

    [Fact]
    public void MnasNet_reward_follows_the_paper_formula_on_both_sides_of_the_target()
    {
        var r = RewardFactory.Create(Options("""{"kind": "mnasnet", "target": 10, "alpha": -0.07, "beta": -0.07}"""), Ctx());
        Assert.Equal(0.9 * Math.Pow(0.5, -0.07), r.Compute(Outcome(90, 5)), 12);
        Assert.Equal(0.9 * Math.Pow(2.0, -0.07), r.Compute(Outcome(90, 20)), 12);
        var hard = RewardFactory.Create(Options("""{"kind": "mnasnet", "target": 10, "alpha": 0, "beta": -1}"""), Ctx());
        Assert.Equal(0.9, hard.Compute(Outcome(90, 5)), 12);
        Assert.Equal(0.45, hard.Compute(Outcome(90, 20)), 12);
        Assert.Equal(0, hard.Compute(TrialOutcome.Pruned("spec", new Dictionary<string, double>())));
    }

    [Fact]
    public void Co_exploration_reward_adds_normalised_hardware_slack_and_penalises_pruned_designs()
    {
        var ctx = Ctx(new Constraint("latency_ms", ConstraintOp.LessOrEqual, 10));
        var r = RewardFactory.Create(Options("""{"kind": "co_exploration", "alpha": 0.8}"""), ctx);
        Assert.Equal(0.8 * 0.9 + 0.2 * 0.5, r.Compute(Outcome(90, 5)), 12);
        Assert.Equal(-1, r.Compute(Outcome(90, 12)));
        Assert.Equal(-1, r.Compute(TrialOutcome.Pruned("latency", new Dictionary<string, double> { ["latency_ms"] = 12 })));
    }

    [Fact]
    public void Weighted_sum_defaults_to_the_objectives_and_accepts_explicit_weights()
    {
        Assert.Equal(90 - 5, RewardFactory.Create(null, Ctx()).Compute(Outcome(90, 5)), 12);
        var r = RewardFactory.Create(Options("""{"kind": "weighted_sum", "weights": {"accuracy": 0.01, "latency_ms": -0.1}, "pruned": -3}"""), Ctx());
        Assert.Equal(0.9 - 0.5, r.Compute(Outcome(90, 5)), 12);
        Assert.Equal(-3, r.Compute(TrialOutcome.Failed("nan")));
    }

    [Fact]
    public void Bad_reward_config_names_the_problem()
    {
        Assert.Contains("did you mean 'mnasnet'", Assert.Throws<ConfigException>(() => RewardFactory.Create(Options("""{"kind": "mansnet"}"""), Ctx())).Message);
        Assert.Contains("'target' is required", Assert.Throws<ConfigException>(() => RewardFactory.Create(Options("""{"kind": "mnasnet"}"""), Ctx())).Message);
        Assert.Contains("unknown key 'alfa'", Assert.Throws<ConfigException>(() => RewardFactory.Create(Options("""{"kind": "co_exploration", "alfa": 1}"""), Ctx())).Message);
    }
}
