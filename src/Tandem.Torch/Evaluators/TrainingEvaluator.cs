using System.Globalization;
using Tandem.Core.Accuracy;
using Tandem.Core.Configuration;
using Tandem.Core.Workloads;
using Tandem.Torch.Data;
using Tandem.Torch.Modules;
using Tandem.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Tandem.Torch.Evaluators;

/// <summary>
/// Options of the "train" fidelity: the dataset, how many training-file samples validate
/// (<see cref="ValidationSamples"/>) and train (<see cref="TrainSamples"/>), the training recipe and
/// budget, libtorch threads, and hot starts. A request's <c>BudgetScale</c> s gives s times the
/// training (images seen and wall time): the subset grows to s × <see cref="TrainSamples"/> (capped at
/// what the training file has beyond validation) and the epoch budget covers the rest, so a final
/// retraining sees more distinct images rather than the same few more often.
/// </summary>
public sealed record TrainingEvaluatorOptions
{
    public static readonly IReadOnlyList<string> ConfigKeys =
        [.. DatasetOptions.ConfigKeys, .. TrainingOptions.ConfigKeys, "train_samples", "validation_samples", "threads", "hot_start", "hot_start_budget"];

    public DatasetOptions Dataset { get; init; } = new();
    public TrainingOptions Training { get; init; } = DefaultTraining;
    public int TrainSamples { get; init; } = 12_000;
    public int ValidationSamples { get; init; } = 5_000;
    /// <summary>libtorch threads (0 = one per core).</summary>
    public int Threads { get; init; }
    /// <summary>Initialise each design from the closest design already trained in the study, and fine-tune.</summary>
    public bool HotStart { get; init; }
    /// <summary>Fraction of the normal budget spent fine-tuning a hot-started design.</summary>
    public double HotStartBudget { get; init; } = 0.5;

    /// <summary>
    /// The default recipe, chosen from measurements on Fashion-MNIST (docs/accuracy.md): two epochs of
    /// a 12 000-image subset with SGD-Nesterov and a one-cycle schedule take 5–15 s for typical
    /// plain-CNN designs on two cores; 20 s caps the largest.
    /// </summary>
    public static TrainingOptions DefaultTraining { get; } = new()
    {
        Budget = new TrainingBudget { Epochs = 2, WallTime = TimeSpan.FromSeconds(20) },
    };

    public static TrainingEvaluatorOptions Bind(ConfigMap map, AccuracyEnvironment environment)
    {
        map.CheckKeys(ConfigKeys);
        return new TrainingEvaluatorOptions
        {
            Dataset = DatasetOptions.Bind(map, environment),
            Training = TrainingOptions.Bind(map, DefaultTraining),
            TrainSamples = map.GetInt("train_samples", 12_000, 1, int.MaxValue),
            ValidationSamples = map.GetInt("validation_samples", 5_000, 1, int.MaxValue),
            Threads = map.GetInt("threads", 0, 0, 256),
            HotStart = map.GetBool("hot_start", false),
            HotStartBudget = map.GetDouble("hot_start_budget", 0.5, 0.01, 10),
        };
    }
}

/// <summary>
/// Shared state of evaluators that train or score networks on one dataset: the decoded dataset (from
/// the process-wide cache), the study's validation/training split (seeded by the study seed, so every
/// trial validates on the same images) and the validation tensors.
/// </summary>
internal sealed class DataContext
{
    private readonly Lazy<(TensorDataset Data, long[] Validation, long[] TrainOrder, Tensor ValImages, Tensor ValLabels)> _state;

