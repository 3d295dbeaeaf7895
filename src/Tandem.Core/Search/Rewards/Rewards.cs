using Tandem.Core.Configuration;
using Tandem.Core.Objectives;
using Tandem.Core.Studies;

namespace Tandem.Core.Search.Rewards;

/// <summary>
/// Turns a trial outcome into the scalar a reinforcement-learning controller maximises. Pure and
/// thread-safe. Outcomes without the metrics a reward needs (pruned, failed) get <see cref="PrunedReward"/>.
/// </summary>
public interface IReward
{
    string Name { get; }

    double Compute(TrialOutcome outcome);

    /// <summary>The reward of a pruned or failed design.</summary>
    double PrunedReward { get; }
}

/// <summary>
/// Σ wᵢ·metricᵢ over configured metrics (a metric to minimise gets a negative weight). Pruned or
/// failed designs, or outcomes missing a weighted metric, get <see cref="PrunedReward"/>.
/// </summary>
public sealed record WeightedSumReward(IReadOnlyDictionary<string, double> Weights, double PrunedReward = 0) : IReward
{
    public string Name => "weighted_sum";

    public double Compute(TrialOutcome outcome)
    {
        if (outcome.State != TrialState.Complete) return PrunedReward;
        double r = 0;
        foreach (var (metric, w) in Weights)
        {
            if (!outcome.Metrics.TryGetValue(metric, out double v) || !double.IsFinite(v)) return PrunedReward;
            r += w * v;
        }
        return r;
    }
}

/// <summary>
/// MnasNet's soft-constrained reward (Tan et al. 2019): ACC · (LAT / TARGET)^w with w = α when
/// LAT ≤ TARGET and β otherwise. α = 0, β = −1 is a hard-ish constraint; α = β = −0.07 the soft
/// default of the paper. <see cref="AccuracyScale"/> divides the accuracy metric (100 turns percent
/// into a fraction). TARGET &gt; 0, in the unit of the metric.
/// </summary>
public sealed record MnasNetReward(string AccuracyMetric, string CostMetric, double Target, double Alpha, double Beta,
    double AccuracyScale = 100, double PrunedReward = 0) : IReward
{
    public string Name => "mnasnet";

    public double Compute(TrialOutcome outcome)
    {
        if (outcome.State != TrialState.Complete) return PrunedReward;
        if (!outcome.Metrics.TryGetValue(AccuracyMetric, out double acc) || !outcome.Metrics.TryGetValue(CostMetric, out double cost)
            || !double.IsFinite(acc) || !double.IsFinite(cost) || cost <= 0) return PrunedReward;
        double w = cost <= Target ? Alpha : Beta;
        return acc / AccuracyScale * Math.Pow(cost / Target, w);
    }
}

/// <summary>
/// The hardware/software co-exploration reward (after Jiang et al. 2020, and NASAIC's spec-aware
/// variant): R = α·ACC/scale + (1 − α)·mean over the specs of the normalised hardware efficiency
/// clip((spec − value)/spec, −1, 1) (positive when a design has slack under a "≤" spec; mirrored
/// for "≥" specs). A design that breaks a spec was pruned by the fast exploration and gets
/// <see cref="PrunedReward"/> (−1 by default), as in the papers. Without specs R = α·ACC/scale.
/// </summary>
public sealed record CoExplorationReward(string AccuracyMetric, IReadOnlyList<Constraint> Specs, double Alpha = 0.5,
    double AccuracyScale = 100, double PrunedReward = -1) : IReward
{
    public string Name => "co_exploration";

    public double Compute(TrialOutcome outcome)
    {
        if (outcome.State != TrialState.Complete) return PrunedReward;
        if (!outcome.Metrics.TryGetValue(AccuracyMetric, out double acc) || !double.IsFinite(acc)) return PrunedReward;
        double efficiency = 0;
        int n = 0;
        foreach (var spec in Specs)
        {
            if (!outcome.Metrics.TryGetValue(spec.Metric, out double v) || !double.IsFinite(v)) continue;
            if (!spec.IsSatisfied(v)) return PrunedReward;
            double denom = Math.Abs(spec.Bound) > 0 ? Math.Abs(spec.Bound) : 1;
            double slack = spec.Op == ConstraintOp.LessOrEqual ? (spec.Bound - v) / denom : (v - spec.Bound) / denom;
            efficiency += Math.Clamp(slack, -1, 1);
            n++;
        }
        double hw = n > 0 ? efficiency / n : 0;
        return n > 0 ? Alpha * acc / AccuracyScale + (1 - Alpha) * hw : Alpha * acc / AccuracyScale;
    }
}

