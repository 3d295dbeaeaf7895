using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Tandem.Core.Accuracy;
using Tandem.Core.Configuration;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Torch.Data;
using Tandem.Torch.Measurements;
using Tandem.Torch.Modules;
using Tandem.Torch.Supernet;
using Tandem.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Tandem.Torch.Evaluators;

/// <summary>
/// Options of the "supernet" fidelity: dataset and split, the supernet's training recipe and budget
/// (default 6 epochs of a 12 000-image subset), the sandwich rule or progressive shrinking, how many
/// training images recalibrate batch norm per sub-network, the optional per-design fine-tuning of the
/// inherited weights (<see cref="FinetuneSteps"/> optimiser steps at <see cref="FinetuneLearningRate"/>,
/// cosine to zero; 0 = off), and the cache folder for trained supernets (<c>cache: none</c> disables it;
/// default <c>$XDG_CACHE_HOME/tandem/supernets</c> or <c>~/.cache/tandem/supernets</c>).
/// </summary>
public sealed record SupernetEvaluatorOptions
{
    public static readonly IReadOnlyList<string> ConfigKeys =
    [
        .. DatasetOptions.ConfigKeys, .. TrainingOptions.ConfigKeys, "train_samples", "validation_samples", "random_subnets", "distill", "distill_weight", "clip_norm",
        "shrinking", "phases", "reorder_channels", "ema", "kernel_weights", "calibration_samples", "finetune_steps", "finetune_lr", "cache", "threads",
        "proxy", "proxy_weight", "proxy_designs",
    ];

    public DatasetOptions Dataset { get; init; } = new();
    public TrainingOptions Training { get; init; } = DefaultTraining;
    public int TrainSamples { get; init; } = 12_000;
    public int ValidationSamples { get; init; } = 5_000;
    public SandwichOptions Sandwich { get; init; } = new();
    public int CalibrationSamples { get; init; } = 2_048;
    /// <summary>
    /// <c>kernel_weights: independent</c> (plain-CNN family): each layer keeps its own weights per kernel size
    /// instead of smaller kernels taking the centre of the largest (<see cref="PlainCnnSupernet"/>).
    /// </summary>
    public bool IndependentKernels { get; init; }
    /// <summary>Optimiser steps (batches of the training batch size) that fine-tune a copy of each sub-network before it is validated; 0 = none. Its cost is part of the design's seconds.</summary>
    public int FinetuneSteps { get; init; }
    /// <summary>Peak learning rate of the fine-tuning (cosine decay to zero over <see cref="FinetuneSteps"/>).</summary>
    public double FinetuneLearningRate { get; init; } = 0.02;
    public string? CacheDirectory { get; init; } = DefaultCacheDirectory();
    public int Threads { get; init; }
    /// <summary>
    /// A zero-cost proxy (<c>naswot</c>, <c>snip</c>, <c>synflow</c>, <c>grad_norm</c>) scored beside the
    /// supernet, or null (default): each design then also gets the proxy's score and <c>combined</c>, the
    /// sum of its log-likelihood and <see cref="ProxyWeight"/> × its proxy score, each standardised by its
    /// mean and standard deviation over <see cref="ProxyDesigns"/> random designs of the family.
    /// </summary>
    public string? Proxy { get; init; }
    public double ProxyWeight { get; init; } = 1;
    public int ProxyDesigns { get; init; } = 16;

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

    /// <summary>The <c>shrinking</c> values, the schedule each selects, and how a trained supernet's origin names its steps.</summary>
    internal static readonly (string Key, SupernetSchedule Schedule, string Steps)[] Schedules =
    [
        ("sandwich", SupernetSchedule.Sandwich, "sandwich"),
        ("progressive", SupernetSchedule.Progressive, "progressive-shrinking"),
        ("uniform", SupernetSchedule.Uniform, "uniform single-path"),
    ];

