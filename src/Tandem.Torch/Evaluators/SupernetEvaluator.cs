using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Tandem.Core.Accuracy;
using Tandem.Core.Configuration;
using Tandem.Core.Spaces.Families;
using Tandem.Torch.Data;
using Tandem.Torch.Supernet;
using Tandem.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Tandem.Torch.Evaluators;

/// <summary>
/// Options of the "supernet" fidelity: dataset and split, the supernet's training recipe and budget
/// (default 6 epochs of a 12 000-image subset), the sandwich rule, how many training images
/// recalibrate batch norm per sub-network, and the cache folder for trained supernets
/// (<c>cache: none</c> disables it; default <c>$XDG_CACHE_HOME/tandem/supernets</c> or <c>~/.cache/tandem/supernets</c>).
/// </summary>
public sealed record SupernetEvaluatorOptions
{
    public static readonly IReadOnlyList<string> ConfigKeys =
        [.. DatasetOptions.ConfigKeys, .. TrainingOptions.ConfigKeys, "train_samples", "validation_samples", "random_subnets", "distill", "distill_weight", "clip_norm", "calibration_samples", "cache", "threads"];

    public DatasetOptions Dataset { get; init; } = new();
    public TrainingOptions Training { get; init; } = DefaultTraining;
    public int TrainSamples { get; init; } = 12_000;
    public int ValidationSamples { get; init; } = 5_000;
    public SandwichOptions Sandwich { get; init; } = new();
    public int CalibrationSamples { get; init; } = 2_048;
    public string? CacheDirectory { get; init; } = DefaultCacheDirectory();
    public int Threads { get; init; }

    public static TrainingOptions DefaultTraining { get; } = new()
    {
        Budget = new TrainingBudget { Epochs = 6 },
        LearningRate = 0.05,
        Warmup = 0.05,
    };

    public static string DefaultCacheDirectory()
    {
        string? xdg = System.Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "tandem", "supernets");
    }

    public static SupernetEvaluatorOptions Bind(ConfigMap map, AccuracyEnvironment environment)
    {
        map.CheckKeys(ConfigKeys);
        string? cache = map.GetString("cache");
        return new SupernetEvaluatorOptions
        {
            Dataset = DatasetOptions.Bind(map, environment),
            Training = TrainingOptions.Bind(map, DefaultTraining),
            TrainSamples = map.GetInt("train_samples", 12_000, 1, int.MaxValue),
            ValidationSamples = map.GetInt("validation_samples", 5_000, 1, int.MaxValue),
            Sandwich = new SandwichOptions
            {
                RandomSubnets = map.GetInt("random_subnets", 2, 0, 16),
                Distill = map.GetBool("distill", true),
                DistillWeight = map.GetDouble("distill_weight", 0.5, 0, 1),
                ClipNorm = map.GetDouble("clip_norm", 20, 0, 1e6),
            },
            CalibrationSamples = map.GetInt("calibration_samples", 2_048, 1, 1_000_000),
            CacheDirectory = cache is null ? DefaultCacheDirectory()
                : string.Equals(cache, "none", StringComparison.OrdinalIgnoreCase) ? null
                : Path.GetFullPath(Path.Combine(environment.WorkingDirectory, cache)),
            Threads = map.GetInt("threads", 0, 0, 256),
        };
    }
}

/// <summary>
/// The "supernet" fidelity (APNAS, GoldenNAS): a weight-sharing supernet of the study's family is
/// trained once (or loaded from the cache), then each design is evaluated as a sub-network with
/// inherited weights after batch-norm recalibration on training images; <c>accuracy</c> is its
/// validation accuracy in %. The evaluation that trains the supernet reports that cost in its
/// seconds; every result carries <c>supernet_train_seconds</c>. Evaluations run one at a time (they
/// share the supernet's batch-norm statistics).
/// </summary>
internal sealed class SupernetEvaluator : IAccuracyEvaluator, IDisposable
{
    private readonly SupernetEvaluatorOptions _options;
    private readonly AccuracyEnvironment _environment;
    private readonly DataContext _data;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Supernet.Supernet? _net;
    private double _trainSeconds;
    private string _origin = "";

    public SupernetEvaluator(SupernetEvaluatorOptions options, AccuracyEnvironment environment)
    {
        if (environment.Family is not (PlainCnnFamily or MobileNetV2Family))
            throw new ConfigException($"the supernet evaluator supports the plain-cnn and mobilenetv2 families; this study searches '{environment.Family?.Name}'");
        options.Training.Budget.Validate();
        _options = options;
        _environment = environment;
        TorchRuntime.ConfigureThreads(options.Threads);
        _data = new DataContext(options.Dataset, options.ValidationSamples, environment.Seed);
    }

    public string Fidelity => "supernet";
    public TaskSpec Task => _data.Data.Task;
    public IReadOnlyList<string> MetricNames { get; } = ["accuracy"];

