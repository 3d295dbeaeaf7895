using System.Collections.Immutable;
using Tandem.Core.Accuracy;
using Tandem.Core.Hardware;
using Tandem.Core.Objectives;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Workloads;

namespace Tandem.Core.Studies;

/// <summary>
/// A co-exploration problem: a network family, an optional accelerator template (none = network-only
/// search), the task the networks are built for, and the hard specs. The design space is the
/// family's <c>arch.*</c> parameters followed by the template's <c>hw.*</c> parameters.
/// </summary>
public sealed class CoExplorationProblem
{
    public CoExplorationProblem(INetworkFamily family, IAcceleratorTemplate? hardware, TaskSpec task,
        IReadOnlyList<Constraint> specs, bool earlyTermination = true)
    {
        Family = family;
        Hardware = hardware;
        Task = task;
        Specs = specs;
        EarlyTermination = earlyTermination;
        Space = new DesignSpace(family.Parameters.Concat(hardware?.Parameters ?? []));
    }

    public INetworkFamily Family { get; }
    public IAcceleratorTemplate? Hardware { get; }
    public TaskSpec Task { get; }
    public IReadOnlyList<Constraint> Specs { get; }

    /// <summary>Stop summing per-layer hardware cost once a latency or energy spec is already broken (SC-NAS).</summary>
    public bool EarlyTermination { get; }

    public DesignSpace Space { get; }

    /// <summary>The family's canonical form of a design (unused choices reset), for de-duplication.</summary>
    public Design Canonicalize(Design design) => Family.Canonicalize(design);

    public Workload Lower(Design design) => Family.Lower(design, Task.Input, Task.NumClasses);

    /// <summary>Cost-model options carrying the latency/energy spec bounds as early-termination budgets.</summary>
    public CostOptions CostOptionsForSpecs(bool perLayer)
    {
        double? latency = null, energy = null;
        if (EarlyTermination)
            foreach (var c in Specs.Where(c => c.Op == ConstraintOp.LessOrEqual))
            {
                if (c.Metric == MetricNames.LatencyMs) latency = Math.Min(latency ?? double.MaxValue, c.Bound * 1e-3);
                if (c.Metric == MetricNames.EnergyMicrojoules) energy = Math.Min(energy ?? double.MaxValue, c.Bound * 1e6);
            }
        return new CostOptions { LatencyBudgetSeconds = latency, EnergyBudgetPicojoules = energy, PerLayer = perLayer };
    }
}

/// <summary>
/// The trial pipeline of DESIGN.md: lower the network, cost it on the accelerator, prune it if a
/// spec is broken (saying which and by how much) before any accuracy is paid for, then ask the
/// accuracy evaluator. Specs on metrics known only after accuracy (e.g. accuracy itself) do not prune;
/// strategies see them as constraint violations.
/// </summary>
public sealed class CoExplorationEvaluator : ITrialEvaluator, IFastEvaluator
{
    public CoExplorationEvaluator(CoExplorationProblem problem, IAccuracyEvaluator? accuracy)
    {
        Problem = problem;
        Accuracy = accuracy;
    }

    public CoExplorationProblem Problem { get; }
    public IAccuracyEvaluator? Accuracy { get; }

    public TrialOutcome EvaluateFast(Design design) => Fast(design, perLayer: false).Outcome;

    private (TrialOutcome Outcome, Workload? Network) Fast(Design design, bool perLayer)
    {
        Workload network;
        try { network = Problem.Lower(design); }
        catch (WorkloadException e)
        {
            return (TrialOutcome.Pruned($"the network cannot exist for a {Problem.Task.Input} input: {e.Message}",
                ImmutableDictionary<string, double>.Empty), null);
        }

        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MetricNames.Macs] = network.TotalMacs,
            [MetricNames.Parameters] = network.TotalParameters,
        };
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Problem.Hardware is { } hw)
        {
            var config = hw.Decode(design);
            var report = hw.CostModel.Evaluate(network, config, Problem.CostOptionsForSpecs(perLayer));
            foreach (var (k, v) in report.ToMetrics()) metrics[k] = v;
            attributes["hardware"] = config.Describe();
            if (report.Truncated) attributes["early_termination"] = report.TruncationReason ?? "budget exceeded";
        }

        var broken = Problem.Specs
            .Where(c => metrics.TryGetValue(c.Metric, out double v) && !c.IsSatisfied(v))
            .Select(c => c.Explain(metrics[c.Metric]))
            .ToArray();
        if (broken.Length > 0)
        {
            string reason = string.Join("; ", broken);
            if (attributes.ContainsKey("early_termination")) reason += " (cost summed only until the budget was exceeded)";
            return (TrialOutcome.Pruned(reason, metrics, attributes), network);
        }
        return (TrialOutcome.Complete(metrics, attributes), network);
    }

    public async Task<TrialOutcome> EvaluateAsync(TrialContext context, CancellationToken cancellationToken = default)
    {
        var (fast, network) = Fast(context.Design, perLayer: false);
        if (fast.State != TrialState.Complete || Accuracy is null || network is null) return fast;

        var metrics = new Dictionary<string, double>(fast.Metrics, StringComparer.Ordinal);
        var attributes = new Dictionary<string, string>(fast.Attributes, StringComparer.Ordinal);
        AccuracyResult result;
        try
        {
            result = await Accuracy.EvaluateAsync(new AccuracyRequest
            {
                Design = context.Design,
                Network = network,
                Seed = context.Seed,
                TrialNumber = context.Number,
                Study = context.Study,
                Log = context.Log,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (AccuracyEvaluationException e)
        {
            return TrialOutcome.Failed($"{Accuracy.Fidelity}: {e.Message}", metrics);
        }
        foreach (var (k, v) in result.Metrics) metrics[k] = v;
        metrics[MetricNames.AccuracySeconds] = result.Seconds;
        metrics[MetricNames.AccuracyEpochs] = result.Epochs;
        attributes["fidelity"] = result.Fidelity;
        foreach (var (k, v) in result.Attributes) attributes[k] = v;
        return TrialOutcome.Complete(metrics, attributes);
    }

}
