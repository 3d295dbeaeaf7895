using System.Collections.Concurrent;
using System.Collections.Immutable;
using Tandem.Core.Accuracy;
using Tandem.Core.Hardware;
using Tandem.Core.Search;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;
using Tandem.Core.Workloads;

namespace Tandem.Core.Tests.Studies;

/// <summary>Uniform random proposals from a seed; records what it was told.</summary>
internal sealed class SeededRandomStrategy(DesignSpace space, int seed) : IStrategy
{
    private readonly Random _rng = new(seed);
    public List<(string Key, TrialState State)> Told { get; } = [];
    public string Name => "test-random";
    public IReadOnlyList<Design> Ask(int count) => Enumerable.Range(0, count).Select(_ => space.Sample(_rng)).ToArray();
    public void Tell(Design design, TrialOutcome outcome) => Told.Add((design.Key, outcome.State));
}

/// <summary>Proposes a fixed list, then is exhausted.</summary>
internal sealed class ListStrategy(IReadOnlyList<Design> designs) : IStrategy
{
    private int _next;
    public string Name => "test-list";
    public IReadOnlyList<Design> Ask(int count)
    {
        var batch = designs.Skip(_next).Take(count).ToArray();
        _next += batch.Length;
        return batch;
    }
    public void Tell(Design design, TrialOutcome outcome) { }
}

/// <summary>Scores a design by a deterministic function of its values; counts calls per key.</summary>
internal sealed class FunctionEvaluator(Func<Design, TrialOutcome>? f = null) : ITrialEvaluator
{
    public ConcurrentDictionary<string, int> Calls { get; } = new();
    public Func<TrialContext, Task>? Before { get; set; }

    public async Task<TrialOutcome> EvaluateAsync(TrialContext context, CancellationToken cancellationToken = default)
    {
        Calls.AddOrUpdate(context.Design.Key, 1, (_, n) => n + 1);
        if (Before != null) await Before(context);
        return f?.Invoke(context.Design) ?? TrialOutcome.Complete(new Dictionary<string, double>
        {
            ["score"] = context.Design.Values.Sum(),
        });
    }
}

/// <summary>A one-parameter accelerator: cycles = MACs / hw.speed at 1 GHz; energy 1 pJ per MAC; area = speed mm².</summary>
internal sealed class ToyTemplate : IAcceleratorTemplate
{
    internal sealed record Config(int Speed) : AcceleratorConfig
    {
        public override double ClockHz => 1e9;
        public override string Describe() => $"toy ×{Speed}";
    }

    public string Name => "toy";
    public IReadOnlyList<Parameter> Parameters { get; } = [new OrdinalParameter("hw.speed", [1, 10, 100])];
    public AcceleratorConfig Decode(Design design) => new Config(design.GetInt("hw.speed"));
    public ICostModel CostModel { get; } = new Model();

    private sealed class Model : ICostModel
    {
        public HardwareReport Evaluate(Workload workload, AcceleratorConfig config, CostOptions? options = null)
        {
            int speed = ((Config)config).Speed;
            long cycles = 0;
            double energy = 0;
            bool truncated = false;
            foreach (var layer in workload.Layers)
            {
                cycles += layer.Macs / speed;
                energy += layer.Macs;
                if (options?.LatencyBudgetSeconds is double b && cycles / 1e9 > b) { truncated = true; break; }
            }
            return new HardwareReport
            {
                Template = "toy", Cycles = cycles, ClockHz = 1e9, EnergyPicojoules = energy, AreaSquareMillimetres = speed,
                Truncated = truncated, TruncationReason = truncated ? "latency budget" : null,
            };
        }
    }
}

/// <summary>Accuracy = 50 + number of conv layers; counts calls.</summary>
internal sealed class ToyAccuracy : IAccuracyEvaluator
{
    public int Calls;
    public string Fidelity => "toy";
    public TaskSpec Task { get; } = new("toy", new TensorShape(1, 28, 28), 10);
    public IReadOnlyList<string> MetricNames { get; } = ["accuracy"];

    public Task<AccuracyResult> EvaluateAsync(AccuracyRequest request, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Calls);
        return System.Threading.Tasks.Task.FromResult(new AccuracyResult
        {
            Metrics = ImmutableDictionary<string, double>.Empty.Add("accuracy", 50 + request.Network.Layers.OfType<Conv2dLayer>().Count()),
            Fidelity = Fidelity,
            Seconds = 0.5,
            Epochs = 1,
        });
    }
}
