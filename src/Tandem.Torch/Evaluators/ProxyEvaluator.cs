using Tandem.Core.Accuracy;
using Tandem.Core.Configuration;
using Tandem.Torch.Data;
using Tandem.Torch.Modules;
using Tandem.Torch.Proxies;
using TorchSharp;
using static TorchSharp.torch;

namespace Tandem.Torch.Evaluators;

/// <summary>
/// Options of a zero-cost proxy fidelity: the dataset, the batch size (images) and number of batches
/// averaged (synflow uses no data). Batches come from the training part of the study's split, chosen
/// by the study seed, so every design is scored on the same images.
/// </summary>
public sealed record ProxyEvaluatorOptions
{
    public static readonly IReadOnlyList<string> ConfigKeys = [.. DatasetOptions.ConfigKeys, "batch_size", "batches", "validation_samples", "threads"];

    public DatasetOptions Dataset { get; init; } = new();
    public int BatchSize { get; init; } = 64;
    public int Batches { get; init; } = 1;
    public int ValidationSamples { get; init; } = 5_000;
    public int Threads { get; init; }

    public static ProxyEvaluatorOptions Bind(ConfigMap map, AccuracyEnvironment environment)
    {
        map.CheckKeys(ConfigKeys);
        return new ProxyEvaluatorOptions
        {
            Dataset = DatasetOptions.Bind(map, environment),
            BatchSize = map.GetInt("batch_size", 64, 2, 4096),
            Batches = map.GetInt("batches", 1, 1, 100),
            ValidationSamples = map.GetInt("validation_samples", 5_000, 1, int.MaxValue),
            Threads = map.GetInt("threads", 0, 0, 256),
        };
    }
}

/// <summary>
/// One zero-cost proxy as an accuracy fidelity (fidelity and metric named after the proxy: "synflow",
/// "naswot", "grad_norm", "snip"). The score is not a percentage; larger predicts better. Weights are
/// initialised from the request seed, so the same request gives the same score.
/// </summary>
internal sealed class ProxyEvaluator : IAccuracyEvaluator
{
    private readonly string _proxy;
    private readonly ProxyEvaluatorOptions _options;
    private readonly AccuracyEnvironment _environment;
    private readonly DataContext _data;

    public ProxyEvaluator(string proxy, ProxyEvaluatorOptions options, AccuracyEnvironment environment)
    {
        if (!ZeroCostProxies.Names.Contains(proxy)) throw new ConfigException($"unknown proxy '{proxy}'; accepted: {string.Join(", ", ZeroCostProxies.Names)}");
        _proxy = proxy;
        _options = options;
        _environment = environment;
        TorchRuntime.ConfigureThreads(options.Threads, environment.Workers);
        _data = new DataContext(options.Dataset, options.ValidationSamples, environment.Seed);
        MetricNames = [proxy];
    }

    public string Fidelity => _proxy;
    public TaskSpec Task => _data.Data.Task;
    public IReadOnlyList<string> MetricNames { get; }

    /// <summary>
    /// The proxy's score of a network with weights initialised from <paramref name="seed"/>: synflow without
    /// data, the others averaged over <paramref name="batches"/> batches of <paramref name="batchSize"/>
    /// training images of <paramref name="data"/>'s split (the same images for every network).
    /// </summary>
    internal static double Score(string proxy, Tandem.Core.Workloads.Workload network, int seed, DataContext data, int batchSize, int batches, CancellationToken ct)
    {
        if (proxy == "synflow")
        {
            using var model = new WorkloadModule(network, seed, ScalarType.Float64);
            var shape = network.Input;
            return ZeroCostProxies.Synflow(model, [1, shape.Channels, shape.Height, shape.Width]);
        }
        using var m = new WorkloadModule(network, seed);
        var subset = data.TrainSubset(batchSize * batches);
        double score = 0;
        int used = 0;
        for (int b = 0; b * batchSize < subset.Length && b < batches; b++)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var idx = tensor(subset.Skip(b * batchSize).Take(batchSize).ToArray());
            var x = data.Data.TrainImages.index_select(0, idx);
            var y = data.Data.TrainLabels.index_select(0, idx);
            score += proxy switch
            {
                "naswot" => ZeroCostProxies.Naswot(m, x),
                "grad_norm" => ZeroCostProxies.GradNorm(m, x, y),
                _ => ZeroCostProxies.Snip(m, x, y),
            };
            used++;
        }
        return score / Math.Max(1, used);
    }

    public Task<AccuracyResult> EvaluateAsync(AccuracyRequest request, CancellationToken cancellationToken = default) =>
        System.Threading.Tasks.Task.Run(() => Evaluate(request, cancellationToken), cancellationToken);

    private AccuracyResult Evaluate(AccuracyRequest request, CancellationToken ct)
    {
        long start = _environment.Time.GetTimestamp();
        _data.CheckNetwork(request.Network);
        double score = Score(_proxy, request.Network, request.Seed, _data, _options.BatchSize, _options.Batches, ct);
        if (double.IsNaN(score))
            throw new AccuracyEvaluationException($"the {_proxy} score of this network is NaN");
        return new AccuracyResult
        {
            Metrics = new Dictionary<string, double> { [_proxy] = score },
            Fidelity = _proxy,
            Seconds = _environment.Time.GetElapsedTime(start).TotalSeconds,
            Epochs = 0,
        };
    }
}
