using System.Numerics;
using Tandem.Core.Benchmarking;
using Tandem.Core.Configuration;
using Tandem.Core.Objectives;
using Tandem.Core.Search;
using Tandem.Core.Search.Strategies;
using Tandem.Core.Search.Pareto;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;
using static Tandem.Core.Tests.Search.SearchTestKit;

namespace Tandem.Core.Tests.Search;

public class StrategyTests
{
    public static TheoryData<string> All => new() { "random", "evolution", "nsga2", "bo" };

    private static StrategyContext SeparableContext(int seed) => new(Separable, [new Objective("loss", Direction.Minimize)], [], seed);

    [Theory]
    [MemberData(nameof(All))]
    [InlineData("exhaustive")]
    public async Task Same_seed_gives_the_same_asks_and_another_seed_other_ones(string name)
    {
        async Task<string[]> Keys(int seed)
        {
            var ctx = SeparableContext(seed);
            var (trials, _, _) = await Run(ctx, Create(name, ctx), new Evaluator(SeparableValue), 40, workers: 2);
            return trials.Select(t => t.DesignKey).ToArray();
        }
        var a = await Keys(5);
        Assert.Equal(a, await Keys(5));
        Assert.Equal(40, a.Length);
        if (name != "exhaustive") Assert.NotEqual(a, await Keys(6));
    }

    [Theory]
    [InlineData("evolution", 250)]
    [InlineData("nsga2", 250)]
    [InlineData("bo", 80)]
    public async Task Finds_the_optimum_of_a_separable_discrete_function(string name, int budget)
    {
        var ctx = SeparableContext(11);
        var (trials, _, _) = await Run(ctx, Create(name, ctx), new Evaluator(SeparableValue), budget);
        var best = trials.Min(t => t.Metric("loss")!.Value);
        Assert.Equal(0, best);

        // and clearly better than random search with the same budget
        var rctx = SeparableContext(11);
        var (rtrials, _, _) = await Run(rctx, Create("random", rctx), new Evaluator(SeparableValue), budget);
        Assert.True(rtrials.Min(t => t.Metric("loss")!.Value) > 0);
    }

