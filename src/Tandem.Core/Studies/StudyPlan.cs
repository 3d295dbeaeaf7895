using Tandem.Core.Accuracy;
using Tandem.Core.Configuration;
using Tandem.Core.Objectives;
using Tandem.Core.Search;
using Tandem.Core.Workloads;

namespace Tandem.Core.Studies;

/// <summary>What happens after the search: the most accurate Pareto-front designs are retrained with a larger budget and tested.</summary>
public sealed record FinalRetrainOptions
{
    /// <summary>Retrain at most this many front designs (most accurate first); 0 disables the final phase.</summary>
    public int Top { get; init; } = 5;

    /// <summary>Multiplier on the evaluator's default budget (<see cref="AccuracyRequest.BudgetScale"/>).</summary>
    public double BudgetScale { get; init; } = 4;
}

/// <summary>
/// A study config bound to components: the problem (family, template, task, specs), objectives,
/// the accuracy evaluator, the strategy, budgets and the final phase. <see cref="ConfigJson"/> is the
/// resolved config (overrides applied) that is stored with the study and re-bound on resume.
/// </summary>
public sealed class StudyPlan
{
    public required string Name { get; init; }
    public required int Seed { get; init; }
    public string? Storage { get; init; }
    public required CoExplorationProblem Problem { get; init; }
    public required IReadOnlyList<Objective> Objectives { get; init; }
    public IAccuracyEvaluator? Accuracy { get; init; }
    public required string StrategyName { get; init; }
    public required ConfigMap StrategyOptions { get; init; }
    public required StudyBudget Budget { get; init; }
    public int Workers { get; init; } = 1;
    public required FinalRetrainOptions Final { get; init; }
    public required string ConfigJson { get; init; }

    public IReadOnlyList<Constraint> Specs => Problem.Specs;

    /// <summary>The strategy's view of the study; <paramref name="fast"/> enables two-level exploration (hardware-only evaluations).</summary>
    public StrategyContext CreateStrategyContext(TimeProvider? time = null, IFastEvaluator? fast = null) =>
        new(Problem.Space, Objectives, Specs, Seed, time) { FastEvaluator = Problem.Hardware is null ? null : fast, Features = Problem.Family.Features };

    public CoExplorationEvaluator CreateEvaluator() => new(Problem, Accuracy);
}

/// <summary>The light-weight facts of a stored study (see <see cref="StudyConfigBinder.Outline"/>).</summary>
public sealed record StudyOutline(IReadOnlyList<Objective> Objectives, IReadOnlyList<Constraint> Specs, Spaces.Families.INetworkFamily Family, bool HasHardware);

/// <summary>
/// Binds a study config tree (YAML or JSON, see docs/study-config.md) to a <see cref="StudyPlan"/>.
/// Every key is checked (unknown keys get a "did you mean"); every error names file, line and key.
/// </summary>
public static class StudyConfigBinder
{
    public static readonly string[] TopLevelKeys =
        ["name", "seed", "storage", "task", "network", "hardware", "objectives", "specs", "strategy", "accuracy", "budget", "final", "early_termination"];

    public static StudyPlan Bind(ConfigMap root, ComponentCatalog catalog, AccuracyEnvironment environmentTemplate, Func<string> defaultName)
    {
        root.CheckKeys(TopLevelKeys);
        string name = root.GetString("name") ?? defaultName();
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200 || name.Any(char.IsControl))
            throw root.Error($"'name' must be 1 to 200 printable characters (got '{name}')");
        int seed = root.GetInt("seed", 0, min: 0);

        // Network family.
        var networkMap = root.GetMap("network") ?? throw root.Error("'network' is required (e.g. network: { family: plain-cnn })");
        var family = catalog.CreateFamily(networkMap.GetString("family", "plain-cnn"), networkMap, networkMap);

        // Hardware template (optional: network-only studies).
        var hardwareMap = root.GetMap("hardware");
        var template = hardwareMap is null || hardwareMap.GetString("template") is "none"
            ? null
            : catalog.CreateTemplate(hardwareMap.GetString("template", "systolic"), hardwareMap, hardwareMap);