    public async Task<AccuracyResult> EvaluateAsync(AccuracyRequest request, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await System.Threading.Tasks.Task.Run(() => Evaluate(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally { _gate.Release(); }
    }

    private AccuracyResult Evaluate(AccuracyRequest request, CancellationToken ct)
    {
        long start = _environment.Time.GetTimestamp();
        _data.CheckNetwork(request.Network);
        bool trainedHere = false;
        if (_net is null) { _net = Prepare(request.Log, ct); trainedHere = true; }
        var net = _net;
        net.Activate(request.Design);
        long active = net.ActiveTensors().Where(t => !t.Name.EndsWith("running_mean", StringComparison.Ordinal) && !t.Name.EndsWith("running_var", StringComparison.Ordinal)).Sum(t => t.Tensor.numel());
        if (active != request.Network.TotalParameters)
            throw new InvalidOperationException($"supernet sub-network has {active} parameters but the lowered design has {request.Network.TotalParameters}: the supernet and the family disagree");
        net.Recalibrate(CalibrationBatches());
        var (accuracy, loss) = Trainer.Evaluate(net, _data.ValidationImages, _data.ValidationLabels);
        if (!double.IsFinite(loss)) throw new AccuracyEvaluationException($"the sub-network's validation loss is {loss}");
        double seconds = _environment.Time.GetElapsedTime(start).TotalSeconds;
        return new AccuracyResult
        {
            Metrics = new Dictionary<string, double> { ["accuracy"] = accuracy },
            Fidelity = Fidelity,
            Seconds = seconds,
            Epochs = 0,
            Attributes = new Dictionary<string, string>
            {
                ["supernet_train_seconds"] = _trainSeconds.ToString("0.#", CultureInfo.InvariantCulture),
                ["supernet"] = _origin,
                ["supernet_trained_in_this_trial"] = trainedHere ? "yes" : "no",
            },
        };
    }

    private IEnumerable<Tensor> CalibrationBatches()
    {
        var idx = _data.TrainSubset(_options.CalibrationSamples);
        const int batch = 256;
        for (int s = 0; s < idx.Length; s += batch)
        {
            using var t = tensor(idx[s..Math.Min(idx.Length, s + batch)]);
            yield return _data.Data.TrainImages.index_select(0, t);
        }
    }

    private Supernet.Supernet Prepare(IProgress<string>? log, CancellationToken ct)
    {
        var task = _data.Data.Task;
        Supernet.Supernet net = _environment.Family switch
        {
            PlainCnnFamily p => new PlainCnnSupernet(p, task.Input, task.NumClasses, _environment.Seed),
            MobileNetV2Family m => new MobileNetV2Supernet(m, task.Input, task.NumClasses, _environment.Seed),
            _ => throw new InvalidOperationException("unreachable: family checked in the constructor"),
        };
        string? file = _options.CacheDirectory is null ? null : Path.Combine(_options.CacheDirectory, CacheKey() + ".tndw");
        if (file != null && File.Exists(file))
        {
            try
            {
                var bytes = File.ReadAllBytes(file);
                var (copied, total) = HotStart.Load(net, bytes);
                if (copied == total)
                {
                    var meta = File.Exists(file + ".seconds") ? File.ReadAllText(file + ".seconds").Trim() : "0";
                    _trainSeconds = double.TryParse(meta, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) ? s : 0;
                    _origin = $"loaded from {file}";
                    return net;
                }
            }
            catch (InvalidDataException) { /* a damaged cache file is retrained and replaced */ }
        }
        var training = new TrainingData(_data.Data, _data.TrainSubset(_options.TrainSamples), _data.ValidationImages, _data.ValidationLabels, _options.Training.Augment);
        var outcome = SupernetTrainer.Train(net, training, _options.Training, _options.Sandwich, _environment.Seed, _environment.Time, ct, log);
        _trainSeconds = outcome.Seconds;
        _origin = $"trained here: {outcome.Steps} sandwich steps, {outcome.Epochs:0.##} epochs";
        if (file != null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            string tmp = file + $".{System.Environment.ProcessId}.tmp";
            File.WriteAllBytes(tmp, HotStart.Save(net));
            File.Move(tmp, file, overwrite: true);
            File.WriteAllText(file + ".seconds", _trainSeconds.ToString("R", CultureInfo.InvariantCulture));
        }
        return net;
    }

    /// <summary>Identity of a trained supernet: family and space, dataset, split, seed, recipe and sandwich settings.</summary>
    private string CacheKey()
    {
        var text = new StringBuilder()
            .AppendLine("supernet v2")
            .AppendLine(_environment.Family.Name)
            .AppendLine(new Tandem.Core.Spaces.DesignSpace(_environment.Family.Parameters).Signature)
            .AppendLine(_data.Options.CacheKey)
            .AppendLine(_data.Data.Task.ToString())
            .AppendLine(_environment.Seed.ToString(CultureInfo.InvariantCulture))
            .AppendLine($"{_options.TrainSamples} {_options.ValidationSamples}")
            .AppendLine(_options.Training.ToString())
            .AppendLine(_options.Training.Budget.ToString())
            .AppendLine(_options.Sandwich.ToString())
            .ToString();
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 12));
    }

    public void Dispose()
    {
        _net?.Dispose();
        _gate.Dispose();
    }
}