    public static SupernetEvaluatorOptions Bind(ConfigMap map, AccuracyEnvironment environment)
    {
        map.CheckKeys(ConfigKeys);
        string? cache = map.GetString("cache");
        var d = new SandwichOptions();
        string shrinking = map.GetChoice("shrinking", "sandwich", [.. Schedules.Select(x => x.Key)]);
        var sandwich = new SandwichOptions
        {
            RandomSubnets = map.GetInt("random_subnets", d.RandomSubnets, 0, 16),
            Distill = map.GetBool("distill", d.Distill),
            DistillWeight = map.GetDouble("distill_weight", d.DistillWeight, 0, 1),
            ClipNorm = map.GetDouble("clip_norm", d.ClipNorm, 0, 1e6),
            Schedule = Schedules.First(x => x.Key == shrinking).Schedule,
            PhaseFractions = Phases(map) ?? d.PhaseFractions,
            ReorderChannels = map.GetBool("reorder_channels", d.ReorderChannels),
            EmaDecay = map.GetDouble("ema", d.EmaDecay, 0, 0.999999),
        };
        try { sandwich.Validate(); }
        catch (ConfigException e) { throw new ConfigException($"{map.Location}: supernet: {e.Message}"); }
        return new SupernetEvaluatorOptions
        {
            Dataset = DatasetOptions.Bind(map, environment),
            Training = TrainingOptions.Bind(map, DefaultTraining),
            TrainSamples = map.GetInt("train_samples", 12_000, 1, int.MaxValue),
            ValidationSamples = map.GetInt("validation_samples", 5_000, 1, int.MaxValue),
            Sandwich = sandwich,
            CalibrationSamples = map.GetInt("calibration_samples", 2_048, 1, 1_000_000),
            IndependentKernels = map.GetChoice("kernel_weights", "shared", "shared", "independent") == "independent",
            FinetuneSteps = map.GetInt("finetune_steps", 0, 0, 1_000_000),
            FinetuneLearningRate = map.GetDouble("finetune_lr", 0.02, 1e-6, 10),
            CacheDirectory = cache is null ? DefaultCacheDirectory()
                : string.Equals(cache, "none", StringComparison.OrdinalIgnoreCase) ? null
                : Path.GetFullPath(Path.Combine(environment.WorkingDirectory, cache)),
            Threads = map.GetInt("threads", 0, 0, 256),
            Proxy = map.GetChoice("proxy", "none", ["none", .. Proxies.ZeroCostProxies.Names]) is var proxy && proxy != "none" ? proxy : null,
            ProxyWeight = map.GetDouble("proxy_weight", 1, 1e-6, 1e6),
            ProxyDesigns = map.GetInt("proxy_designs", 16, 2, 10_000),
        };
    }

