using Tandem.Core.Accuracy;
using Tandem.Core.Configuration;
using Tandem.Core.Objectives;
using Tandem.Core.Search;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Studies;
using Tandem.Core.Tests.Studies;
using static Tandem.Core.Tests.Search.SearchTestKit;

namespace Tandem.Core.Tests.Search;

public class ModifierTests
{
    private static readonly PlainCnnFamily Family = new(new PlainCnnOptions { Stages = 2, Layers = [1, 2], Channels = [8, 32], Kernels = [3], Pooling = ["max"] });

    private static (CoExplorationProblem Problem, CoExplorationEvaluator Evaluator, ToyAccuracy Accuracy) Problem(double latencyMs, bool early = true)
    {
        var accuracy = new ToyAccuracy();
        var problem = new CoExplorationProblem(Family, new ToyTemplate(), accuracy.Task, [new Constraint(MetricNames.LatencyMs, ConstraintOp.LessOrEqual, latencyMs)], early);
        return (problem, new CoExplorationEvaluator(problem, accuracy), accuracy);
    }

    private static StrategyContext Context(CoExplorationProblem p, CoExplorationEvaluator e, int seed = 1) =>
        new(p.Space, [new Objective("accuracy", Direction.Maximize), new Objective(MetricNames.LatencyMs, Direction.Minimize)], p.Specs, seed) { FastEvaluator = e };

    [Fact]
    public async Task Two_level_tunes_hardware_to_meet_specs_and_never_pays_accuracy_for_hopeless_networks()
    {
        // Latency = MACs / speed ns. Find a spec that some networks meet only on the fastest hardware and some never.
        var (probe, probeEval, _) = Problem(1e9);
        var fast = probe.Space.Enumerate().Where(d => d.GetInt("hw.speed") == 100).Select(d => probeEval.EvaluateFast(d).Metrics[MetricNames.LatencyMs]).Order().ToArray();
        double spec = fast[fast.Length / 2];
        var (problem, evaluator, accuracy) = Problem(spec);
        var ctx = Context(problem, evaluator);
        var strategy = Create("random", ctx, """{"two_level": {"hw_evaluations": 10}}""");
        var (trials, _, storage) = await Run(ctx, strategy, evaluator, 20);

        Assert.NotEmpty(trials);
        Assert.All(trials, t => Assert.Equal(TrialState.Complete, t.State)); // nothing hopeless reached the runner
        Assert.All(trials, t => Assert.True(t.Metric(MetricNames.LatencyMs) <= spec));
        Assert.Equal(trials.Count, accuracy.Calls);
        // among hardware meeting the spec the tuner keeps the lowest latency (the only hardware objective): speed 100
        Assert.All(trials, t => Assert.Equal("100", t.Params["hw.speed"]));
        var dropped = (await storage.GetEventsAsync("s")).Where(e => e.Kind == "two-level-pruned").ToArray();
        Assert.NotEmpty(dropped);
        Assert.Contains("meets the specs", dropped[0].Message);
    }

    [Fact]
    public void Two_level_needs_a_fast_evaluator()
    {
        var (problem, _, _) = Problem(1);
        var ctx = new StrategyContext(problem.Space, [new Objective("accuracy", Direction.Maximize)], problem.Specs, 0);
        var e = Assert.Throws<ConfigException>(() => Create("nsga2", ctx, """{"two_level": true}"""));
        Assert.Contains("accelerator template", e.Message);
    }

    [Fact]
    public void Early_termination_prunes_exactly_the_designs_a_full_evaluation_prunes()
    {
        var (probe, probeEval, _) = Problem(1e9);
        var all = probe.Space.Enumerate().ToArray();
        var latencies = all.Select(d => probeEval.EvaluateFast(d).Metrics[MetricNames.LatencyMs]).Order().ToArray();
        foreach (double spec in new[] { latencies[latencies.Length / 4], latencies[latencies.Length / 2], latencies[3 * latencies.Length / 4] })
        {
            var (_, early, _) = Problem(spec, early: true);
            var (_, full, _) = Problem(spec, early: false);
            int truncated = 0;
            foreach (var d in all)
            {
                var a = early.EvaluateFast(d);
                var b = full.EvaluateFast(d);
                Assert.Equal(b.State, a.State);
                if (a.Attributes.ContainsKey("early_termination")) truncated++;
                if (a.State == TrialState.Complete) Assert.Equal(b.Metrics[MetricNames.LatencyMs], a.Metrics[MetricNames.LatencyMs]);
            }
            Assert.True(truncated > 0, "the spec should cut some evaluations short");
        }
    }

    [Fact]
    public async Task Shrinking_drops_values_the_best_designs_do_not_use_records_it_and_repairs_proposals()
    {
        var ctx = new StrategyContext(Separable, [new Objective("loss", Direction.Minimize)], [], 9);
        var strategy = Create("random", ctx, """{"shrinking": {"every": 40, "keep_top": 0.1, "min_designs": 4}}""");
        var (trials, _, storage) = await Run(ctx, strategy, new Evaluator(SeparableValue), 120);
        var events = (await storage.GetEventsAsync("s")).Where(e => e.Kind == "space-shrunk").ToArray();
        Assert.NotEmpty(events);
        Assert.Contains("lost", events[0].Message);
        Assert.NotNull(events[0].DataJson);
        // after the first shrink the proposals concentrate: fewer distinct x0 values than before
        int before = trials.Take(40).Select(t => t.Params["x0"]).Distinct().Count();
        int after = trials.Skip(60).Select(t => t.Params["x0"]).Distinct().Count();
        Assert.True(after < before, $"{after} distinct x0 values after shrinking vs {before} before");
        // and the optimum's value of every parameter survives (the best designs use them)
        Assert.All(trials.Skip(60), t => Assert.True(Math.Abs(double.Parse(t.Params["x0"]) - SeparableTarget[0]) <= 4));
    }

    [Fact]
    public async Task A_modifier_that_repairs_into_duplicates_still_never_pays_twice()
    {
        var ctx = new StrategyContext(Separable, [new Objective("loss", Direction.Minimize)], [], 3);
        var strategy = Create("evolution", ctx, """{"shrinking": {"every": 10, "keep_top": 0.05, "min_designs": 1}}""");
        var eval = new Evaluator(SeparableValue);
        await Run(ctx, strategy, eval, 80, workers: 3);
        Assert.All(eval.PerKey.Values, n => Assert.Equal(1, n));
    }
}
