using Tandem.Core.Configuration;
using Tandem.Core.Search.Modifiers;
using Tandem.Core.Search.Strategies;

namespace Tandem.Core.Search;

/// <summary>
/// The strategies that ship with Tandem.Core, registered by name with their option binders
/// (every unknown option key is refused with a "did you mean"): <c>random</c>, <c>exhaustive</c>,
/// <c>evolution</c> (regularised evolution), <c>nsga2</c> and <c>bo</c> (constrained Bayesian
/// optimisation). The Torch project adds <c>rl</c>.
/// </summary>
public static class BuiltInStrategies
{
    public static StrategyRegistry Register(StrategyRegistry registry) => registry
        .Register("random", "uniform random sampling without repeats",
            (c, o) => { RandomSearchOptions.Bind(o); return new RandomSearch(c); })
        .Register("exhaustive", "every design of a discrete space once, streamed in order",
            (c, o) => { ExhaustiveSearchOptions.Bind(o); return new ExhaustiveSearch(c); })
        .Register("evolution", "regularised (aging) evolution; options: population, sample, mutation_rate",
            (c, o) => new RegularizedEvolution(c, RegularizedEvolutionOptions.Bind(o)))
        .Register("nsga2", "NSGA-II with constrained domination; options: population, crossover_rate, mutation_rate",
            (c, o) => new Nsga2(c, Nsga2Options.Bind(o)))
        .Register("bo", "constrained Bayesian optimisation (GP, EI/EHVI × probability of feasibility); options: initial, candidates, local_candidates, mc_samples, refit_every, enumerate_up_to",
            (c, o) => new BayesianOptimization(c, BayesianOptimizationOptions.Bind(o)));
}

/// <summary>
/// A strategy built from a study's <c>strategy</c> section, with the modifiers it asked for, and
/// the early-termination switch the study passes to <c>CoExplorationProblem</c> (null = not given).
/// </summary>
public sealed record StrategySetup(IStrategy Strategy, bool? EarlyTermination, string Description);

/// <summary>
/// Builds a strategy and its modifiers from config. The <c>strategy</c> section is either a name
/// (<c>strategy: nsga2</c>) or a map whose <c>name</c> picks the strategy and whose other keys are
/// its options, plus three modifier keys usable with every strategy:
/// <code>
/// strategy:
///   name: nsga2
///   population: 24
///   two_level: { hw_evaluations: 50, groups: [hw] }     # fast/slow exploration
///   shrinking: { every: 50, keep_top: 0.2, min_designs: 5, min_values: 1 }
///   early_termination: true                              # stop summing layer costs past a spec
/// </code>
/// Modifiers wrap the strategy innermost-first: shrinking repairs proposals into the shrunk space,
/// then two-level tunes their hardware. <c>two_level: true</c> uses the default options.
/// </summary>
public static class StrategyBuilder
{
    public static readonly IReadOnlyList<string> ModifierKeys = ["two_level", "shrinking", "early_termination"];

    public static StrategySetup Build(StrategyRegistry registry, StrategyContext context, ConfigNode? node)
    {
        if (node is null) throw new ConfigException("no strategy given; accepted: " + string.Join(", ", registry.Available.Select(a => a.Name)));
        if (node is ConfigScalar { Value: { } name })
            return new StrategySetup(registry.Create(name, context, ConfigMap.Empty(node.Path, node.Location.File)), null, name);
        if (node is not ConfigMap map) throw node.Error($"expected a strategy name or a map with 'name', found {node.KindName}");

        string strategyName = map.RequireString("name");
        var own = new ConfigMap(map.Path, map.Location,
            map.Entries.Where(e => e.Key != "name" && !ModifierKeys.Contains(e.Key)));
        var strategy = registry.Create(strategyName, context, own);
        var parts = new List<string> { strategyName };

        if (ModifierMap(map, "shrinking") is { } shrink)
        {
            strategy = new SpaceShrinking(strategy, context, ShrinkingOptions.Bind(shrink));
            parts.Add("shrinking");
        }
        if (ModifierMap(map, "two_level") is { } twoLevel)
        {
            strategy = new TwoLevelExploration(strategy, context, TwoLevelOptions.Bind(twoLevel));
            parts.Add("two_level");
        }
        bool? early = map.GetScalar("early_termination") is null ? null : map.GetBool("early_termination", false);
        if (early == true) parts.Add("early_termination");
        return new StrategySetup(strategy, early, string.Join("+", parts));
    }

    /// <summary>The options map of a modifier key: absent/false → null, true → empty options, a map → itself.</summary>
    private static ConfigMap? ModifierMap(ConfigMap map, string key)
    {
        var node = map[key];
        if (node is null) return null;
        if (node is ConfigScalar s)
        {
            if (s.Value is null) return null;
            return s.AsBool() ? ConfigMap.Empty(map.Join(key), node.Location.File) : null;
        }
        return map.GetMap(key);
    }

    /// <summary>Wraps a strategy with the modifiers (for code callers, e.g. the benchmark harness).</summary>
    public static IStrategy Wrap(IStrategy strategy, StrategyContext context, ShrinkingOptions? shrinking, TwoLevelOptions? twoLevel)
    {
        if (shrinking is not null) strategy = new SpaceShrinking(strategy, context, shrinking);
        if (twoLevel is not null) strategy = new TwoLevelExploration(strategy, context, twoLevel);
        return strategy;
    }
}
