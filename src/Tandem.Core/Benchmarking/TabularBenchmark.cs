using System.Collections.Immutable;
using System.Diagnostics;
using Tandem.Core.Accuracy.Tabular;
using Tandem.Core.Configuration;
using Tandem.Core.Objectives;
using Tandem.Core.Search;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Studies;

namespace Tandem.Core.Benchmarking;

/// <summary>A design space whose designs are rows of a table: the space and the table key of each design.</summary>
public sealed record TabularSpace(string Name, DesignSpace Space, Func<Design, string> KeyOf, Func<string, Design> DesignOf)
{
    /// <summary>Derived features of the space's designs for surrogate models (the family's), or null.</summary>
    public IDesignFeatures? Features { get; init; }

    public static IReadOnlyList<string> Known { get; } = ["nb201"];

    public static TabularSpace Create(string name)
    {
        switch (name.ToLowerInvariant())
        {
            case "nb201":
            {
                var family = new Nb201Family();
                var space = new DesignSpace(family.Parameters);
                return new TabularSpace("nb201", space, Nb201Family.ArchString, k => Nb201Family.FromArchString(space, k)) { Features = family.Features };
            }
            default:
                string? close = DidYouMean.Closest(name, Known);
                throw new ConfigException($"unknown tabular space '{name}';{(close != null ? $" did you mean '{close}'?" : "")} accepted: {string.Join(", ", Known)}");
        }
    }
}

/// <summary>One strategy entry of a benchmark: a label (as reported) and its config section (with <c>name</c>).</summary>
public sealed record BenchmarkStrategy(string Label, ConfigMap Config);

/// <summary>Inputs of <see cref="TabularBenchmark"/>. Budget ≥ 1 evaluations, Seeds ≥ 1 (seeds 0 … Seeds−1 offset by FirstSeed), Workers ≥ 1.</summary>
public sealed record TabularBenchmarkOptions
{
    public required TabularSpace Space { get; init; }
    public required MetricTable Table { get; init; }
    public required IReadOnlyList<Objective> Objectives { get; init; }
    public IReadOnlyList<Constraint> Constraints { get; init; } = [];
    public required IReadOnlyList<BenchmarkStrategy> Strategies { get; init; }
    public required int Budget { get; init; }
    public required int Seeds { get; init; }
    public int FirstSeed { get; init; }
    public int Workers { get; init; } = 1;
}

/// <summary>
/// Runs search strategies on a table that gives every design's objectives (e.g. NAS-Bench-201
/// accuracy joined with a device's measured latency) and measures how much of the exact Pareto
/// front each finds: every strategy runs once per seed through <see cref="StudyRunner"/> (in-memory
/// storage, de-duplication, the given worker count) for Budget distinct evaluations; the exact front
/// comes from the full table (feasible rows only); after each evaluation the tracker records the
/// hypervolume ratio (nadir of the exact front as reference) and the fraction of front members found.
/// Deterministic for given options; progress is reported per finished run.
/// </summary>
public sealed class TabularBenchmark(TabularBenchmarkOptions options, StrategyRegistry registry)
{
    public async Task<BenchmarkResult> RunAsync(IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        var o = options;
        foreach (var obj in o.Objectives) o.Table.Numbers(obj.Metric);
        foreach (var c in o.Constraints) o.Table.Numbers(c.Metric);
        var exact = BuildExactFront();
        var evaluator = new TableEvaluator(o);
        var results = new List<StrategyResult>();
        foreach (var s in o.Strategies)
        {
            var runs = new List<RunCurve>();
            for (int i = 0; i < o.Seeds; i++)
            {
                int seed = o.FirstSeed + i;
                var context = new StrategyContext(o.Space.Space, o.Objectives, o.Constraints, seed) { Features = o.Space.Features };
                var strategy = registry.Create(s.Config.GetString("name", s.Label), context, s.Config);
                var watch = Stopwatch.StartNew();
                await using var storage = new InMemoryStudyStorage();
                await storage.CreateStudyAsync(new StudyRecord
                {
                    Name = "bench", SpaceSignature = o.Space.Space.Signature, ConfigJson = "{}", ProgramVersion = "benchmark",
                    CreatedAt = DateTimeOffset.UnixEpoch,
                }, cancellationToken);
                var run = await new StudyRunner(storage).RunAsync("bench", context, strategy, evaluator,
                    new StudyRunnerOptions { Budget = new StudyBudget { MaxTrials = o.Budget }, Workers = o.Workers }, null, cancellationToken);
                watch.Stop();
                runs.Add(Track(exact, context, run.Trials, seed, watch.Elapsed.TotalSeconds, run.StopReason, strategy as IFrontForecast));
                progress?.Report($"{s.Label} seed {seed}: hypervolume ratio {runs[^1].HypervolumeRatio[^1]:F4}, front found {runs[^1].FrontFound}/{exact.Size} ({watch.Elapsed.TotalSeconds:F1} s)");
            }
            results.Add(new StrategyResult(s.Label, runs));
        }
        return new BenchmarkResult(exact, o.Budget, results);
    }