    [Theory]
    [InlineData("nsga2", 300, 0.6)]
    [InlineData("evolution", 300, 0.4)]
    [InlineData("bo", 120, 0.6)]
    public async Task Covers_a_known_two_objective_front(string name, int budget, double minFraction)
    {
        var objectives = new[] { new Objective("f1", Direction.Minimize), new Objective("f2", Direction.Minimize) };
        var ctx = new StrategyContext(TwoObjective, objectives, [], 3);
        var (trials, _, _) = await Run(ctx, Create(name, ctx), new Evaluator(TwoObjectiveValue), budget);
        var exact = new ExactFront(Enumerable.Range(0, 21).Select(x => ($"x={x};y=0;c=b", new double[] { x, 20 - x })).ToArray());
        var tracker = new ParetoTracker(exact);
        foreach (var t in trials) tracker.Add(t.DesignKey, ctx.ObjectiveVector(t.ToOutcome()), true);
        Assert.True(tracker.FrontFraction >= minFraction, $"{name} found {tracker.FrontFraction:P0} of the front");
        Assert.True(tracker.HypervolumeRatio >= 0.9, $"{name} reached a hypervolume ratio of {tracker.HypervolumeRatio:F3}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task Membership_acquisition_finds_most_of_a_known_two_objective_front(int workers)
    {
        var objectives = new[] { new Objective("f1", Direction.Minimize), new Objective("f2", Direction.Minimize) };
        var ctx = new StrategyContext(TwoObjective, objectives, [], 3);
        var strategy = Create("bo", ctx, """{"acquisition": "membership"}""");
        var recording = new Recording(strategy);
        var eval = new Evaluator(TwoObjectiveValue);
        var (trials, _, _) = await Run(ctx, recording, eval, 80, workers: workers);
        var exact = new ExactFront(Enumerable.Range(0, 21).Select(x => ($"x={x};y=0;c=b", new double[] { x, 20 - x })).ToArray());
        var tracker = new ParetoTracker(exact);
        foreach (var t in trials) tracker.Add(t.DesignKey, ctx.ObjectiveVector(t.ToOutcome()), true);
        Assert.True(tracker.FrontFraction >= 0.6, $"membership found {tracker.FrontFraction:P0} of the front");
        Assert.Equal(80, trials.Count);
        Assert.All(eval.PerKey.Values, n => Assert.Equal(1, n));
        Assert.All(recording.Returned, n => Assert.Equal(workers, n));
    }

    [Fact]
    public async Task Membership_acquisition_with_three_objectives_uses_joint_draws_and_improves_on_random()
    {
        // f3 = y, so the front is c = "b" with any x, y: (x, 20 − x + y, y) — 441 designs; random
        // search wastes two thirds of its budget on c ≠ "b".
        var objectives = new[] { new Objective("f1", Direction.Minimize), new Objective("f2", Direction.Minimize), new Objective("f3", Direction.Minimize) };
        Dictionary<string, double> Value(Tandem.Core.Spaces.Design d) => new(TwoObjectiveValue(d)) { ["f3"] = d["y"] };
        async Task<int> OnFront(string name, string json)
        {
            var ctx = new StrategyContext(TwoObjective, objectives, [], 5);
            var (trials, _, _) = await Run(ctx, Create(name, ctx, json), new Evaluator(Value), 40);
            return trials.Count(t => t.DesignKey.EndsWith("c=b", StringComparison.Ordinal));
        }
        int member = await OnFront("bo", """{"acquisition": "membership", "membership_pool": 200, "membership_joint": 100, "membership_draws": 32}""");
        Assert.True(member > await OnFront("random", "{}"), $"membership put {member} of 40 on the front");
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task Respects_a_constraint_that_makes_the_unconstrained_optimum_infeasible(string name)
    {
        // maximise s = Σ xᵢ subject to s ≤ 12: the unconstrained optimum (36) is infeasible, the best feasible value is 12.
        var objectives = new[] { new Objective("s", Direction.Maximize) };
        var specs = new[] { new Constraint("s", ConstraintOp.LessOrEqual, 12) };
        var ctx = new StrategyContext(Separable, objectives, specs, 4);
        var eval = new Evaluator(d => new() { ["s"] = d.Values.Sum() });
        var (trials, _, _) = await Run(ctx, Create(name, ctx), eval, 150);
        var feasible = trials.Where(t => ctx.IsFeasible(t.ToOutcome())).Select(t => t.Metric("s")!.Value).ToArray();
        Assert.NotEmpty(feasible);
        if (name == "random") return; // random does not aim; it only must not crash
        Assert.Equal(12, feasible.Max());
        // the search concentrates near the boundary instead of on the infeasible optimum
        Assert.True(trials.Count(t => t.Metric("s") > 30) < trials.Count / 5);
    }

    [Theory]
    [InlineData("evolution")]
    [InlineData("nsga2")]
    [InlineData("bo")]
    public async Task Works_on_mixed_spaces_with_float_and_integer_parameters(string name)
    {
        var space = new DesignSpace([
            new FloatParameter("lr", 1e-4, 1, log: true),
            new FloatParameter("u", -2, 2),
            new IntegerParameter("n", 1, 64),
            new CategoricalParameter("k", ["p", "q"]),
        ]);
        // minimum 0 at lr = 0.01, u = 0.5, n = 32, k = q
        var eval = new Evaluator(d => new() { ["f"] = Math.Pow(Math.Log10(d["lr"]) + 2, 2) + Math.Pow(d["u"] - 0.5, 2) + Math.Pow((d["n"] - 32) / 32.0, 2) + (d.GetString("k") == "q" ? 0 : 1) });
        var ctx = new StrategyContext(space, [new Objective("f", Direction.Minimize)], [], 8);
        var (trials, _, _) = await Run(ctx, Create(name, ctx), eval, 120);
        Assert.True(trials.Min(t => t.Metric("f")!.Value) < 0.15, $"best {trials.Min(t => t.Metric("f")):F3}");
        Assert.All(trials, t => Assert.True(space.Parse(t.Params)["lr"] is >= 1e-4 and <= 1));
    }

    [Fact]
    public async Task Exhaustive_visits_every_design_of_a_small_space_once_then_ends()
    {
        var space = new DesignSpace([new OrdinalParameter("a", [1, 2, 3]), new CategoricalParameter("b", ["x", "y"]), new IntegerParameter("c", 0, 3)]);
        var ctx = new StrategyContext(space, [new Objective("v", Direction.Minimize)], [], 0);
        var eval = new Evaluator(d => new() { ["v"] = d.Values.Sum() });
        var (trials, result, _) = await Run(ctx, Create("exhaustive", ctx), eval, 1000, workers: 3);
        Assert.Equal(24, trials.Count);
        Assert.Equal(24, trials.Select(t => t.DesignKey).Distinct().Count());
        Assert.Equal(StopReason.StrategyExhausted, result.StopReason);
        Assert.Equal("a=1;b=x;c=0", trials[0].DesignKey);
        Assert.Equal("a=1;b=x;c=1", trials[1].DesignKey);
    }

    [Fact]
    public void Exhaustive_streams_a_space_too_large_to_hold_in_memory()
    {
        var space = new DesignSpace(Enumerable.Range(0, 40).Select(i => new OrdinalParameter($"p{i:D2}", Enumerable.Range(0, 10).Select(v => (double)v))));
        Assert.Equal(BigInteger.Pow(10, 40), space.Size);
        var ctx = new StrategyContext(space, [new Objective("v", Direction.Minimize)], [], 0);
        var s = Create("exhaustive", ctx);
        var first = s.Ask(1000);
        Assert.Equal(1000, first.Count);
        Assert.Equal(Enumerable.Repeat(0.0, 40), first[0].Values);
        Assert.Equal(9, first[9]["p39"]);
        Assert.Equal(1, first[10]["p38"]);
        Assert.Equal(1000, first.Select(d => d.Key).Distinct().Count());
    }

    [Fact]
    public void Exhaustive_refuses_a_continuous_space()
    {
        var space = new DesignSpace([new FloatParameter("f", 0, 1)]);
        var e = Assert.Throws<ConfigException>(() => Create("exhaustive", new StrategyContext(space, [new Objective("v", Direction.Minimize)], [], 0)));
        Assert.Contains("'f'", e.Message.Replace("f is", "'f' is"));
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task Batches_use_the_worker_count_and_no_design_is_paid_for_twice(string name)
    {
        var ctx = SeparableContext(2);
        var recording = new Recording(Create(name, ctx));
        var eval = new Evaluator(SeparableValue);
        var (trials, _, _) = await Run(ctx, recording, eval, 60, workers: 4);
        Assert.Equal(60, trials.Count);
        Assert.All(recording.Asked, n => Assert.Equal(4, n));
        Assert.All(recording.Returned, n => Assert.Equal(4, n));
        Assert.All(eval.PerKey.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public void Unknown_strategies_and_options_are_refused_with_a_suggestion()
    {
        var ctx = SeparableContext(0);
        var e1 = Assert.Throws<ConfigException>(() => Create("nsgaii", ctx));
        Assert.Contains("did you mean 'nsga2'", e1.Message);
        var e2 = Assert.Throws<ConfigException>(() => Create("nsga2", ctx, """{"populaton": 10}"""));
        Assert.Contains("did you mean 'population'", e2.Message);
        var e3 = Assert.Throws<ConfigException>(() => Create("evolution", ctx, """{"population": 10, "sample": 20}"""));
        Assert.Contains("out of range", e3.Message);
        var e4 = Assert.Throws<ConfigException>(() => Create("bo", ctx, """{"acquisition": "ucb"}"""));
        Assert.Contains("accepted: ehvi, pi, front", e4.Message);
        var e5 = Assert.Throws<ConfigException>(() => Create("bo", ctx, """{"features": "all"}"""));
        Assert.Contains("accepted: auto, categorical, none", e5.Message);
    }

    [Fact]
    public void Strategy_sections_accept_name_and_modifier_keys()
    {
        var ctx = SeparableContext(0);
        var s = StrategyModifiers.Create(Registry, ctx, Options("""{"name": "nsga2", "population": 8, "shrinking": {"every": 10}}"""));
        Assert.Equal("nsga2+shrinking", s.Name);
        var plain = StrategyModifiers.Create(Registry, ctx, new ConfigScalar("strategy", new SourceLocation("t", 1, 1), "bo"));
        Assert.Equal("bo", plain.Name);
    }

    /// <summary>
    /// The sum of six categorical choices modulo 5 — invisible to an overlap kernel over the raw
    /// choices, one categorical value as a derived feature.
    /// </summary>
    private sealed class SumModFive : IDesignFeatures
    {
        public IReadOnlyList<string> Names { get; } = ["sum_mod_5"];
        public void Compute(Design design, Span<double> destination) => destination[0] = design.Values.Sum() % 5;
    }

    private static DesignSpace Choices(int n) => new(Enumerable.Range(0, n).Select(i => new CategoricalParameter($"c{i}", ["a", "b", "c", "d", "e"])));
    private static readonly DesignSpace SixChoices = Choices(6), FiveChoices = Choices(5);

    /// <summary>
    /// The loss depends only on a derived feature (1 unless the sum of the choices is 3 mod 5, one
    /// design in five): BO told of the feature spends nearly every model-guided evaluation on the
    /// right fifth of the space; with the default <c>features: none</c> it cannot tell.
    /// </summary>
    [Fact]
    public async Task Bo_uses_derived_features_of_the_context_when_told_to()
    {
        static Dictionary<string, double> Loss(Design d) => new() { ["loss"] = d.Values.Sum() % 5 == 3 ? 0.1 * d[0] : 1 + 0.1 * d[0] };
        async Task<double> ShareOnTarget(string json)
        {
            var ctx = new StrategyContext(SixChoices, [new Objective("loss", Direction.Minimize)], [], 2) { Features = new SumModFive() };
            var (trials, _, _) = await Run(ctx, Create("bo", ctx, json), new Evaluator(Loss), 40);
            return trials.Skip(10).Count(t => t.Metric("loss")!.Value < 1) / 30.0;
        }
        double with = await ShareOnTarget("""{"features": "auto"}""");
        double without = await ShareOnTarget("{}");
        Assert.True(with >= 0.8, $"with the feature {with:P0} of the guided evaluations were on target");
        Assert.True(without <= 0.5, $"without the feature {without:P0} of the guided evaluations were on target");
    }

    /// <summary>SumModFive plus an ordered feature (the share of choices that are "e").</summary>
    private sealed class SumModFiveAndShare : IDesignFeatures
    {
        public IReadOnlyList<string> Names { get; } = ["share_e", "sum_mod_5"];
        public void Compute(Design design, Span<double> destination)
        {
            destination[0] = design.Values.Count(v => v == 4) / (double)design.Space.Count;
            destination[1] = design.Values.Sum() % 5;
        }
        public bool IsCategorical(int index) => index == 1;
    }

    /// <summary>
    /// The designs (in order) of a 25-evaluation BO run on SixChoices with the given derived features and
    /// <c>features</c> value, minimising a loss that favours sum ≡ 3 (mod 5), then low c0 and few e's.
    /// </summary>
    private static async Task<List<string>> Keys(IDesignFeatures features, string mode)
    {
        static Dictionary<string, double> Loss(Design d) => new() { ["loss"] = (d.Values.Sum() % 5 == 3 ? 0 : 1) + 0.1 * d[0] + 0.05 * d.Values.Count(v => v == 4) };
        var ctx = new StrategyContext(SixChoices, [new Objective("loss", Direction.Minimize)], [], 4) { Features = features };
        var (trials, _, _) = await Run(ctx, Create("bo", ctx, $$"""{"features": {{mode}}}"""), new Evaluator(Loss), 25);
        return trials.OrderBy(t => t.Number).Select(t => SixChoices.Parse(t.Params).Key).ToList();
    }

    /// <summary>
    /// <c>features: categorical</c> keeps only a family's categorical features: with SumModFive plus an
    /// ordered feature it makes exactly the run that <c>features: auto</c> makes with SumModFive alone,
    /// and <c>auto</c> with both features makes a different one.
    /// </summary>
    [Fact]
    public async Task Bo_categorical_features_drop_the_ordered_ones()
    {
        var categorical = await Keys(new SumModFiveAndShare(), "\"categorical\"");
        Assert.Equal(await Keys(new SumModFive(), "\"auto\""), categorical);
        Assert.NotEqual(await Keys(new SumModFiveAndShare(), "\"auto\""), categorical);
        // The same selection by name, and by a prefix.
        Assert.Equal(categorical, await Keys(new SumModFiveAndShare(), """["sum_mod_5"]"""));
        Assert.Equal(categorical, await Keys(new SumModFiveAndShare(), """["sum_*"]"""));
        var only = SelectedFeatures.Categorical(new SumModFiveAndShare());
        Assert.Equal(["sum_mod_5"], only.Names);
        var values = new double[1];
        only.Compute(SixChoices.Create([4, 4, 0, 0, 0, 0]), values);
        Assert.Equal(3, values[0]);
        // A name selection keeps each feature's kind and the family's order.
        var named = SelectedFeatures.Named(new SumModFiveAndShare(), ["sum_mod_5", "share_*"]);
        Assert.Equal(["share_e", "sum_mod_5"], named.Names);
        Assert.Equal([false, true], new[] { named.IsCategorical(0), named.IsCategorical(1) });
    }

    /// <summary>SumModFiveAndShare with the share optional: used only when selected by name.</summary>
    private sealed class SumModFiveAndOptionalShare : IDesignFeatures
    {
        private readonly SumModFiveAndShare _inner = new();
        public IReadOnlyList<string> Names => _inner.Names;
        public void Compute(Design design, Span<double> destination) => _inner.Compute(design, destination);
        public bool IsCategorical(int index) => _inner.IsCategorical(index);
        public bool IsOptional(int index) => index == 0;
    }

    /// <summary>
    /// Optional derived features are left out of <c>features: auto</c> (the run is the one with the
    /// default set alone) and used when selected by name (the run is the one with both in the default set).
    /// </summary>
    [Fact]
    public async Task Bo_auto_features_leave_out_optional_ones()
    {
        var withShare = await Keys(new SumModFiveAndShare(), "\"auto\"");
        var without = await Keys(new SumModFive(), "\"auto\"");
        Assert.NotEqual(withShare, without);
        Assert.Equal(without, await Keys(new SumModFiveAndOptionalShare(), "\"auto\""));
        Assert.Equal(withShare, await Keys(new SumModFiveAndOptionalShare(), """["share_e", "sum_mod_5"]"""));
        Assert.Equal(["sum_mod_5"], SelectedFeatures.Default(new SumModFiveAndOptionalShare()).Names);
        var all = new SumModFive();
        Assert.Same(all, SelectedFeatures.Default(all));
    }

    /// <summary>
    /// <c>calibrate</c>'s factor is the root mean square of the last 50 standardised prediction errors:
    /// 1 until ten are known, kept within 0.5–5, and older errors drop out of the window.
    /// </summary>
    [Fact]
    public void Calibration_factor_is_the_rms_of_recent_standardised_errors()
    {
        Assert.Equal(1, BayesianOptimization.CalibrationFactor(Enumerable.Repeat(3.0, 9).ToList()));
        Assert.Equal(2, BayesianOptimization.CalibrationFactor(Enumerable.Range(0, 20).Select(i => i % 2 == 0 ? 2.0 : -2.0).ToList()), 12);
        Assert.Equal(5, BayesianOptimization.CalibrationFactor(Enumerable.Repeat(40.0, 12).ToList()));
        Assert.Equal(0.5, BayesianOptimization.CalibrationFactor(Enumerable.Repeat(0.01, 12).ToList()));
        // 30 old errors of 4, then 50 of 1: only the last 50 count
        var errors = Enumerable.Repeat(4.0, 30).Concat(Enumerable.Repeat(1.0, 50)).ToList();
        Assert.Equal(1, BayesianOptimization.CalibrationFactor(errors), 12);
        errors.Add(4.0);
        Assert.Equal(Math.Sqrt((49 + 16) / 50.0), BayesianOptimization.CalibrationFactor(errors), 12);
    }

    /// <summary>
    /// With <c>calibrate: true</c> every model-based choice of a membership run is scored against its
    /// evaluation, per objective (the ten initial random designs are not); without it none is.
    /// </summary>
    [Fact]
    public async Task Calibrate_scores_every_model_based_choice()
    {
        var objectives = new[] { new Objective("f1", Direction.Minimize), new Objective("f2", Direction.Minimize) };
        async Task<int[]> Counts(string json)
        {
            var ctx = new StrategyContext(TwoObjective, objectives, [], 5);
            var bo = (BayesianOptimization)Create("bo", ctx, json);
            await Run(ctx, bo, new Evaluator(TwoObjectiveValue), 30);
            return bo.CalibrationErrorCounts;
        }
        var scored = await Counts("""{"acquisition": "membership", "membership_draws": 8, "calibrate": true}""");
        Assert.Equal(new[] { 20, 20 }, scored);
        Assert.Empty(await Counts("""{"acquisition": "membership", "membership_draws": 8}"""));
    }

    /// <summary>A feature list that selects nothing, is empty, or is given for a space without derived features, or features_only without features or naming a metric the study does not have, is a config error naming what is wrong.</summary>
    [Fact]
    public void Bo_feature_lists_are_checked()
    {
        StrategyContext Context(IDesignFeatures? features) => new(SixChoices, [new Objective("loss", Direction.Minimize)], [], 4) { Features = features };
        var e1 = Assert.Throws<ConfigException>(() => Create("bo", Context(new SumModFiveAndShare()), """{"features": ["sum_mod_5", "depth*"]}"""));
        Assert.Contains("'depth*' matches none of the derived features (share_e, sum_mod_5)", e1.Message);
        var e2 = Assert.Throws<ConfigException>(() => Create("bo", Context(new SumModFiveAndShare()), """{"features": []}"""));
        Assert.Contains("selects no derived feature", e2.Message);
        var e3 = Assert.Throws<ConfigException>(() => Create("bo", Context(null), """{"features": ["sum_mod_5"]}"""));
        Assert.Contains("no derived features to select", e3.Message);
        var e4 = Assert.Throws<ConfigException>(() => Create("bo", Context(new SumModFiveAndShare()), """{"features_only": true}"""));
        Assert.Contains("features_only needs derived features", e4.Message);
        var e5 = Assert.Throws<ConfigException>(() => Create("bo", Context(new SumModFiveAndShare()), """{"features": "auto", "features_only": ["accuracy"]}"""));
        Assert.Contains("'accuracy' is not an objective or constraint metric of this study; accepted: loss", e5.Message);
        var e6 = Assert.Throws<ConfigException>(() => Create("bo", Context(new SumModFiveAndShare()), """{"features": "auto", "features_only": []}"""));
        Assert.Contains("names no metric", e6.Message);
    }

    /// <summary>
    /// With <c>membership_class_cap: k</c> and derived features, no model-guided choice falls in a class
    /// of identical features that already has k evaluations while another class is still open (the
    /// pool here is the whole space); the cap needs <c>features: auto</c>.
    /// </summary>
    [Fact]
    public async Task Membership_class_cap_limits_evaluations_per_feature_class()
    {
        var space = FiveChoices;
        // both objectives favour class 3 (sum mod 5), so an uncapped search piles into it
        static Dictionary<string, double> F(Design d)
        {
            double off = d.Values.Sum() % 5 == 3 ? 0 : 2;
            return new() { ["f1"] = off + d[0] + 0.3 * d[1], ["f2"] = off + (4 - d[0]) + 0.2 * d[2] };
        }
        var objectives = new[] { new Objective("f1", Direction.Minimize), new Objective("f2", Direction.Minimize) };
        async Task<List<int>> Classes(string json)
        {
            var ctx = new StrategyContext(space, objectives, [], 3) { Features = new SumModFive() };
            var (trials, _, _) = await Run(ctx, Create("bo", ctx, json), new Evaluator(F), 30);
            return trials.OrderBy(t => t.Number).Select(t => (int)(space.Parse(t.Params).Values.Sum() % 5)).ToList();
        }
        const string Common = "\"acquisition\": \"membership\", \"features\": \"auto\", \"membership_pool\": 5000, \"membership_draws\": 8";
        const int Cap = 4;
        var capped = await Classes($"{{{Common}, \"membership_class_cap\": {Cap}}}");
        for (int k = 10; k < capped.Count; k++)
        {
            var before = Enumerable.Range(0, 5).Select(c => capped.Take(k).Count(x => x == c)).ToArray();
            Assert.True(before[capped[k]] < Cap || before.All(n => n >= Cap),
                $"evaluation {k + 1} is in class {capped[k]}, which already had {before[capped[k]]} evaluations (per class: {string.Join(", ", before)})");
        }
        var free = await Classes($"{{{Common}}}");
        Assert.True(free.Skip(10).Count(c => c == 3) > capped.Skip(10).Count(c => c == 3), "the cap did not change where the search went");

        var ex = Assert.Throws<ConfigException>(() => Tandem.Core.Search.Strategies.BayesianOptimizationOptions.Bind(Options("""{"acquisition": "membership", "membership_class_cap": 3}""")));
        Assert.Contains("features: auto", ex.Message);
    }

    /// <summary>
    /// With <c>membership_extremes_every: 1</c> every model-guided proposal improves one objective alone
    /// (objectives in turn): both single-objective optima of a two-objective problem on 3,125 designs are
    /// evaluated within 40 evaluations, even with a trust region, and the option changes the run.
    /// </summary>
    [Fact]
    public async Task Membership_extremes_reach_both_ends_of_the_front()
    {
        var space = FiveChoices;
        static Dictionary<string, double> F(Design d) => new()
        {
            ["f1"] = d.Values.Sum(v => (v - 1) * (v - 1)),      // least at all "b"
            ["f2"] = d.Values.Sum(v => (v - 3) * (v - 3)) + 0.5 * d[0], // least at all "d"
        };
        var objectives = new[] { new Objective("f1", Direction.Minimize), new Objective("f2", Direction.Minimize) };
        async Task<List<Design>> Designs(string json)
        {
            var ctx = new StrategyContext(space, objectives, [], 4);
            var (trials, _, _) = await Run(ctx, Create("bo", ctx, json), new Evaluator(F), 40);
            return trials.OrderBy(t => t.Number).Select(t => space.Parse(t.Params)).ToList();
        }
        const string Common = "\"acquisition\": \"membership\", \"membership_region\": 1, \"membership_pool\": 5000, \"membership_draws\": 8";
        var designs = await Designs($"{{{Common}, \"membership_extremes_every\": 1}}");
        Assert.Contains(designs, d => d.Values.All(v => v == 1));
        Assert.Contains(designs, d => d.Values.All(v => v == 3));
        var plain = await Designs($"{{{Common}}}");
        Assert.NotEqual(plain.Select(d => d.Key), designs.Select(d => d.Key));
    }

    /// <summary>
    /// With <c>membership_region: 1</c> every model-guided choice differs in at most one parameter
    /// from a design on the front of the designs evaluated before it (one worker: the front at ask time).
    /// </summary>
    [Fact]
    public async Task Membership_region_keeps_choices_next_to_the_evaluated_front()
    {
        static Dictionary<string, double> F(Design d) => new()
        {
            ["f1"] = d[0] + d[1] + 0.5 * d[2] + 0.1 * d[3] * d[4],
            ["f2"] = (4 - d[0]) + 0.7 * (4 - d[1]) + 0.3 * d[5] + 0.2 * d[2] * (4 - d[3]),
        };
        var objectives = new[] { new Objective("f1", Direction.Minimize), new Objective("f2", Direction.Minimize) };
        var ctx = new StrategyContext(SixChoices, objectives, [], 6);
        // the designs and objective vectors of 40 evaluations, in order
        async Task<(List<Design> Designs, List<double[]> Vectors)> Guided(string json)
        {
            var (trials, _, _) = await Run(ctx, Create("bo", ctx, json), new Evaluator(F), 40);
            var ordered = trials.OrderBy(t => t.Number).ToList();
            return (ordered.Select(t => SixChoices.Parse(t.Params)).ToList(), ordered.Select(t => ctx.ObjectiveVector(t.ToOutcome())!).ToList());
        }
        // how many parameters evaluation k differs in from the nearest design of the front of evaluations 0 … k−1
        static int FromFront(List<Design> designs, List<double[]> vectors, int k)
        {
            var front = Enumerable.Range(0, k).Where(i => !Enumerable.Range(0, k).Any(j => NonDominatedSorting.Dominates(vectors[j], vectors[i]))).ToList();
            return front.Min(i => Enumerable.Range(0, 6).Count(p => designs[i][p] != designs[k][p]));
        }
        var (designs, vectors) = await Guided("""{"acquisition": "membership", "membership_region": 1, "membership_pool": 300, "membership_draws": 16}""");
        for (int k = 10; k < designs.Count; k++)
        {
            int nearest = FromFront(designs, vectors, k);
            Assert.True(nearest <= 1, $"evaluation {k + 1} differs in {nearest} parameters from every front design before it");
        }

        // membership_region_fronts: 2 centres the region on the first two fronts; every choice is next to
        // one of their designs, and some are next to a second-front design only
        var (designs2, vectors2) = await Guided("""{"acquisition": "membership", "membership_region": 1, "membership_region_fronts": 2, "membership_pool": 300, "membership_draws": 16}""");
        int secondOnly = 0;
        for (int k = 10; k < designs2.Count; k++)
        {
            var fronts = NonDominatedSorting.Sort(vectors2.Take(k).ToList());
            int Nearest(IEnumerable<int> set) => set.Select(i => Enumerable.Range(0, 6).Count(p => designs2[i][p] != designs2[k][p])).DefaultIfEmpty(99).Min();
            int first = Nearest(fronts[0]), both = Nearest(fronts.Take(2).SelectMany(f => f));
            Assert.True(both <= 1, $"evaluation {k + 1} differs in {both} parameters from every design of the first two fronts before it");
            if (first > 1) secondOnly++;
        }
        Assert.True(secondOnly > 0, "no choice used the second front");

        // membership_outside weighs candidates outside the region: weight 1 is no region at all
        async Task<string[]> Keys(string json)
        {
            var c = new StrategyContext(SixChoices, objectives, [], 6);
            var (t, _, _) = await Run(c, Create("bo", c, json), new Evaluator(F), 25);
            return t.OrderBy(x => x.Number).Select(x => x.DesignKey).ToArray();
        }
        const string Common = "\"acquisition\": \"membership\", \"membership_pool\": 300, \"membership_draws\": 16";
        Assert.Equal(await Keys($"{{{Common}}}"), await Keys($"{{{Common}, \"membership_region\": 1, \"membership_outside\": 1}}"));
        Assert.NotEqual(await Keys($"{{{Common}}}"), await Keys($"{{{Common}, \"membership_region\": 1}}"));

        // membership_global_every: k ignores the region on every k-th model-based proposal; 1 is no region at all
        Assert.Equal(await Keys($"{{{Common}}}"), await Keys($"{{{Common}, \"membership_region\": 1, \"membership_global_every\": 1}}"));
        var (designs3, vectors3) = await Guided("{" + Common + ", \"membership_region\": 1, \"membership_global_every\": 3}");
        for (int k = 10; k < designs3.Count; k++)
        {
            if ((k - 10 + 1) % 3 == 0) continue; // a global proposal
            int nearest = FromFront(designs3, vectors3, k);
            Assert.True(nearest <= 1, $"evaluation {k + 1} (a region proposal) differs in {nearest} parameters from every front design before it");
        }

        // membership_region_ends: 2 widens the region to two changes around the front's two end members
        // (each the front design best in one objective): every choice is within one change of a front
        // design or within two of an end, and some use the wider reach
        var (designs4, vectors4) = await Guided("{" + Common + ", \"membership_region\": 1, \"membership_region_ends\": 2}");
        int widened = 0;
        for (int k = 10; k < designs4.Count; k++)
        {
            var front = Enumerable.Range(0, k).Where(i => !Enumerable.Range(0, k).Any(j => NonDominatedSorting.Dominates(vectors4[j], vectors4[i]))).ToList();
            int Differ(int i) => Enumerable.Range(0, 6).Count(p => designs4[i][p] != designs4[k][p]);
            var ends = Enumerable.Range(0, 2).Select(o => front.MinBy(i => vectors4[i][o])).ToList();
            int nearest = front.Min(Differ), nearestEnd = ends.Min(Differ);
            Assert.True(nearest <= 1 || nearestEnd <= 2, $"evaluation {k + 1} differs in {nearest} parameters from every front design and {nearestEnd} from the ends");
            if (nearest > 1) widened++;
        }
        Assert.True(widened > 0, "no choice used the ends' wider region");
    }
}
