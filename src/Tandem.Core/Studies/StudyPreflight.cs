using System.Globalization;
using Tandem.Core.Objectives;
using Tandem.Core.Spaces;

namespace Tandem.Core.Studies;

/// <summary>
/// Checks a study before anything is trained or stored: every objective and spec names a metric
/// the pipeline produces, and the hardware specs can be met by at least one design. The second check
/// samples designs and then descends on the total violation with cheap (hardware-only) evaluations;
/// if no feasible design is found it reports, per spec, the best value seen, so the user knows which
/// spec to relax.
/// </summary>
public static class StudyPreflight
{
    public sealed record Options
    {
        public int Samples { get; init; } = 2000;
        public int DescentEvaluations { get; init; } = 3000;
    }

    /// <summary>Throws <see cref="InputException"/> describing the problem, or returns a feasible design found.</summary>
    public static Design Check(StudyPlan plan, Options? options = null)
    {
        options ??= new Options();
        var evaluator = plan.CreateEvaluator();
        var rng = new Random(plan.Seed ^ 0x5EED);
        var space = plan.Problem.Space;

        // Metric names the pipeline produces: those of one fast evaluation plus the evaluator's.
        HashSet<string>? produced = null;
        Design? best = null;
        double bestViolation = double.PositiveInfinity;
        var bestPerSpec = plan.Specs.ToDictionary(c => c, _ => double.NaN);
        string? lastReason = null;

        double Score(Design d, TrialOutcome o)
        {
            if (o.Metrics.Count > 0 && produced is null)
            {
                produced = new HashSet<string>(o.Metrics.Keys, StringComparer.Ordinal)
                {
                    MetricNames.AccuracySeconds, MetricNames.AccuracyEpochs,
                };
                foreach (var m in plan.Accuracy?.MetricNames ?? []) produced.Add(m);
                if (plan.Accuracy != null) produced.Add(MetricNames.TestAccuracy);
            }
            if (o.Metrics.Count == 0) { lastReason = o.Reason; return double.PositiveInfinity; }
            double v = 0;
            foreach (var c in plan.Specs)
            {
                if (!o.Metrics.TryGetValue(c.Metric, out double x)) continue;
                v += c.Violation(x);
                double prev = bestPerSpec[c];
                if (double.IsNaN(prev) || c.Violation(x) < c.Violation(prev) || (c.Violation(x) == 0 && c.Violation(prev) == 0)) bestPerSpec[c] = x;
            }
            if (v < bestViolation) { bestViolation = v; best = d; }
            return v;
        }

        for (int i = 0; i < options.Samples && bestViolation > 0; i++)
        {
            var d = plan.Problem.Canonicalize(space.Sample(rng));
            Score(d, evaluator.EvaluateFast(d));
        }

        if (produced is null)
            throw new InputException($"none of {options.Samples:N0} sampled designs gives a valid network for the task " +
                $"'{plan.Problem.Task.Name}' ({plan.Problem.Task.Input} input): {lastReason}. Check the network space against the input size.");

        var unknown = plan.Objectives.Select(o => o.Metric).Concat(plan.Specs.Select(c => c.Metric))
            .Where(m => !produced.Contains(m)).Distinct().ToArray();
        if (unknown.Length > 0)
            throw new InputException($"unknown metric{(unknown.Length > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))} " +
                $"in the objectives or specs; this study produces: {string.Join(", ", produced.Order(StringComparer.Ordinal))}");

        // Coordinate descent on the total violation from the best sample.
        int budget = options.DescentEvaluations;
        bool improved = true;
        while (bestViolation > 0 && budget > 0 && improved && best != null)
        {
            improved = false;
            for (int p = 0; p < space.Count && budget > 0 && bestViolation > 0; p++)
            {
                var param = space[p];
                var candidates = param.IsDiscrete
                    ? Enumerable.Range(0, param.Cardinality).Select(param.ValueAt)
                    : Enumerable.Range(0, 9).Select(k => param.FromUnit(k / 8.0));
                foreach (double value in candidates)
                {
                    if (budget-- <= 0) break;
                    var d = plan.Problem.Canonicalize(best.With(p, value));
                    double before = bestViolation;
                    Score(d, evaluator.EvaluateFast(d));
                    if (bestViolation < before) improved = true;
                }
            }
        }

        if (bestViolation > 0 || best is null)
        {
            string F(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
            var lines = plan.Specs.Where(c => !double.IsNaN(bestPerSpec[c]))
                .Select(c => $"{c.Metric} {c.Symbol} {F(c.Bound)} {MetricUnits.Of(c.Metric)} (best seen {F(bestPerSpec[c])} {MetricUnits.Of(c.Metric)}{(c.IsSatisfied(bestPerSpec[c]) ? ", met" : "")})");
            throw new InputException("no design meets all the specs: none of the sampled designs, nor a descent on the total violation, " +
                $"satisfied them together. Specs: {string.Join("; ", lines)}. Relax the specs or widen the hardware space.");
        }
        return best;
    }
}