    public DataContext(DatasetOptions dataset, int validationSamples, int splitSeed)
    {
        Options = dataset;
        _state = new(() =>
        {
            var data = DatasetCache.Get(dataset);
            var split = DataSplit.Create(data.TrainCount, validationSamples, int.MaxValue, splitSeed);
            using var scope = NewDisposeScope();
            var idx = tensor(split.Validation);
            var vi = data.TrainImages.index_select(0, idx).DetachFromDisposeScope();
            var vl = data.TrainLabels.index_select(0, idx).DetachFromDisposeScope();
            return (data, split.Validation, split.Train, vi, vl);
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public DatasetOptions Options { get; }
    public TensorDataset Data => _state.Value.Data;
    public Tensor ValidationImages => _state.Value.ValImages;
    public Tensor ValidationLabels => _state.Value.ValLabels;
    public int AvailableForTraining => _state.Value.TrainOrder.Length;

    /// <summary>The first <paramref name="count"/> training-order indices (nested: a larger subset contains every smaller one).</summary>
    public long[] TrainSubset(int count) => _state.Value.TrainOrder[..Math.Min(count, _state.Value.TrainOrder.Length)];

    /// <summary>Throws when the network was lowered for another input shape or class count than this dataset's.</summary>
    public void CheckNetwork(Workload network)
    {
        var task = Data.Task;
        if (network.Input != task.Input)
            throw new DatasetException(
                $"the network '{network.Name}' takes {network.Input} inputs but {task.Name} images are {task.Input}; lower the family for the dataset's image shape");
        if (network.Output.Elements != task.NumClasses)
            throw new DatasetException(
                $"the network '{network.Name}' has {network.Output.Elements} outputs but {task.Name} has {task.NumClasses} classes");
    }
}

/// <summary>
/// The "train" fidelity: builds the design's network, trains it from scratch (or from the closest
/// trained design, with hot starts) on the training subset within the budget, and reports the
/// validation accuracy in % as <c>accuracy</c> (and the test accuracy as <c>test_accuracy</c> when the
/// request asks for it — the test file is never used otherwise).
/// </summary>
internal sealed class TrainingEvaluator : IAccuracyEvaluator
{
    private readonly TrainingEvaluatorOptions _options;
    private readonly AccuracyEnvironment _environment;
    private readonly DataContext _data;

    public TrainingEvaluator(TrainingEvaluatorOptions options, AccuracyEnvironment environment)
    {
        _options = options;
        _environment = environment;
        options.Training.Budget.Validate();
        TorchRuntime.ConfigureThreads(options.Threads, environment.Workers);
        _data = new DataContext(options.Dataset, options.ValidationSamples, environment.Seed);
    }

    public string Fidelity => "train";
    public TaskSpec Task => _data.Data.Task;
    public IReadOnlyList<string> MetricNames { get; } = ["accuracy"];

    public async Task<AccuracyResult> EvaluateAsync(AccuracyRequest request, CancellationToken cancellationToken = default)
    {
        long start = _environment.Time.GetTimestamp();
        bool hotStart = _options.HotStart && request.Study != null;
        var source = hotStart ? await HotStart.FindAsync(request, cancellationToken).ConfigureAwait(false) : null;
        var (result, weights) = await System.Threading.Tasks.Task.Run(() => Evaluate(request, source, hotStart && request.TrialNumber >= 0, cancellationToken), cancellationToken)
            .ConfigureAwait(false);
        if (weights != null) await request.Study!.SaveArtifactAsync(request.TrialNumber, HotStart.ArtifactName, weights, cancellationToken).ConfigureAwait(false);
        return result with { Seconds = _environment.Time.GetElapsedTime(start).TotalSeconds };
    }

    private (AccuracyResult Result, byte[]? Weights) Evaluate(AccuracyRequest request, HotStartSource? source, bool saveWeights, CancellationToken ct)
    {
        long start = _environment.Time.GetTimestamp();
        _data.CheckNetwork(request.Network);
        if (!(request.BudgetScale > 0) || !double.IsFinite(request.BudgetScale))
            throw new ArgumentOutOfRangeException(nameof(request), request.BudgetScale, "BudgetScale must be a positive number");

        // BudgetScale s: s times the images seen, drawn from a subset up to s times larger.
        double scale = request.BudgetScale;
        int subsetSize = (int)Math.Min(_data.AvailableForTraining, Math.Max(1, Math.Round(_options.TrainSamples * scale)));
        double extraPasses = scale * _options.TrainSamples / subsetSize;
        var budget = _options.Training.Budget;
        budget = budget with
        {
            Epochs = budget.Epochs * extraPasses,
            Steps = budget.Steps is { } s ? (long)Math.Ceiling(s * scale) : null,
            Samples = budget.Samples is { } n ? (long)Math.Ceiling(n * scale) : null,
            WallTime = budget.WallTime is { } w ? TimeSpan.FromTicks((long)(w.Ticks * scale)) : null,
        };

        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        using var module = new WorkloadModule(request.Network, request.Seed);
        if (source != null)
        {
            try
            {
                var (copied, total) = HotStart.Load(module, source.Weights);
                budget = budget.Scale(_options.HotStartBudget);
                attributes["hot_start_from"] = source.Trial.ToString(CultureInfo.InvariantCulture);
                attributes["hot_start_copied"] = $"{copied}/{total} tensors";
                attributes["hot_start_distance"] = source.Distance.ToString("0.###", CultureInfo.InvariantCulture);
            }
            catch (InvalidDataException e)
            {
                // A damaged artifact costs the hot start, not the trial: train from scratch.
                attributes["hot_start_error"] = $"trial {source.Trial}: {e.Message}";
            }
        }
        var training = _options.Training with { Budget = budget };
        var data = new TrainingData(_data.Data, _data.TrainSubset(subsetSize), _data.ValidationImages, _data.ValidationLabels, training.Augment);
        var outcome = Trainer.Train(module, data, training, request.Seed, _environment.Time, ct, request.Log);

        var metrics = new Dictionary<string, double>(StringComparer.Ordinal) { ["accuracy"] = outcome.ValidationAccuracy };
        if (request.MeasureTest)
            metrics["test_accuracy"] = Trainer.Evaluate(module, _data.Data.TestImages, _data.Data.TestLabels).Accuracy;
        byte[]? weights = saveWeights ? HotStart.Save(module) : null;

        attributes["budget"] = budget.ToString();
        attributes["stopped_by"] = outcome.StoppedBy;
        attributes["train_samples"] = subsetSize.ToString(CultureInfo.InvariantCulture);
        attributes["steps"] = outcome.Steps.ToString(CultureInfo.InvariantCulture);
        attributes["images_per_second"] = outcome.ImagesPerSecond.ToString("0", CultureInfo.InvariantCulture);
        attributes["dataset"] = _data.Data.Name;
        return (new AccuracyResult
        {
            Metrics = metrics,
            Fidelity = Fidelity,
            Seconds = _environment.Time.GetElapsedTime(start).TotalSeconds,
            Epochs = outcome.Epochs,
            Attributes = attributes,
        }, weights);
    }
}
