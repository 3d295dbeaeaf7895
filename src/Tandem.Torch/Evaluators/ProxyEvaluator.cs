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

    public Task<AccuracyResult> EvaluateAsync(AccuracyRequest request, CancellationToken cancellationToken = default) =>
        System.Threading.Tasks.Task.Run(() => Evaluate(request, cancellationToken), cancellationToken);

    private AccuracyResult Evaluate(AccuracyRequest request, CancellationToken ct)
    {
        long start = _environment.Time.GetTimestamp();
        _data.CheckNetwork(request.Network);
        double score;
        if (_proxy == "synflow")
        {
            using var model = new WorkloadModule(request.Network, request.Seed, ScalarType.Float64);
            var shape = request.Network.Input;
            score = ZeroCostProxies.Synflow(model, [1, shape.Channels, shape.Height, shape.Width]);
        }
        else
        {
            using var model = new WorkloadModule(request.Network, request.Seed);
            var subset = _data.TrainSubset(_options.BatchSize * _options.Batches);
            score = 0;
            int batches = 0;
            for (int b = 0; b * _options.BatchSize < subset.Length && b < _options.Batches; b++)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var idx = tensor(subset.Skip(b * _options.BatchSize).Take(_options.BatchSize).ToArray());
                var x = _data.Data.TrainImages.index_select(0, idx);
                var y = _data.Data.TrainLabels.index_select(0, idx);
                score += _proxy switch
                {
                    "naswot" => ZeroCostProxies.Naswot(model, x),
                    "grad_norm" => ZeroCostProxies.GradNorm(model, x, y),
                    _ => ZeroCostProxies.Snip(model, x, y),
                };
                batches++;
            }
            score /= Math.Max(1, batches);
        }
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