        // Designs evaluated at a time: evaluators that share a process-wide thread pool divide the cores among them.
        var budgetMap = root.GetMapOrEmpty("budget").CheckKeys("trials", "time_limit", "workers");
        int workers = budgetMap.GetInt("workers", 1, min: 1, max: 256);

        // Accuracy evaluator (defines the task) or an explicit task for hardware-only studies.
        var accuracyMap = root.GetMapOrEmpty("accuracy");
        string evaluatorName = accuracyMap.GetString("evaluator", "train");
        IAccuracyEvaluator? accuracy = null;
        TaskSpec task;
        var taskMap = root.GetMap("task");
        if (evaluatorName == "none")
        {
            accuracyMap.CheckKeys("evaluator");
            task = BindTask(taskMap ?? throw root.Error("with 'accuracy: { evaluator: none }' give 'task: { input: [C, H, W], classes: N }'"));
        }
        else
        {
            // The evaluator binds its own options; "evaluator" is the selector, not one of them.
            var options = new ConfigMap(accuracyMap.Path, accuracyMap.Location, accuracyMap.Entries.Where(e => e.Key != "evaluator"));
            accuracy = catalog.Evaluators.Create(evaluatorName, options, environmentTemplate with { Family = family, Seed = seed, Workers = workers });
            task = accuracy.Task;
            if (taskMap != null) throw taskMap.Error("'task' is given by the accuracy evaluator's dataset; remove it or use 'accuracy: { evaluator: none }'");
        }

        // Objectives and specs.
        var objectives = BindObjectives(root.GetMap("objectives"), accuracy, template != null);
        var specs = BindSpecs(root);
        bool early = root.GetBool("early_termination", true);
        var problem = new CoExplorationProblem(family, template, task, specs, early);

        var strategyMap = root.GetMapOrEmpty("strategy");
        string strategyName = strategyMap.GetString("name", "evolution");
        catalog.Strategies.EnsureKnown(strategyName, strategyMap);

        var budget = new StudyBudget
        {
            MaxTrials = budgetMap.Has("trials") ? budgetMap.GetInt("trials", 0, min: 1) : null,
            TimeLimit = budgetMap.GetDuration("time_limit"),
        };
        if (budget.MaxTrials is null && budget.TimeLimit is null)
            throw root.Error("'budget' needs 'trials' or 'time_limit' (or both), e.g. budget: { trials: 40, time_limit: 12m }");
        var finalMap = root.GetMapOrEmpty("final").CheckKeys("top", "budget_scale");
        var final = new FinalRetrainOptions
        {
            Top = finalMap.GetInt("top", 5, min: 0, max: 1000),
            BudgetScale = finalMap.GetDouble("budget_scale", 4, min: 0.01, max: 1000),
        };

