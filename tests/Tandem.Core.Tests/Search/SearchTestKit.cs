using Tandem.Core.Configuration;
using Tandem.Core.Objectives;
using Tandem.Core.Search;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;

namespace Tandem.Core.Tests.Search;

/// <summary>Small problems with known optima, and a runner helper, for the strategy tests.</summary>
internal static class SearchTestKit
{
    public static readonly StrategyRegistry Registry = BuiltInStrategies.Register(new StrategyRegistry());

    public static ConfigMap Options(string json) => (ConfigMap)JsonConfigReader.Parse(json, "test.json");

    public static IStrategy Create(string name, StrategyContext context, string json = "{}") => Registry.Create(name, context, Options(json));

    /// <summary>Evaluates a design with a function of its values (metric name → value), pruned when <paramref name="prune"/> says so.</summary>
    public sealed class Evaluator(Func<Design, Dictionary<string, double>> f, Func<Design, bool>? prune = null) : ITrialEvaluator
    {
        public int Calls;
        public readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> PerKey = new();

        public Task<TrialOutcome> EvaluateAsync(TrialContext context, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Calls);
            PerKey.AddOrUpdate(context.Design.Key, 1, (_, n) => n + 1);
            var m = f(context.Design);
            return Task.FromResult(prune?.Invoke(context.Design) == true ? TrialOutcome.Pruned("test prune", m) : TrialOutcome.Complete(m));
        }
    }

    /// <summary>Records the batch sizes asked of the inner strategy.</summary>
    public sealed class Recording(IStrategy inner) : IStrategy
    {
        public List<int> Asked { get; } = [];
        public List<int> Returned { get; } = [];
        public string Name => inner.Name;
        public IReadOnlyList<Design> Ask(int count) { Asked.Add(count); var r = inner.Ask(count); Returned.Add(r.Count); return r; }
        public void Tell(Design design, TrialOutcome outcome) => inner.Tell(design, outcome);
    }

    public static async Task<(IReadOnlyList<TrialRecord> Trials, StudyRunResult Result, InMemoryStudyStorage Storage)> Run(
        StrategyContext context, IStrategy strategy, ITrialEvaluator evaluator, int trials, int workers = 1)
    {
        var storage = new InMemoryStudyStorage();
        await storage.CreateStudyAsync(new StudyRecord { Name = "s", SpaceSignature = context.Space.Signature, ConfigJson = "{}", ProgramVersion = "test", CreatedAt = DateTimeOffset.UnixEpoch });
        var result = await new StudyRunner(storage).RunAsync("s", context, strategy, evaluator,
            new StudyRunnerOptions { Budget = new StudyBudget { MaxTrials = trials }, Workers = workers });
        return ((await storage.GetTrialsAsync("s")).OrderBy(t => t.Number).ToArray(), result, storage);
    }

    /// <summary>Four ordinal parameters 0…9: minimise Σ (xᵢ − targetᵢ)², optimum 0 at (3, 7, 0, 9).</summary>
    public static readonly DesignSpace Separable = new(Enumerable.Range(0, 4).Select(i => new OrdinalParameter($"x{i}", Enumerable.Range(0, 10).Select(v => (double)v))));
    public static readonly int[] SeparableTarget = [3, 7, 0, 9];

    public static Dictionary<string, double> SeparableValue(Design d) =>
        new() { ["loss"] = Enumerable.Range(0, 4).Sum(i => Math.Pow(d[i] - SeparableTarget[i], 2)) };

    /// <summary>
    /// Two objectives over x, y ∈ {0…20} and a categorical c: f1 = x, f2 = 20 − x + y + (c = "b" ? 0 : 3).
    /// The front is y = 0, c = "b": 21 designs, (f1, f2) = (x, 20 − x).
    /// </summary>
    public static readonly DesignSpace TwoObjective = new([
        new OrdinalParameter("x", Enumerable.Range(0, 21).Select(v => (double)v)),
        new OrdinalParameter("y", Enumerable.Range(0, 21).Select(v => (double)v)),
        new CategoricalParameter("c", ["a", "b", "c"]),
    ]);

    public static Dictionary<string, double> TwoObjectiveValue(Design d) =>
        new() { ["f1"] = d["x"], ["f2"] = 20 - d["x"] + d["y"] + (d.GetString("c") == "b" ? 0 : 3) };
}