/// <summary>
/// Binds a reward from config. Syntax (all under <c>reward:</c>):
/// <c>{ kind: weighted_sum, weights: { accuracy: 1, latency_ms: -0.05 }, pruned: 0 }</c>;
/// <c>{ kind: mnasnet, accuracy: accuracy, metric: latency_ms, target: 5, alpha: -0.07, beta: -0.07, accuracy_scale: 100, pruned: 0 }</c>;
/// <c>{ kind: co_exploration, accuracy: accuracy, alpha: 0.5, accuracy_scale: 100, pruned: -1 }</c> (specs = the study's constraints).
/// Without a reward section the default is a weighted sum of the study's objectives (+1 for maximised, −1 for minimised metrics).
/// </summary>
public static class RewardFactory
{
    public static IReadOnlyList<string> Kinds { get; } = ["weighted_sum", "mnasnet", "co_exploration"];

    public static IReward Create(ConfigMap? config, StrategyContext context)
    {
        if (config is null) return Default(context);
        string kind = config.GetChoice("kind", "weighted_sum", Kinds);
        switch (kind)
        {
            case "weighted_sum":
            {
                config.CheckKeys("kind", "weights", "pruned");
                var weightsMap = config.GetMap("weights");
                if (weightsMap is null) return Default(context) with { PrunedReward = config.GetDouble("pruned", 0) };
                var weights = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var (metric, _) in weightsMap.Entries) weights[metric] = weightsMap.GetDouble(metric, 0);
                if (weights.Count == 0) throw weightsMap.Error("give at least one metric weight, e.g. { accuracy: 1, latency_ms: -0.05 }");
                return new WeightedSumReward(weights, config.GetDouble("pruned", 0));
            }
            case "mnasnet":
            {
                config.CheckKeys("kind", "accuracy", "metric", "target", "alpha", "beta", "accuracy_scale", "pruned");
                double target = config.GetDouble("target", double.NaN, 1e-300);
                if (double.IsNaN(target)) throw new ConfigException($"{config.Location}: '{config.Join("target")}' is required for the mnasnet reward (the cost target, e.g. 5 for 5 ms)");
                return new MnasNetReward(config.GetString("accuracy", MetricNames.Accuracy), config.GetString("metric", MetricNames.LatencyMs),
                    target, config.GetDouble("alpha", -0.07), config.GetDouble("beta", -0.07), config.GetDouble("accuracy_scale", 100, 1e-300),
                    config.GetDouble("pruned", 0));
            }
            default:
            {
                config.CheckKeys("kind", "accuracy", "alpha", "accuracy_scale", "pruned");
                return new CoExplorationReward(config.GetString("accuracy", MetricNames.Accuracy), context.Constraints,
                    config.GetDouble("alpha", 0.5, 0, 1), config.GetDouble("accuracy_scale", 100, 1e-300), config.GetDouble("pruned", -1));
            }
        }
    }

    /// <summary>+1 × each maximised objective, −1 × each minimised one.</summary>
    public static WeightedSumReward Default(StrategyContext context) =>
        new(context.Objectives.ToDictionary(o => o.Metric, o => o.Direction == Direction.Maximize ? 1.0 : -1.0, StringComparer.Ordinal));
}