    private ExactFront BuildExactFront()
    {
        var o = options;
        var points = new List<(string, double[])>();
        var objCols = o.Objectives.Select(ob => o.Table.Numbers(ob.Metric)).ToArray();
        var conCols = o.Constraints.Select(c => o.Table.Numbers(c.Metric)).ToArray();
        for (int r = 0; r < o.Table.RowCount; r++)
        {
            bool ok = true;
            for (int c = 0; c < conCols.Length && ok; c++) ok = o.Constraints[c].IsSatisfied(conCols[c][r]);
            if (!ok) continue;
            points.Add((CanonicalKey(o.Table.Keys[r]), o.Objectives.Select((ob, k) => ob.ToMinimization(objCols[k][r])).ToArray()));
        }
        return new ExactFront(points);
    }

    /// <summary>Table keys as the space writes them (a table row that is not a design of the space is an input error).</summary>
    private string CanonicalKey(string tableKey)
    {
        try { return options.Space.KeyOf(options.Space.DesignOf(tableKey)); }
        catch (SpaceException e) { throw new TableException($"{string.Join(" + ", options.Table.Files)}: {options.Table.Key} '{tableKey}' is not a design of the {options.Space.Name} space: {e.Message}"); }
    }

    private RunCurve Track(ExactFront exact, StrategyContext context, IReadOnlyList<TrialRecord> trials, int seed, double seconds, StopReason stop, IFrontForecast? forecaster)
    {
        var tracker = new ParetoTracker(exact);
        var hv = new double[options.Budget];
        var ff = new double[options.Budget];
        var ordered = trials.OrderBy(t => t.Number).ToArray();
        var keys = new List<string>(ordered.Length);
        var forecasts = new List<double?>(ordered.Length);
        for (int k = 0; k < options.Budget; k++)
        {
            if (k < ordered.Length)
            {
                var t = ordered[k];
                var outcome = t.ToOutcome();
                var design = options.Space.Space.Parse(t.Params);
                keys.Add(options.Space.KeyOf(design));
                forecasts.Add(forecaster?.FrontProbability(design.Key));
                tracker.Add(keys[^1], context.ObjectiveVector(outcome), context.IsFeasible(outcome));
            }
            hv[k] = tracker.HypervolumeRatio;
            ff[k] = tracker.FrontFraction;
        }
        return new RunCurve(seed, hv, ff, tracker.FrontFound, ordered.Length, seconds, stop) { Keys = keys, Forecasts = forecasts };
    }

    /// <summary>Answers a design from the table: the objective and constraint columns of its row.</summary>
    private sealed class TableEvaluator(TabularBenchmarkOptions o) : ITrialEvaluator
    {
        private readonly string[] _columns = o.Objectives.Select(x => x.Metric).Concat(o.Constraints.Select(c => c.Metric)).Distinct().ToArray();
        private readonly Dictionary<string, int> _rows = BuildRows(o);

        private static Dictionary<string, int> BuildRows(TabularBenchmarkOptions o)
        {
            var rows = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int r = 0; r < o.Table.RowCount; r++)
                rows[o.Space.KeyOf(o.Space.DesignOf(o.Table.Keys[r]))] = r;
            return rows;
        }

        public Task<TrialOutcome> EvaluateAsync(TrialContext context, CancellationToken cancellationToken = default)
        {
            string key = o.Space.KeyOf(context.Design);
            if (!_rows.TryGetValue(key, out int row))
                return Task.FromResult(TrialOutcome.Failed($"no row for {key} in the table"));
            var metrics = ImmutableDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
            foreach (var c in _columns) metrics[c] = o.Table.Number(row, c);
            return Task.FromResult(TrialOutcome.Complete(metrics.ToImmutable()));
        }
    }
}

/// <summary>One run's curves: after k+1 evaluations, <see cref="HypervolumeRatio"/>[k] and <see cref="FrontFraction"/>[k].</summary>
public sealed record RunCurve(int Seed, double[] HypervolumeRatio, double[] FrontFraction, int FrontFound, int Evaluations, double Seconds, StopReason StopReason)
{
    /// <summary>The evaluated designs in evaluation order (the table's keys), when the benchmark records them.</summary>
    public IReadOnlyList<string> Keys { get; init; } = [];

    /// <summary>Per evaluated design (as <see cref="Keys"/>), the strategy's predicted probability that it is a front member when it proposed it (<see cref="IFrontForecast"/>), or null.</summary>
    public IReadOnlyList<double?> Forecasts { get; init; } = [];

    /// <summary>The forecast of evaluation k (0-based), or null when none was recorded.</summary>
    public double? ForecastAt(int k) => k < Forecasts.Count ? Forecasts[k] : null;
}

/// <summary>All runs of one strategy.</summary>
public sealed record StrategyResult(string Label, IReadOnlyList<RunCurve> Runs)
{
    /// <summary>Mean and sample standard deviation (n − 1; 0 for one run) over runs of a curve at each evaluation count.</summary>
    public (double[] Mean, double[] Std) Curve(Func<RunCurve, double[]> select)
    {
        int n = select(Runs[0]).Length;
        var mean = new double[n];
        var std = new double[n];
        for (int k = 0; k < n; k++)
        {
            var xs = Runs.Select(r => select(r)[k]).ToArray();
            (mean[k], std[k]) = MeanStd(xs);
        }
        return (mean, std);
    }

    public static (double Mean, double Std) MeanStd(IReadOnlyList<double> xs)
    {
        double mean = xs.Average();
        double std = xs.Count > 1 ? Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1)) : 0;
        return (mean, std);
    }
}

/// <summary>What a benchmark measured: the exact front and every strategy's runs.</summary>
public sealed record BenchmarkResult(ExactFront Exact, int Budget, IReadOnlyList<StrategyResult> Strategies);
