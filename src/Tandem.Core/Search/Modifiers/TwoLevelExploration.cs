using System.Globalization;
using Tandem.Core.Configuration;
using Tandem.Core.Search.Pareto;
using Tandem.Core.Search.Strategies;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;

namespace Tandem.Core.Search.Modifiers;

/// <summary>
/// Options of two-level (fast/slow) exploration. <see cref="HardwareEvaluations"/> ≥ 1 bounds the
/// hardware-only evaluations spent on one proposal; <see cref="Groups"/> names the parameter groups
/// that count as hardware (default "hw"); <see cref="MaxRedraws"/> bounds how many replacement
/// proposals are asked of the inner strategy per requested design when proposals are dropped.
/// </summary>
public sealed record TwoLevelOptions
{
    public int HardwareEvaluations { get; init; } = 50;
    public IReadOnlyList<string> Groups { get; init; } = ["hw"];
    public int MaxRedraws { get; init; } = 20;

    public static TwoLevelOptions Bind(ConfigMap options)
    {
        options.CheckKeys("hw_evaluations", "groups", "max_redraws");
        return new TwoLevelOptions
        {
            HardwareEvaluations = options.GetInt("hw_evaluations", 50, 1, 1_000_000),
            Groups = options.GetStringList("groups") ?? ["hw"],
            MaxRedraws = options.GetInt("max_redraws", 20, 1, 100_000),
        };
    }
}

/// <summary>
/// Two-level exploration of Jiang et al.'s co-exploration framework, around any strategy. The
/// inner strategy proposes designs (the slow level); before a proposal is paid for, the fast level
/// tunes its hardware part (parameters of <see cref="TwoLevelOptions.Groups"/>) with at most
/// <see cref="TwoLevelOptions.HardwareEvaluations"/> calls of the study's <see cref="IFastEvaluator"/>:
/// every hardware combination when there are no more than that, otherwise a seeded local search from
/// the proposed hardware (one-parameter moves, occasional random restarts). The best hardware is the
/// one with the smallest spec violation, then, among those meeting the specs, the one that Pareto-
/// dominates or has the smallest sum of the hardware objectives each divided by the proposal's own
/// value. The tuned design replaces the proposal. If no hardware tried meets the specs the proposal
/// is dropped without any accuracy being paid for: the inner strategy is told it was pruned (with
/// the reason), an event is recorded, and a replacement is asked for.
/// </summary>
internal sealed class TwoLevelExploration : IStrategy, IFrontForecast
{
    private readonly IStrategy _inner;
    private readonly StrategyContext _context;
    private readonly TwoLevelOptions _options;
    private readonly IFastEvaluator _fast;
    private readonly int[] _hw;
    private readonly Random _rng;

    public TwoLevelExploration(IStrategy inner, StrategyContext context, TwoLevelOptions options)
    {
        _inner = inner;
        _context = context;
        _options = options;
        _fast = context.FastEvaluator ?? throw new ConfigException(
            "two_level exploration needs hardware-only evaluation, but this study has no accelerator template; remove 'two_level' or add a hardware template");
        var groups = new HashSet<string>(options.Groups, StringComparer.Ordinal);
        _hw = Enumerable.Range(0, context.Space.Count).Where(i => groups.Contains(context.Space[i].Group)).ToArray();
        if (_hw.Length == 0)
            throw new ConfigException($"two_level exploration: the design space has no parameters in group(s) {string.Join(", ", options.Groups)}; its groups are {string.Join(", ", context.Space.Parameters.Select(p => p.Group).Distinct())}");
        _rng = new Random(unchecked(context.Seed * 31 + 7));
    }

    public double? FrontProbability(string designKey) => (_inner as IFrontForecast)?.FrontProbability(designKey);

    public string Name => $"{_inner.Name}+two_level";

    /// <summary>Proposals dropped so far because no hardware met the specs.</summary>
    public int Dropped { get; private set; }

    public IReadOnlyList<Design> Ask(int count)
    {
        var result = new List<Design>(count);
        int budget = count * _options.MaxRedraws;
        while (result.Count < count && budget > 0)
        {
            var proposals = _inner.Ask(Math.Min(count - result.Count, budget));
            if (proposals.Count == 0) break;
            budget -= proposals.Count;
            foreach (var p in proposals)
            {
                var (tuned, outcome, tried) = Tune(p);
                if (tuned is not null)
                {
                    result.Add(tuned); // a duplicate is answered from the runner's cache
                    continue;
                }
                Dropped++;
                string reason = $"fast exploration: none of {tried} hardware configurations meets the specs; best: {outcome.Reason ?? "no hardware metrics"}";
                _context.ReportEvent("two-level-pruned", $"{p.Key}: {reason}");
                _inner.Tell(p, TrialOutcome.Pruned(reason, outcome.Metrics, outcome.Attributes));
            }
        }
        return result;
    }

