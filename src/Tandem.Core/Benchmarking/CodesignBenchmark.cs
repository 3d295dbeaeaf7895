using System.Collections.Immutable;
using System.Diagnostics;
using Tandem.Core.Accuracy.Tabular;
using Tandem.Core.Hardware;
using Tandem.Core.Objectives;
using Tandem.Core.Search;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Studies;
using Tandem.Core.Workloads;

namespace Tandem.Core.Benchmarking;

/// <summary>
/// Inputs of <see cref="CodesignBenchmark"/>: a table-keyed network family, its accuracy table and
/// column, the task input, an accelerator template (whose <c>hw.*</c> space is small enough to
/// enumerate together with the networks), the strategies, Budget ≥ 2 evaluations, Seeds ≥ 1 and an
/// optional spec list.
/// </summary>
public sealed record CodesignBenchmarkOptions
{
    public required ITableKeyedFamily Family { get; init; }
    public required MetricTable Table { get; init; }
    public required string AccuracyColumn { get; init; }
    public required TensorShape Input { get; init; }
    public int NumClasses { get; init; } = 10;
    public required IAcceleratorTemplate Hardware { get; init; }
    public required IReadOnlyList<BenchmarkStrategy> Strategies { get; init; }
    public required int Budget { get; init; }
    public required int Seeds { get; init; }
    public int FirstSeed { get; init; }
    public IReadOnlyList<Constraint> Constraints { get; init; } = [];
    public int Threads { get; init; } = Environment.ProcessorCount;
}

/// <summary>
/// Network × hardware co-design benchmark. Every (network, hardware) pair is evaluated once up
/// front — accuracy from the table, latency and energy from the template's cost model — giving the
/// exact Pareto front of (accuracy ↑, latency_ms ↓, energy_uj ↓) over feasible pairs; searches then
/// read results from that enumeration, so every strategy sees exactly the numbers the model gives.
/// Three ways of spending the same budget are compared, each per strategy and seed:
/// <list type="bullet">
/// <item><b>joint</b>: the strategy searches networks and hardware together;</item>
/// <item><b>hardware-first</b>: the hardware is fixed first to the most common array — the
///   configuration that occurs most often among the exact front's members, i.e. the best single
///   fixed choice in hindsight — and the strategy searches networks on it;</item>
/// <item><b>network-first</b>: half the budget searches networks alone for (accuracy ↑, MACs ↓),
///   then the remaining evaluations size the hardware for the chosen networks — the found
///   network front, most accurate first, each tried on every hardware configuration until the
///   budget is spent.</item>
/// </list>
/// Hypervolume ratio and front fraction are measured against the exact front as in the tabular benchmark.
/// </summary>
public sealed class CodesignBenchmark(CodesignBenchmarkOptions options, StrategyRegistry registry)
{
    public static readonly Objective[] Objectives =
    [
        new(MetricNames.Accuracy, Direction.Maximize),
        new(MetricNames.LatencyMs, Direction.Minimize),
        new(MetricNames.EnergyMicrojoules, Direction.Minimize),
    ];

    public static readonly string[] Modes = ["joint", "hardware-first", "network-first"];

    private readonly IReadOnlyList<Constraint> _constraints = options.Constraints;
    private DesignSpace? _arch, _hw, _joint;
    private Design[] _hwDesigns = [];
    private Dictionary<string, int> _archIndex = new(StringComparer.Ordinal);
    private Dictionary<string, int> _hwIndex = new(StringComparer.Ordinal);
    private double[][] _metrics = []; // [arch × H + hw] → accuracy, latency, energy, macs
    private long[] _macs = [];

    /// <summary>Number of (network, hardware) pairs and the time the enumeration took, known after <see cref="RunAsync"/>.</summary>
    public (long Pairs, double Seconds) Enumeration { get; private set; }

    public string? FixedHardware { get; private set; }

