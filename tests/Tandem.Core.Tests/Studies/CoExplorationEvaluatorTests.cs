using Tandem.Core.Objectives;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Studies;

namespace Tandem.Core.Tests.Studies;

public class CoExplorationEvaluatorTests
{
    private static (CoExplorationEvaluator Evaluator, ToyAccuracy Accuracy) Make(params string[] specs)
    {
        var accuracy = new ToyAccuracy();
        var problem = new CoExplorationProblem(new PlainCnnFamily(), new ToyTemplate(), accuracy.Task, specs.Select(Constraint.Parse).ToArray());
        return (new CoExplorationEvaluator(problem, accuracy), accuracy);
    }

    private static Design Pick(DesignSpace space, int speed) => space.Sample(new Random(11)).With("hw.speed", speed);

    [Fact]
    public async Task Designs_breaking_a_hardware_spec_are_pruned_before_training_with_the_reason()
    {
        var (ev, acc) = Make("latency_ms<=0.01");
        var slow = Pick(ev.Problem.Space, 1);
        var outcome = await ev.EvaluateAsync(new TrialContext { Number = 0, Design = slow, Seed = 1 });
        Assert.Equal(TrialState.Pruned, outcome.State);
        Assert.Contains("latency_ms =", outcome.Reason);
        Assert.Contains("exceeds the spec ≤ 0.01 ms", outcome.Reason);
        Assert.Equal(0, acc.Calls);
        Assert.True(outcome.Metrics.ContainsKey("latency_ms"));
    }

    [Fact]
    public async Task Designs_meeting_the_specs_are_trained_and_carry_all_metrics()
    {
        var (ev, acc) = Make("latency_ms<=1000");
        var outcome = await ev.EvaluateAsync(new TrialContext { Number = 0, Design = Pick(ev.Problem.Space, 100), Seed = 1 });
        Assert.Equal(TrialState.Complete, outcome.State);
        Assert.Equal(1, acc.Calls);
        foreach (var m in new[] { "accuracy", "latency_ms", "energy_uj", "area_mm2", "macs", "params", "accuracy_seconds", "accuracy_epochs" })
            Assert.True(outcome.Metrics.ContainsKey(m), m);
        Assert.Equal("toy", outcome.Attributes["fidelity"]);
    }

    [Fact]
    public void Early_termination_prunes_exactly_what_a_full_evaluation_prunes()
    {
        var accuracy = new ToyAccuracy();
        var specs = new[] { Constraint.Parse("latency_ms<=0.05") };
        var early = new CoExplorationEvaluator(new CoExplorationProblem(new PlainCnnFamily(), new ToyTemplate(), accuracy.Task, specs, earlyTermination: true), null);
        var full = new CoExplorationEvaluator(new CoExplorationProblem(new PlainCnnFamily(), new ToyTemplate(), accuracy.Task, specs, earlyTermination: false), null);
        var rng = new Random(3);
        int truncated = 0;
        for (int i = 0; i < 200; i++)
        {
            var d = early.Problem.Space.Sample(rng);
            var a = early.EvaluateFast(d);
            var b = full.EvaluateFast(d);
            Assert.Equal(b.State, a.State);
            if (a.Attributes.ContainsKey("early_termination")) truncated++;
            else Assert.Equal(b.Metrics["latency_ms"], a.Metrics["latency_ms"]);
        }
        Assert.True(truncated > 0);
    }
}
