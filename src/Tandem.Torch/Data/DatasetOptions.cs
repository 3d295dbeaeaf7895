using Tandem.Core.Accuracy;
using Tandem.Core.Configuration;

namespace Tandem.Torch.Data;

/// <summary>
/// Which dataset an evaluator uses and where its files are. <see cref="Kind"/> is one of
/// <see cref="Kinds"/>; <see cref="Directory"/> overrides the default folder (Fashion-MNIST and MNIST
/// default to Debian's <c>/usr/share/datasets/…</c>; CIFAR needs a folder). The synthetic kind is
/// generated in memory from <see cref="Synthetic"/>.
/// </summary>
public sealed record DatasetOptions
{
    public static readonly IReadOnlyList<string> Kinds = ["fashion-mnist", "mnist", "cifar10", "cifar100", "synthetic"];

    /// <summary>Config keys this record binds (for <see cref="ConfigMap.CheckKeys"/> of the owner).</summary>
    public static readonly IReadOnlyList<string> ConfigKeys = ["dataset", "data", "synthetic"];

    public string Kind { get; init; } = "fashion-mnist";
    public string? Directory { get; init; }
    public SyntheticOptions Synthetic { get; init; } = new();

    /// <summary>The folder that will be read (null for the synthetic kind).</summary>
    public string? ResolvedDirectory => Kind switch
    {
        "synthetic" => null,
        _ when Directory != null => Path.GetFullPath(Directory),
        "fashion-mnist" => "/usr/share/datasets/fashion-mnist",
        "mnist" => "/usr/share/datasets/mnist",
        _ => throw new DatasetException($"dataset '{Kind}' has no default folder; give its folder with 'data: DIR' in the config or --data DIR"),
    };

    /// <summary>
    /// Binds <c>dataset</c>, <c>data</c> and <c>synthetic: {channels, image_size, classes, train_samples,
    /// test_samples, noise, seed}</c> from <paramref name="map"/>. A data folder given on the command line
    /// (<see cref="AccuracyEnvironment.DataDirectory"/>) wins over the config's <c>data</c>; relative
    /// paths are resolved against the working folder.
    /// </summary>
    public static DatasetOptions Bind(ConfigMap map, AccuracyEnvironment environment)
    {
        string kind = map.GetChoice("dataset", "fashion-mnist", Kinds);
        string? dir = environment.DataDirectory ?? map.GetString("data");
        if (dir != null) dir = Path.GetFullPath(Path.Combine(environment.WorkingDirectory, dir));
        var syn = new SyntheticOptions();
        var sm = map.GetMap("synthetic");
        if (sm != null)
        {
            sm.CheckKeys("channels", "image_size", "classes", "train_samples", "test_samples", "noise", "seed");
            syn = new SyntheticOptions
            {
                Channels = sm.GetInt("channels", syn.Channels, 1, 4),
                ImageSize = sm.GetInt("image_size", syn.ImageSize, 4, 64),
                Classes = sm.GetInt("classes", syn.Classes, 2, 100),
                TrainSamples = sm.GetInt("train_samples", syn.TrainSamples, 2, 1_000_000),
                TestSamples = sm.GetInt("test_samples", syn.TestSamples, 1, 1_000_000),
                Noise = sm.GetDouble("noise", syn.Noise, 0, 255),
                Seed = sm.GetInt("seed", syn.Seed),
            };
        }
        return new DatasetOptions { Kind = kind, Directory = kind == "synthetic" ? null : dir, Synthetic = syn };
    }

    /// <summary>Decodes the files (or generates the data); no caching (see <see cref="DatasetCache"/>).</summary>
    public ImageSplits Decode()
    {
        // Debian ships the default folders as packages; say so rather than only naming a missing file.
        if (Directory is null && ResolvedDirectory is { } dir && !System.IO.Directory.Exists(dir))
            throw new DatasetException($"{Kind}: {dir} does not exist; " +
                (Kind == "fashion-mnist" ? "install it with 'sudo apt-get install dataset-fashion-mnist' or " : "") +
                "point to a folder of its IDX files (gzip or not) with --data DIR or 'data:' in the study config");
        return DecodeFiles();
    }

    private ImageSplits DecodeFiles() => Kind switch
    {
        "synthetic" => SyntheticImages.Generate(Synthetic),
        "fashion-mnist" => IdxReader.ReadFolder(ResolvedDirectory!, "fashion-mnist"),
        "mnist" => IdxReader.ReadFolder(ResolvedDirectory!, "mnist"),
        "cifar10" => CifarReader.ReadFolder(ResolvedDirectory!, cifar100: false),
        "cifar100" => CifarReader.ReadFolder(ResolvedDirectory!, cifar100: true),
        _ => throw new DatasetException($"unknown dataset '{Kind}'; accepted: {string.Join(", ", Kinds)}"),
    };

    /// <summary>Identity of the data for caches (kind, folder, generator options).</summary>
    public string CacheKey => Kind == "synthetic" ? $"synthetic:{Synthetic}" : $"{Kind}:{ResolvedDirectory}";

    /// <summary>Whether flips and crops make sense (natural colour images, not digits or centred clothes).</summary>
    public bool IsNaturalImages => Kind is "cifar10" or "cifar100";
}
