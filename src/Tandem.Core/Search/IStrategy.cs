using Tandem.Core.Configuration;
using Tandem.Core.Objectives;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;

namespace Tandem.Core.Search;

/// <summary>
/// A search strategy in ask/tell form. The runner calls <see cref="Ask"/> for up to <c>count</c>
/// designs (one batch; the number of parallel workers), evaluates them, then calls <see cref="Tell"/>
/// once per design in the order they were asked. Contract:
/// <list type="bullet">
/// <item>Deterministic: the same <see cref="StrategyContext.Seed"/> and the same sequence of tells give
///   the same sequence of asks. All randomness comes from the seed.</item>
/// <item><see cref="Ask"/> may return fewer designs than asked; an empty list means the strategy is
///   exhausted (e.g. exhaustive search has enumerated the space) and the study ends.</item>
/// <item><see cref="Tell"/> accepts any design of the space, including ones it did not propose (a
///   resumed study replays stored trials; the runner answers duplicates from its cache).</item>
/// </list>
/// </summary>
public interface IStrategy
{
    string Name { get; }

    IReadOnlyList<Design> Ask(int count);

    void Tell(Design design, TrialOutcome outcome);
}

/// <summary>
/// A strategy that can say how likely it believed a design it proposed to be a member of the true
/// Pareto front (feasible and non-dominated among all designs), for checking that belief against the
/// outcome (<c>tandem benchmark tabular</c> writes it beside every evaluation). Null for designs it
/// did not propose by such a forecast (initial random designs, other acquisitions, told designs).
/// </summary>
public interface IFrontForecast
{
    /// <summary>The predicted probability (0–1) that the design with this key is a feasible front member, as of its proposal; null if none was made.</summary>
    double? FrontProbability(string designKey);
}

/// <summary>
/// What a strategy knows about the problem: the space, the objectives, the hard constraints and the
/// seed. Helpers turn an outcome into a minimisation vector and a constraint violation so that every
/// strategy treats pruned and failed trials the same way.
/// </summary>
public sealed class StrategyContext
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<StudyEvent> _events = new();
    private readonly TimeProvider _time;

    public StrategyContext(DesignSpace space, IReadOnlyList<Objective> objectives, IReadOnlyList<Constraint> constraints, int seed,
        TimeProvider? time = null)
    {
        if (objectives.Count == 0) throw new ConfigException("a study needs at least one objective");
        Space = space;
        Objectives = objectives;
        Constraints = constraints;
        Seed = seed;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Records something a strategy decided that belongs in the study's log (e.g. "space shrunk:
    /// arch.s1.channels lost 8, 16"). The runner stores these after each batch.
    /// </summary>
    public void ReportEvent(string kind, string message, string? dataJson = null) =>
        _events.Enqueue(new StudyEvent(_time.GetUtcNow(), kind, message, dataJson));

    /// <summary>Takes the events reported since the last call (used by the runner).</summary>
    public IReadOnlyList<StudyEvent> DrainEvents()
    {
        var list = new List<StudyEvent>();
        while (_events.TryDequeue(out var e)) list.Add(e);
        return list;
    }

    public DesignSpace Space { get; }

    /// <summary>
    /// Hardware-only evaluation of a design (cost model and hardware specs, no accuracy), when the
    /// study has an accelerator template; what two-level (fast/slow) exploration tunes hardware with.
    /// </summary>
    public IFastEvaluator? FastEvaluator { get; init; }

    /// <summary>
    /// Derived features of designs that surrogate models may use besides the parameters (the
    /// network family's <see cref="Spaces.Families.INetworkFamily.Features"/>), or null.
    /// </summary>
    public IDesignFeatures? Features { get; init; }

    public IReadOnlyList<Objective> Objectives { get; }
    public IReadOnlyList<Constraint> Constraints { get; }
    public int Seed { get; }

    /// <summary>Objective values oriented for minimisation, or null when the outcome lacks any of them.</summary>
    public double[]? ObjectiveVector(TrialOutcome outcome)
    {
        if (outcome.State == TrialState.Failed) return null;
        var v = new double[Objectives.Count];
        for (int i = 0; i < v.Length; i++)
        {
            if (!outcome.Metrics.TryGetValue(Objectives[i].Metric, out double x) || double.IsNaN(x)) return null;
            v[i] = Objectives[i].ToMinimization(x);
        }
        return v;
    }

    /// <summary>
    /// Sum of the relative violations of all constraints (0 = feasible). A failed trial, or a pruned
    /// one that reports no violated metric, counts as infinitely infeasible.
    /// </summary>
    public double Violation(TrialOutcome outcome)
    {
        if (outcome.State == TrialState.Failed) return double.PositiveInfinity;
        double total = 0;
        foreach (var c in Constraints)
            if (outcome.Metrics.TryGetValue(c.Metric, out double x)) total += c.Violation(x);
        if (outcome.State == TrialState.Pruned && total == 0) return double.PositiveInfinity;
        return total;
    }

    public bool IsFeasible(TrialOutcome outcome) => outcome.State == TrialState.Complete && Violation(outcome) == 0;
}

/// <summary>Creates strategies by name from their config options. Extensible (the Torch project adds "rl").</summary>
public sealed class StrategyRegistry
{
    public delegate IStrategy Factory(StrategyContext context, ConfigMap options);

    private readonly Dictionary<string, (Factory Create, string Description)> _factories = new(StringComparer.OrdinalIgnoreCase);

    public StrategyRegistry Register(string name, string description, Factory factory)
    {
        _factories[name] = (factory, description);
        return this;
    }

    public IEnumerable<(string Name, string Description)> Available =>
        _factories.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (f.Key, f.Value.Description));

    public bool Contains(string name) => _factories.ContainsKey(name);

    public IStrategy Create(string name, StrategyContext context, ConfigMap options)
    {
        EnsureKnown(name, options);
        return _factories[name].Create(context, options);
    }

    /// <summary>Throws a <see cref="ConfigException"/> (with a "did you mean") unless <paramref name="name"/> is registered.</summary>
    public void EnsureKnown(string name, ConfigNode where)
    {
        if (_factories.ContainsKey(name)) return;
        string? close = DidYouMean.Closest(name, _factories.Keys);
        throw where.Error(
            $"unknown strategy '{name}';{(close != null ? $" did you mean '{close}'?" : "")} accepted: {string.Join(", ", _factories.Keys.Order())}");
    }
}