        return new StudyPlan
        {
            Name = name,
            Seed = seed,
            Storage = root.GetString("storage"),
            Problem = problem,
            Objectives = objectives,
            Accuracy = accuracy,
            StrategyName = strategyName,
            StrategyOptions = strategyMap,
            Budget = budget,
            Workers = workers,
            Final = final,
            ConfigJson = ConfigWriter.ToJson(Resolved(root, name, objectives)),
        };
    }

    /// <summary>The config as stored: the name and the objectives written out, so readers need no components to know them.</summary>
    private static ConfigMap Resolved(ConfigMap root, string name, IReadOnlyList<Objective> objectives)
    {
        root = ConfigWriter.Override(root, "name", name);
        var max = objectives.Where(o => o.Direction == Direction.Maximize).Select(o => o.Metric).ToArray();
        var min = objectives.Where(o => o.Direction == Direction.Minimize).Select(o => o.Metric).ToArray();
        root = ConfigWriter.Override(root, "objectives", ConfigMap.Empty("objectives", "resolved"));
        if (max.Length > 0) root = ConfigWriter.Override(root, "objectives.maximize", max, "resolved");
        if (min.Length > 0) root = ConfigWriter.Override(root, "objectives.minimize", min, "resolved");
        return root;
    }

    /// <summary>
    /// What a stored study's config says without building its heavy components (no dataset, no
    /// evaluator): its objectives, specs and network family, for showing and exporting stored studies.
    /// </summary>
    public static StudyOutline Outline(ConfigMap root, ComponentCatalog catalog)
    {
        var networkMap = root.GetMap("network") ?? throw root.Error("'network' is missing");
        var family = catalog.CreateFamily(networkMap.GetString("family", "plain-cnn"), networkMap, networkMap);
        var objectives = BindObjectives(root.GetMap("objectives") ?? throw root.Error("'objectives' is missing"), null, false);
        var hardware = root.GetMap("hardware");
        return new StudyOutline(objectives, BindSpecs(root), family, hardware is not null && hardware.GetString("template") is not "none");
    }

    private static TaskSpec BindTask(ConfigMap map)
    {
        map.CheckKeys("input", "classes", "name");
        var input = map.GetNumberList("input", 1, 100_000) ?? throw map.Error("'input' is required, e.g. input: [1, 28, 28]");
        if (input.Count != 3 || input.Any(v => v != Math.Floor(v)))
            throw map.Error("'input' must be three whole numbers [channels, height, width]");
        return new TaskSpec(map.GetString("name", "custom"), new TensorShape((int)input[0], (int)input[1], (int)input[2]),
            map.GetInt("classes", 10, min: 1, max: 1_000_000));
    }

    private static IReadOnlyList<Objective> BindObjectives(ConfigMap? map, IAccuracyEvaluator? accuracy, bool hasHardware)
    {
        if (map is null)
        {
            var defaults = new List<Objective>();
            if (accuracy != null) defaults.Add(new Objective(accuracy.MetricNames[0], Direction.Maximize));
            if (hasHardware)
            {
                defaults.Add(new Objective(MetricNames.LatencyMs, Direction.Minimize));
                defaults.Add(new Objective(MetricNames.EnergyMicrojoules, Direction.Minimize));
            }
            if (defaults.Count == 0) defaults.Add(new Objective(MetricNames.Macs, Direction.Minimize));
            return defaults;
        }
        map.CheckKeys("maximize", "minimize");
        var result = new List<Objective>();
        foreach (var m in map.GetStringList("maximize") ?? []) result.Add(new Objective(m, Direction.Maximize));
        foreach (var m in map.GetStringList("minimize") ?? []) result.Add(new Objective(m, Direction.Minimize));
        if (result.Count == 0) throw map.Error("give at least one metric under 'maximize' or 'minimize'");
        var dup = result.GroupBy(o => o.Metric).FirstOrDefault(g => g.Count() > 1);
        if (dup != null) throw map.Error($"metric '{dup.Key}' appears more than once among the objectives");
        return result;
    }

    private static IReadOnlyList<Constraint> BindSpecs(ConfigMap root)
    {
        var list = root.GetList("specs");
        if (list is null) return [];
        var specs = new List<Constraint>();
        foreach (var item in list.Items)
        {
            if (item is not ConfigScalar { Value: not null } s) throw item.Error("a spec is written as text, e.g. \"latency_ms <= 2\"");
            try { specs.Add(Constraint.Parse(s.Value)); }
            catch (FormatException e) { throw s.Error(e.Message); }
        }
        foreach (var group in specs.GroupBy(c => c.Metric))
        {
            double upper = group.Where(c => c.Op == ConstraintOp.LessOrEqual).Select(c => c.Bound).DefaultIfEmpty(double.PositiveInfinity).Min();
            double lower = group.Where(c => c.Op == ConstraintOp.GreaterOrEqual).Select(c => c.Bound).DefaultIfEmpty(double.NegativeInfinity).Max();
            if (lower > upper)
                throw list.Error($"the specs on '{group.Key}' contradict each other: it must be ≥ {lower} and ≤ {upper}");
        }
        return specs;
    }
}