    public async Task<IReadOnlyDictionary<string, BenchmarkResult>> RunAsync(IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        var o = options;
        _arch = new DesignSpace(o.Family.Parameters);
        _hw = new DesignSpace(o.Hardware.Parameters);
        _joint = new DesignSpace(o.Family.Parameters.Concat(o.Hardware.Parameters));
        if (!_hw.IsDiscrete || !_arch.IsDiscrete) throw new InputException("the co-design benchmark enumerates every pair, so the network and hardware spaces must be discrete");
        _hwDesigns = _hw.Enumerate().ToArray();
        var archDesigns = _arch.Enumerate().ToArray();
        _archIndex = archDesigns.Select((d, i) => (d.Key, i)).ToDictionary(x => x.Key, x => x.i, StringComparer.Ordinal);
        _hwIndex = _hwDesigns.Select((d, i) => (d.Key, i)).ToDictionary(x => x.Key, x => x.i, StringComparer.Ordinal);
        var accuracy = o.Table.Numbers(o.AccuracyColumn);

        int H = _hwDesigns.Length, A = archDesigns.Length;
        progress?.Report($"enumerating {A} networks × {H} hardware configurations = {(long)A * H} pairs");
        var watch = Stopwatch.StartNew();
        _metrics = new double[(long)A * H > int.MaxValue ? throw new InputException("too many pairs to enumerate") : A * H][];
        _macs = new long[A];
        var configs = _hwDesigns.Select(d => o.Hardware.Decode(_joint.Create(archDesigns[0].Values.Concat(d.Values).ToArray()))).ToArray();
        var cost = new CostOptions { PerLayer = false };
        int done = 0;
        Parallel.For(0, A, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, o.Threads), CancellationToken = cancellationToken }, a =>
        {
            var arch = archDesigns[a];
            string key = o.Family.TableKey(arch);
            if (!o.Table.TryGetRow(key, out int row)) throw new TableException($"{string.Join(" + ", o.Table.Files)}: no row for {o.Table.Key} '{key}'");
            var network = o.Family.Lower(arch, o.Input, o.NumClasses);
            _macs[a] = network.TotalMacs;
            for (int h = 0; h < H; h++)
            {
                var report = o.Hardware.CostModel.Evaluate(network, configs[h], cost);
                _metrics[a * H + h] = [accuracy[row], report.LatencySeconds * 1e3, report.EnergyPicojoules * 1e-6, network.TotalMacs];
            }
            int n = Interlocked.Increment(ref done);
            if (n % 2000 == 0) progress?.Report($"  {n}/{A} networks costed ({watch.Elapsed.TotalSeconds:F0} s)");
        });
        Enumeration = ((long)A * H, watch.Elapsed.TotalSeconds);

        var feasible = new List<(string, double[])>();
        for (int a = 0; a < A; a++)
            for (int h = 0; h < H; h++)
            {
                var m = Outcome(a, h);
                if (o.Constraints.All(c => c.IsSatisfied(m.Metrics[c.Metric])))
                    feasible.Add((JointKey(a, h), Objectives.Select(ob => ob.ToMinimization(m.Metrics[ob.Metric])).ToArray()));
            }
        var exact = new ExactFront(feasible);
        int fixedHw = exact.Members.Select(m => _hwIndex[m.Key.Split('|')[1]]).GroupBy(h => h).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
        FixedHardware = _hwDesigns[fixedHw].Key;
        progress?.Report($"exact front: {exact.Size} pairs; most common hardware on it: {FixedHardware}");

        var results = new Dictionary<string, BenchmarkResult>(StringComparer.Ordinal);
        foreach (var mode in Modes)
        {
            var strategies = new List<StrategyResult>();
            foreach (var s in o.Strategies)
            {
                var runs = new List<RunCurve>();
                for (int i = 0; i < o.Seeds; i++)
                {
                    int seed = o.FirstSeed + i;
                    var w = Stopwatch.StartNew();
                    var pairs = mode switch
                    {
                        "joint" => await Joint(s, seed, cancellationToken),
                        "hardware-first" => await HardwareFirst(s, seed, fixedHw, cancellationToken),
                        _ => await NetworkFirst(s, seed, cancellationToken),
                    };
                    runs.Add(Track(exact, pairs, seed, w.Elapsed.TotalSeconds));
                    progress?.Report($"{mode}/{s.Label} seed {seed}: hypervolume ratio {runs[^1].HypervolumeRatio[^1]:F4}, front found {runs[^1].FrontFound}/{exact.Size}");
                }
                strategies.Add(new StrategyResult(s.Label, runs));
            }
            results[mode] = new BenchmarkResult(exact, o.Budget, strategies);
        }
        return results;
    }

    private string JointKey(int a, int h) => $"{a}|{_hwDesigns[h].Key}";

    private TrialOutcome Outcome(int a, int h)
    {
        var m = _metrics[a * _hwDesigns.Length + h];
        return TrialOutcome.Complete(ImmutableDictionary<string, double>.Empty
            .Add(MetricNames.Accuracy, m[0]).Add(MetricNames.LatencyMs, m[1]).Add(MetricNames.EnergyMicrojoules, m[2]).Add(MetricNames.Macs, m[3]));
    }

    private (int Arch, int Hw) Split(Design joint)
    {
        var arch = _arch!.Create(joint.Values.Take(_arch.Count).ToArray());
        var hw = _hw!.Create(joint.Values.Skip(_arch.Count).ToArray());
        return (_archIndex[arch.Key], _hwIndex[hw.Key]);
    }

    private async Task<List<(int, int)>> Joint(BenchmarkStrategy s, int seed, CancellationToken ct)
    {
        var context = new StrategyContext(_joint!, Objectives, options.Constraints, seed) { FastEvaluator = new FastLookup(this), Features = options.Family.Features };
        var trials = await Run(context, s, new Lookup(this, d => Split(d)), options.Budget, ct);
        return trials.Select(t => Split(_joint!.Parse(t.Params))).ToList();
    }

    private async Task<List<(int, int)>> HardwareFirst(BenchmarkStrategy s, int seed, int hw, CancellationToken ct)
    {
        var context = new StrategyContext(_arch!, Objectives, options.Constraints, seed) { Features = options.Family.Features };
        var trials = await Run(context, s, new Lookup(this, d => (_archIndex[d.Key], hw)), options.Budget, ct);
        return trials.Select(t => (_archIndex[_arch!.Parse(t.Params).Key], hw)).ToList();
    }

    private async Task<List<(int, int)>> NetworkFirst(BenchmarkStrategy s, int seed, CancellationToken ct)
    {
        int phase1 = options.Budget / 2;
        var objectives = new[] { new Objective(MetricNames.Accuracy, Direction.Maximize), new Objective(MetricNames.Macs, Direction.Minimize) };
        var context = new StrategyContext(_arch!, objectives, [], seed) { Features = options.Family.Features };
        var trials = await Run(context, s, new Lookup(this, d => (_archIndex[d.Key], 0)), phase1, ct);
        var evaluated = trials.Select(t => _archIndex[_arch!.Parse(t.Params).Key]).ToArray();
        var points = evaluated.Select(a => ($"{a}", new[] { -_metrics[a * _hwDesigns.Length][0], (double)_macs[a] })).ToList();
        var chosen = ExactFront.FrontOf(points).Select(p => int.Parse(p.Key, System.Globalization.CultureInfo.InvariantCulture))
            .OrderByDescending(a => _metrics[a * _hwDesigns.Length][0]).ThenBy(a => a).ToArray();
        // Phase 1 evaluated networks only: those evaluations produced no (network, hardware) pair.
        var pairs = new List<(int, int)>();
        var filler = Enumerable.Repeat((-1, -1), evaluated.Length);
        pairs.AddRange(filler);
        foreach (int a in chosen)
            for (int h = 0; h < _hwDesigns.Length && pairs.Count < options.Budget; h++) pairs.Add((a, h));
        return pairs;
    }

    private async Task<IReadOnlyList<TrialRecord>> Run(StrategyContext context, BenchmarkStrategy s, ITrialEvaluator evaluator, int budget, CancellationToken ct)
    {
        var strategy = registry.Create(s.Config.GetString("name", s.Label), context, s.Config);
        await using var storage = new InMemoryStudyStorage();
        await storage.CreateStudyAsync(new StudyRecord
        {
            Name = "bench", SpaceSignature = context.Space.Signature, ConfigJson = "{}", ProgramVersion = "benchmark", CreatedAt = DateTimeOffset.UnixEpoch,
        }, ct);
        var run = await new StudyRunner(storage).RunAsync("bench", context, strategy, evaluator,
            new StudyRunnerOptions { Budget = new StudyBudget { MaxTrials = budget } }, null, ct);
        return run.Trials.OrderBy(t => t.Number).ToArray();
    }

    private RunCurve Track(ExactFront exact, List<(int Arch, int Hw)> pairs, int seed, double seconds)
    {
        var tracker = new ParetoTracker(exact);
        var hv = new double[options.Budget];
        var ff = new double[options.Budget];
        for (int k = 0; k < options.Budget; k++)
        {
            if (k < pairs.Count && pairs[k].Arch >= 0)
            {
                var (a, h) = pairs[k];
                var m = Outcome(a, h);
                bool ok = options.Constraints.All(c => c.IsSatisfied(m.Metrics[c.Metric]));
                tracker.Add(JointKey(a, h), Objectives.Select(ob => ob.ToMinimization(m.Metrics[ob.Metric])).ToArray(), ok);
            }
            hv[k] = tracker.HypervolumeRatio;
            ff[k] = tracker.FrontFraction;
        }
        return new RunCurve(seed, hv, ff, tracker.FrontFound, Math.Min(pairs.Count, options.Budget), seconds, StopReason.TrialBudget);
    }

    /// <summary>Answers a trial from the enumeration.</summary>
    private sealed class Lookup(CodesignBenchmark owner, Func<Design, (int Arch, int Hw)> locate) : ITrialEvaluator
    {
        public Task<TrialOutcome> EvaluateAsync(TrialContext context, CancellationToken cancellationToken = default)
        {
            var (a, h) = locate(context.Design);
            return Task.FromResult(owner.Outcome(a, h));
        }
    }

    /// <summary>Hardware-only evaluation for two-level exploration: the pair's latency and energy, no accuracy.</summary>
    private sealed class FastLookup(CodesignBenchmark owner) : IFastEvaluator
    {
        public TrialOutcome EvaluateFast(Design design)
        {
            var (a, h) = owner.Split(design);
            var m = owner._metrics[a * owner._hwDesigns.Length + h];
            var metrics = ImmutableDictionary<string, double>.Empty.Add(MetricNames.LatencyMs, m[1]).Add(MetricNames.EnergyMicrojoules, m[2]).Add(MetricNames.Macs, m[3]);
            var broken = owner._constraints.Where(c => metrics.TryGetValue(c.Metric, out double v) && !c.IsSatisfied(v)).ToArray();
            return broken.Length > 0 ? TrialOutcome.Pruned(string.Join("; ", broken.Select(c => c.Explain(metrics[c.Metric]))), metrics) : TrialOutcome.Complete(metrics);
        }
    }
}