    /// <summary><c>phases</c>: a list of four fractions, or (from a command line) one value "0.2/0.2/0.2/0.4" or "0.2,0.2,0.2,0.4".</summary>
    private static IReadOnlyList<double>? Phases(ConfigMap map)
    {
        if (map["phases"] is not ConfigScalar { Value: { } text } scalar || !(text.Contains('/') || text.Contains(',')))
            return map.GetNumberList("phases", 0, 1);
        var values = new List<double>();
        foreach (var part in text.Split('/', ','))
        {
            if (!double.TryParse(part.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v < 0 || v > 1)
                throw scalar.Error($"'{part.Trim()}' is not a fraction of the budget (0 … 1); write four, e.g. 0.2/0.2/0.2/0.4");
            values.Add(v);
        }
        return values;
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
    private bool _loadedFromCache;

    public SupernetEvaluator(SupernetEvaluatorOptions options, AccuracyEnvironment environment)
    {
        if (environment.Family is not (PlainCnnFamily or MobileNetV2Family))
            throw new ConfigException($"the supernet evaluator supports the plain-cnn and mobilenetv2 families; this study searches '{environment.Family?.Name}'");
        options.Training.Budget.Validate();
        if (options.Proxy != null && options.FinetuneSteps > 0)
            throw new ConfigException($"the supernet's proxy: {options.Proxy} scores the inherited weights as they are, so it needs finetune_steps: 0 (got {options.FinetuneSteps})");
        if (options.IndependentKernels && environment.Family is not PlainCnnFamily)
            throw new ConfigException($"the supernet's kernel_weights: independent is available for the plain-cnn family only; this study searches '{environment.Family?.Name}' (accepted there: shared)");
        _options = options;
        _environment = environment;
        TorchRuntime.ConfigureThreads(options.Threads, environment.Workers);
        _data = new DataContext(options.Dataset, options.ValidationSamples, environment.Seed);
    }

    public string Fidelity => "supernet";
    public TaskSpec Task => _data.Data.Task;

    /// <summary>
    /// <c>accuracy</c> (validation, %) is the fidelity's score; <c>log_likelihood</c> (mean log-probability of
    /// the true class over the validation images, nats per image, = −cross-entropy) and <c>weight_angle</c>
    /// (radians between the sub-network's weights at initialisation and after supernet training: the
    /// angle-based ranking of Hu et al., "Angle-based Search Space Shrinking for Neural Architecture
    /// Search", ECCV 2020) rank the same sub-networks without accuracy's rounding to whole images. The
    /// angle is only given when channels are not sorted (sorting breaks the correspondence with the
    /// initial weights). With <see cref="SupernetEvaluatorOptions.Proxy"/> set, also the proxy's score
    /// (named after it) and <c>combined</c> (see there).
    /// </summary>
    public IReadOnlyList<string> MetricNames =>
        [.. _options.Sandwich.ReorderChannels ? ["accuracy", "log_likelihood"] : new[] { "accuracy", "log_likelihood", "weight_angle" },
         .. _options.Proxy is { } p ? new[] { p, "combined" } : []];
    private Supernet.Supernet? _initial;

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
        if (_net is null) { _net = Prepare(request.Log, ct); trainedHere = !_loadedFromCache; }
        var net = _net;
        if (_options.Proxy != null) _standards ??= Standards(request.Log, ct);
        net.Activate(request.Design);
        long active = net.ActiveTensors().Where(t => !t.Name.EndsWith("running_mean", StringComparison.Ordinal) && !t.Name.EndsWith("running_var", StringComparison.Ordinal)).Sum(t => t.Tensor.numel());
        if (active != request.Network.TotalParameters)
            throw new InvalidOperationException($"supernet sub-network has {active} parameters but the lowered design has {request.Network.TotalParameters}: the supernet and the family disagree");
        double? angle = _options.Sandwich.ReorderChannels ? null : WeightAngle(request.Design);
        double accuracy, loss;
        var attributes = new Dictionary<string, string>
        {
            ["supernet_train_seconds"] = _trainSeconds.ToString("0.#", CultureInfo.InvariantCulture),
            ["supernet"] = _origin,
            ["supernet_trained_in_this_trial"] = trainedHere ? "yes" : "no",
        };
        double epochs = 0;
        if (_options.FinetuneSteps > 0)
        {
            // Fine-tune a standalone copy: the shared weights stay as trained for the next design.
            long ftStart = _environment.Time.GetTimestamp();
            using var module = new WorkloadModule(request.Network, request.Seed);
            net.Recalibrate(CalibrationBatches());
            net.CopyActiveInto(module);
            var finetune = _options.Training with
            {
                LearningRate = _options.FinetuneLearningRate,
                Schedule = LearningRateSchedule.Cosine,
                Budget = new TrainingBudget { Steps = _options.FinetuneSteps },
                Patience = 0,
            };
            var data = new TrainingData(_data.Data, _data.TrainSubset(_options.TrainSamples), _data.ValidationImages, _data.ValidationLabels, finetune.Augment);
            var outcome = Trainer.Train(module, data, finetune, request.Seed, _environment.Time, ct, request.Log);
            (accuracy, loss, epochs) = (outcome.ValidationAccuracy, outcome.ValidationLoss, outcome.Epochs);
            attributes["finetune_steps"] = outcome.Steps.ToString(CultureInfo.InvariantCulture);
            attributes["finetune_seconds"] = _environment.Time.GetElapsedTime(ftStart).TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture);
        }
        else
        {
            (accuracy, loss) = Validate(request.Design);
        }
        if (!double.IsFinite(loss)) throw new AccuracyEvaluationException($"the sub-network's validation loss is {loss}");
        var metrics = new Dictionary<string, double> { ["accuracy"] = accuracy, ["log_likelihood"] = -loss };
        if (angle is { } a) metrics["weight_angle"] = a;
        if (_options.Proxy is { } proxy && _standards is { } st)
        {
            double score = ProxyScore(request.Network, request.Seed, ct);
            metrics[proxy] = score;
            metrics["combined"] = st.Combine(-loss, score, _options.ProxyWeight);
            attributes["combined_standards"] = st.Describe(proxy);
        }
        double seconds = _environment.Time.GetElapsedTime(start).TotalSeconds;
        return new AccuracyResult
        {
            Metrics = metrics,
            Fidelity = Fidelity,
            Seconds = seconds,
            Epochs = epochs,
            Attributes = attributes,
        };
    }

