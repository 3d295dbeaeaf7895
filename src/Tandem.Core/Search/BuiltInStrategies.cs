using Tandem.Core.Configuration;
using Tandem.Core.Search.Modifiers;
using Tandem.Core.Search.Strategies;

namespace Tandem.Core.Search;

/// <summary>
/// The strategies that ship with Tandem.Core, registered by name with their option binders
/// (every unknown option key is refused with a "did you mean"): <c>random</c>, <c>exhaustive</c>,
/// <c>evolution</c> (regularised evolution), <c>nsga2</c> and <c>bo</c> (constrained Bayesian
/// optimisation). Every one accepts the modifier keys of <see cref="StrategyModifiers"/>. The Torch
/// project adds <c>rl</c>.
/// </summary>
public static class BuiltInStrategies
{
    public static StrategyRegistry Register(StrategyRegistry registry) => registry
        .Register("random", "uniform random sampling without repeats",
            StrategyModifiers.Modifiable((c, o) => { RandomSearchOptions.Bind(o); return new RandomSearch(c); }))
        .Register("exhaustive", "every design of a discrete space once, streamed in order",
            StrategyModifiers.Modifiable((c, o) => { ExhaustiveSearchOptions.Bind(o); return new ExhaustiveSearch(c); }))
        .Register("evolution", "regularised (aging) evolution; options: population, sample, mutation_rate",
            StrategyModifiers.Modifiable((c, o) => new RegularizedEvolution(c, RegularizedEvolutionOptions.Bind(o))))
        .Register("nsga2", "NSGA-II with constrained domination; options: population, crossover_rate, mutation_rate",
            StrategyModifiers.Modifiable((c, o) => new Nsga2(c, Nsga2Options.Bind(o))))
        .Register("bo", "constrained Bayesian optimisation (GP, EI/EHVI × probability of feasibility); options: initial, candidates, local_candidates, mc_samples, refit_every, enumerate_up_to",
            StrategyModifiers.Modifiable((c, o) => new BayesianOptimization(c, BayesianOptimizationOptions.Bind(o))));
}

/// <summary>
/// The modifiers every strategy accepts in its config section, next to its own options:
/// <code>
/// strategy:
///   name: nsga2
///   population: 24
///   two_level: { hw_evaluations: 50, groups: [hw], max_redraws: 20 }   # fast/slow exploration
///   shrinking: { every: 50, keep_top: 0.2, min_designs: 5, min_values: 1 }
/// </code>
/// <c>two_level: true</c> / <c>shrinking: true</c> use the default options; <c>false</c> or absent
/// disables them. Modifiers wrap the strategy innermost-first: shrinking repairs proposals into the
/// shrunk space, then two-level tunes their hardware. Early termination (SC-NAS) is the study's
/// top-level <c>early_termination</c> switch, which sets <c>CoExplorationProblem.EarlyTermination</c>.
/// </summary>
public static class StrategyModifiers
{
    public static IReadOnlyList<string> Keys { get; } = ["two_level", "shrinking"];

    /// <summary>
    /// A strategy's own option keys plus <c>name</c> and the modifier keys: what a strategy binder
    /// passes to <see cref="ConfigMap.CheckKeys"/>, so that a misspelt key of either kind gets a
    /// "did you mean" over everything the section accepts.
    /// </summary>
    public static string[] AcceptedKeys(params string[] own) => [.. own, "name", .. Keys];

    /// <summary>
    /// A factory that accepts the strategy map as written (with or without <c>name</c>), passes it to
    /// <paramref name="inner"/> (whose binder checks keys with <see cref="AcceptedKeys"/>), binds the
    /// modifier keys and wraps the strategy.
    /// </summary>
    public static StrategyRegistry.Factory Modifiable(StrategyRegistry.Factory inner) => (context, options) =>
    {
        // Binders accept name and the modifier keys (AcceptedKeys) and ignore them.
        var strategy = inner(context, options);
        var shrinking = OptionsOf(options, "shrinking") is { } s ? ShrinkingOptions.Bind(s) : null;
        var twoLevel = OptionsOf(options, "two_level") is { } t ? TwoLevelOptions.Bind(t) : null;
        return Wrap(strategy, context, shrinking, twoLevel);
    };

    /// <summary>Wraps a strategy with the modifiers (for code callers, e.g. the benchmark harness).</summary>
    public static IStrategy Wrap(IStrategy strategy, StrategyContext context, ShrinkingOptions? shrinking, TwoLevelOptions? twoLevel)
    {
        if (shrinking is not null) strategy = new SpaceShrinking(strategy, context, shrinking);
        if (twoLevel is not null) strategy = new TwoLevelExploration(strategy, context, twoLevel);
        return strategy;
    }

    /// <summary>Creates a strategy from a <c>strategy</c> section given either as a bare name or as a map with <c>name</c>.</summary>
    public static IStrategy Create(StrategyRegistry registry, StrategyContext context, ConfigNode node, string defaultName = "evolution")
    {
        if (node is ConfigScalar { Value: { } name })
            return registry.Create(name, context, ConfigMap.Empty(node.Path, node.Location.File));
        if (node is not ConfigMap map) throw node.Error($"expected a strategy name or a map with 'name', found {node.KindName}");
        return registry.Create(map.GetString("name", defaultName), context, map);
    }

    /// <summary>The options map of a modifier key: absent/false → null, true → empty options, a map → itself.</summary>
    private static ConfigMap? OptionsOf(ConfigMap map, string key)
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
}