    public void Tell(Design design, TrialOutcome outcome) => _inner.Tell(design, outcome);

    private (Design? Tuned, TrialOutcome Best, int Tried) Tune(Design proposal)
    {
        var cache = new Dictionary<string, (Design D, TrialOutcome O, double V)>(StringComparer.Ordinal);
        (Design D, TrialOutcome O, double V) Eval(Design d)
        {
            if (cache.TryGetValue(d.Key, out var hit)) return hit;
            var o = _fast.EvaluateFast(d);
            var e = (d, o, o.State == TrialState.Failed ? double.PositiveInfinity : _context.Violation(o));
            cache[d.Key] = e;
            return e;
        }

        var start = Eval(proposal);
        var scales = HardwareObjectives(start.O).ToDictionary(k => k.Metric, k => Math.Max(Math.Abs(k.Value), 1e-12));
        var best = start;
        bool Better((Design D, TrialOutcome O, double V) a, (Design D, TrialOutcome O, double V) b)
        {
            if (a.V != b.V) return a.V < b.V;
            if (a.V > 0) return false;
            var va = Vector(a.O, scales);
            var vb = Vector(b.O, scales);
            if (va is null || vb is null) return false;
            if (NonDominatedSorting.Dominates(va, vb)) return true;
            if (NonDominatedSorting.Dominates(vb, va)) return false;
            return va.Sum() < vb.Sum() - 1e-12;
        }

        var hwParams = _hw.Select(i => _context.Space[i]).ToArray();
        var size = hwParams.All(p => p.IsDiscrete) ? hwParams.Aggregate(1L, (n, p) => n > int.MaxValue ? n : n * p.Cardinality) : long.MaxValue;
        if (size <= _options.HardwareEvaluations)
        {
            foreach (var values in HardwareCombinations(hwParams))
            {
                var d = With(proposal, values);
                var e = Eval(d);
                if (Better(e, best)) best = e;
            }
        }
        else
        {
            var current = best;
            int guard = 0;
            while (cache.Count < _options.HardwareEvaluations && guard++ < 20 * _options.HardwareEvaluations)
            {
                double[] values;
                if (_rng.NextDouble() < 0.2)
                    values = hwParams.Select(p => p.Sample(_rng)).ToArray();
                else
                {
                    values = _hw.Select(i => current.D[i]).ToArray();
                    int k = _rng.Next(_hw.Length);
                    if (hwParams[k].IsDiscrete && hwParams[k].Cardinality < 2) continue;
                    values[k] = Operators.MutateValue(hwParams[k], values[k], _rng);
                }
                int before = cache.Count;
                var e = Eval(With(proposal, values));
                if (cache.Count == before && _rng.NextDouble() < 0.5) current = best; // revisits: nudge back to the best
                if (Better(e, current)) current = e;
                if (Better(e, best)) best = e;
            }
        }
        return best.V == 0 && best.O.State == TrialState.Complete ? (best.D, best.O, cache.Count) : (null, best.O, cache.Count);
    }

    private Design With(Design d, double[] hwValues)
    {
        var values = d.ToArray();
        for (int k = 0; k < _hw.Length; k++) values[_hw[k]] = hwValues[k];
        return _context.Space.Create(values);
    }

    private static IEnumerable<double[]> HardwareCombinations(Parameter[] ps)
    {
        var idx = new int[ps.Length];
        while (true)
        {
            yield return ps.Select((p, i) => p.ValueAt(idx[i])).ToArray();
            int k = ps.Length - 1;
            while (k >= 0 && ++idx[k] == ps[k].Cardinality) { idx[k] = 0; k--; }
            if (k < 0) yield break;
        }
    }

    private IEnumerable<(string Metric, double Value)> HardwareObjectives(TrialOutcome o)
    {
        foreach (var obj in _context.Objectives)
            if (o.Metrics.TryGetValue(obj.Metric, out double v) && double.IsFinite(v)) yield return (obj.Metric, obj.ToMinimization(v));
    }

    private double[]? Vector(TrialOutcome o, Dictionary<string, double> scales)
    {
        if (scales.Count == 0) return [];
        var v = new double[scales.Count];
        int i = 0;
        foreach (var obj in _context.Objectives)
        {
            if (!scales.TryGetValue(obj.Metric, out double s)) continue;
            if (!o.Metrics.TryGetValue(obj.Metric, out double x) || !double.IsFinite(x)) return null;
            v[i++] = obj.ToMinimization(x) / s;
        }
        return v;
    }

    internal static string Format(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