    /// <summary>Validation accuracy (%) and loss of a design's sub-network with inherited weights, after batch-norm recalibration.</summary>
    private (double Accuracy, double Loss) Validate(Design design)
    {
        _net!.Activate(design);
        _net.Recalibrate(CalibrationBatches());
        return Trainer.Evaluate(_net, _data.ValidationImages, _data.ValidationLabels);
    }

    private double ProxyScore(Tandem.Core.Workloads.Workload network, int seed, CancellationToken ct)
    {
        var defaults = new ProxyEvaluatorOptions();
        double score = ProxyEvaluator.Score(_options.Proxy!, network, seed, _data, defaults.BatchSize, defaults.Batches, ct);
        if (!double.IsFinite(score)) throw new AccuracyEvaluationException($"the {_options.Proxy} score of this network is {score}");
        return score;
    }

    /// <summary>Means and standard deviations of the log-likelihood and the proxy's score over random designs of the family.</summary>
    internal sealed record ScoreStandards(int Designs, double LogLikelihoodMean, double LogLikelihoodStd, double ProxyMean, double ProxyStd)
    {
        public double Combine(double logLikelihood, double proxy, double weight) =>
            (logLikelihood - LogLikelihoodMean) / LogLikelihoodStd + weight * (proxy - ProxyMean) / ProxyStd;

        public string Describe(string proxy) => string.Create(CultureInfo.InvariantCulture,
            $"{Designs} random designs: log_likelihood {LogLikelihoodMean:G6} ± {LogLikelihoodStd:G6}, {proxy} {ProxyMean:G6} ± {ProxyStd:G6}");
    }

    private ScoreStandards? _standards;

