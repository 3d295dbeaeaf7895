using System.Collections.Concurrent;
using Tandem.Core.Accuracy;
using Tandem.Core.Workloads;
using TorchSharp;
using static TorchSharp.torch;

namespace Tandem.Torch.Data;

/// <summary>
/// A dataset decoded once and held as float tensors: images N × C × H × W standardised per channel
/// with the training file's mean and standard deviation, labels as int64. Instances are shared
/// read-only between evaluators and threads (see <see cref="DatasetCache"/>) and live as long as the
/// process, so their tensors are detached from every dispose scope and never disposed.
/// </summary>
public sealed class TensorDataset
{
    internal TensorDataset(string name, ImageSplits splits, bool naturalImages)
    {
        Name = name;
        var tr = splits.Train;
        Task = new TaskSpec(name, new TensorShape(tr.Channels, tr.Height, tr.Width), tr.NumClasses);
        NaturalImages = naturalImages;
        TrainCount = tr.Count;
        TestCount = splits.Test.Count;
        if (splits.Test.Channels != tr.Channels || splits.Test.Height != tr.Height || splits.Test.Width != tr.Width)
            throw new DatasetException($"{name}: training images are {tr.Channels}x{tr.Height}x{tr.Width} but test images are {splits.Test.Channels}x{splits.Test.Height}x{splits.Test.Width}");
        using var scope = NewDisposeScope();
        var rawTrain = ToFloat(tr);
        // Per-channel statistics of the training file only: the test file never informs anything.
        var mean = rawTrain.mean([0L, 2L, 3L], keepdim: true);
        var std = rawTrain.std([0L, 2L, 3L], keepdim: true).clamp_min(1e-3);
        Mean = mean.data<float>().ToArray();
        Std = std.data<float>().ToArray();
        TrainImages = ((rawTrain - mean) / std).contiguous().DetachFromDisposeScope();
        TestImages = ((ToFloat(splits.Test) - mean) / std).contiguous().DetachFromDisposeScope();
        TrainLabels = tensor(tr.Labels.Select(l => (long)l).ToArray()).DetachFromDisposeScope();
        TestLabels = tensor(splits.Test.Labels.Select(l => (long)l).ToArray()).DetachFromDisposeScope();
    }

    public string Name { get; }
    public TaskSpec Task { get; }
    public bool NaturalImages { get; }
    public int TrainCount { get; }
    public int TestCount { get; }
    public float[] Mean { get; }
    public float[] Std { get; }
    public Tensor TrainImages { get; }
    public Tensor TrainLabels { get; }
    public Tensor TestImages { get; }
    public Tensor TestLabels { get; }

    private static Tensor ToFloat(ImageSet s) =>
        tensor(s.Pixels, [s.Count, s.Channels, s.Height, s.Width]).to_type(ScalarType.Float32).div_(255f);
}

/// <summary>
/// Process-wide cache of decoded datasets, keyed by <see cref="DatasetOptions.CacheKey"/>, so that a
/// study decodes Fashion-MNIST once however many evaluators and trials use it. Thread-safe (a
/// dataset is decoded by exactly one thread; others wait for it). A failed decode is not cached, so
/// a corrected folder is read again.
/// </summary>
public static class DatasetCache
{
    private static readonly ConcurrentDictionary<string, Lazy<TensorDataset>> Entries = new(StringComparer.Ordinal);

    public static TensorDataset Get(DatasetOptions options)
    {
        string key = options.CacheKey;
        var lazy = Entries.GetOrAdd(key, _ => new Lazy<TensorDataset>(
            () => new TensorDataset(options.Kind, options.Decode(), options.IsNaturalImages), LazyThreadSafetyMode.ExecutionAndPublication));
        try { return lazy.Value; }
        catch
        {
            Entries.TryRemove(new KeyValuePair<string, Lazy<TensorDataset>>(key, lazy));
            throw;
        }
    }
}