    /// <summary>
    /// Scores the first <see cref="SupernetEvaluatorOptions.ProxyDesigns"/> scorable designs of
    /// <see cref="FidelityComparison.SampleDesigns"/> from the study seed (distinct networks, the same for
    /// every study of that seed; a design whose loss is not finite is passed over) by the supernet's
    /// log-likelihood and the proxy (weights from the study seed), for <c>combined</c>'s standardisation.
    /// A spread of zero counts as 1.
    /// </summary>
    private ScoreStandards Standards(IProgress<string>? log, CancellationToken ct)
    {
        var lls = new List<double>();
        var proxies = new List<double>();
        var task = _data.Data.Task;
        // SampleDesigns is prefix-stable (a longer draw starts with the shorter one), so drawing spares
        // for designs that cannot be scored leaves the first ones as they are.
        foreach (var design in FidelityComparison.SampleDesigns(_environment.Family, 4 * _options.ProxyDesigns, _environment.Seed))
        {
            if (lls.Count == _options.ProxyDesigns) break;
            ct.ThrowIfCancellationRequested();
            var network = _environment.Family.Lower(design, task.Input, task.NumClasses);
            var (_, loss) = Validate(design);
            if (!double.IsFinite(loss)) continue;
            lls.Add(-loss);
            proxies.Add(ProxyScore(network, _environment.Seed, ct));
        }
        if (lls.Count < 2)
            throw new AccuracyEvaluationException($"the supernet's proxy standardisation found {lls.Count} scorable random designs; it needs at least 2");
        static (double Mean, double Std) Moments(List<double> v)
        {
            double mean = v.Average();
            double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1));
            return (mean, std > 0 ? std : 1);
        }
        var (llMean, llStd) = Moments(lls);
        var (pMean, pStd) = Moments(proxies);
        var standards = new ScoreStandards(lls.Count, llMean, llStd, pMean, pStd);
        log?.Report("supernet combined score standardised over " + standards.Describe(_options.Proxy!));
        return standards;
    }

    /// <summary>
    /// The angle between the active sub-network's convolution and linear weights (tensors of two or more
    /// dimensions, concatenated) now and at initialisation; the initial supernet is rebuilt from the
    /// seed (its initialisation is deterministic), so this works for a supernet loaded from the cache too.
    /// </summary>
    private double WeightAngle(Design design)
    {
        _initial ??= NewSupernet();
        _initial.Activate(design);
        var initial = _initial.ActiveTensors().ToDictionary(t => t.Name, t => t.Tensor, StringComparer.Ordinal);
        double dot = 0, now = 0, then = 0;
        using var noGrad = no_grad();
        foreach (var (name, t) in _net!.ActiveTensors())
        {
            if (t.dim() < 2) continue;
            using var scope = NewDisposeScope();
            var a = t.to_type(ScalarType.Float64).flatten();
            var b = initial[name].to_type(ScalarType.Float64).flatten();
            dot += a.dot(b).item<double>();
            now += a.dot(a).item<double>();
            then += b.dot(b).item<double>();
        }
        return now > 0 && then > 0 ? Math.Acos(Math.Clamp(dot / Math.Sqrt(now * then), -1, 1)) : 0;
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

    /// <summary>The family's supernet with its initial weights (deterministic in the seed).</summary>
    private Supernet.Supernet NewSupernet()
    {
        var task = _data.Data.Task;
        return _environment.Family switch
        {
            PlainCnnFamily p => new PlainCnnSupernet(p, task.Input, task.NumClasses, _environment.Seed, _options.IndependentKernels),
            MobileNetV2Family m => new MobileNetV2Supernet(m, task.Input, task.NumClasses, _environment.Seed),
            _ => throw new InvalidOperationException("unreachable: family checked in the constructor"),
        };
    }

    private Supernet.Supernet Prepare(IProgress<string>? log, CancellationToken ct)
    {
        var net = NewSupernet();
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
                    _loadedFromCache = true;
                    return net;
                }
            }
            catch (InvalidDataException) { /* a damaged cache file is retrained and replaced */ }
        }
        var training = new TrainingData(_data.Data, _data.TrainSubset(_options.TrainSamples), _data.ValidationImages, _data.ValidationLabels, _options.Training.Augment);
        var outcome = SupernetTrainer.Train(net, training, _options.Training, _options.Sandwich, _environment.Seed, _environment.Time, ct, log);
        _trainSeconds = outcome.Seconds;
        _origin = $"trained here: {outcome.Steps} {SupernetEvaluatorOptions.Schedules.First(x => x.Schedule == _options.Sandwich.Schedule).Steps} steps, {outcome.Epochs:0.##} epochs"
            + (outcome.Reorders > 0 ? $", channels sorted {outcome.Reorders} times" : "");
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

    /// <summary>
    /// Identity of a trained supernet: family and space, dataset, split, seed, recipe and sandwich
    /// settings (evaluation-time options such as fine-tuning and calibration are not part of it). With
    /// the sandwich schedule and no channel sorting the text is the one used before progressive
    /// shrinking existed, so supernets trained then stay valid.
    /// </summary>
    private string CacheKey()
    {
        var sw = _options.Sandwich;
        string recipe = sw.Schedule == SupernetSchedule.Sandwich && !sw.ReorderChannels && sw.EmaDecay == 0
            ? string.Create(CultureInfo.InvariantCulture, $"SandwichOptions {{ RandomSubnets = {sw.RandomSubnets}, Distill = {sw.Distill}, DistillWeight = {sw.DistillWeight}, ClipNorm = {sw.ClipNorm} }}")
            : sw.Identity();
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
            .AppendLine(recipe)
            .Append(_options.IndependentKernels ? "independent kernels\n" : "")
            .ToString();
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 12));
    }

    public void Dispose()
    {
        _net?.Dispose();
        _initial?.Dispose();
        _gate.Dispose();
    }
}
