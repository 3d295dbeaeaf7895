using System.Collections.Concurrent;
using Tandem.Core.Accuracy;
using Tandem.Core.Configuration;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Studies;
using Tandem.Core.Workloads;
using Tandem.Torch.Data;

namespace Tandem.Torch.Tests;

/// <summary>Small networks, the generated dataset and a study view for tests.</summary>
internal static class TestSupport
{
    /// <summary>The generated dataset tests train on: 1×12×12 images, 4 classes, 1 200 training images.</summary>
    public static readonly DatasetOptions Synthetic = new() { Kind = "synthetic" };

    public static readonly PlainCnnFamily SmallFamily = new(new PlainCnnOptions { Stages = 2, Layers = [1, 2], Channels = [4, 8, 16], Kernels = [3, 5] });
    public static readonly DesignSpace SmallSpace = new(SmallFamily.Parameters);

    public static Design SmallDesign(int layers = 1, int channels = 8, int kernel = 3, string residual = "no", string pool = "max")
    {
        var m = new Dictionary<string, string>();
        for (int s = 1; s <= 2; s++)
        {
            m[$"arch.s{s}.layers"] = layers.ToString();
            m[$"arch.s{s}.channels"] = channels.ToString();
            m[$"arch.s{s}.kernel"] = kernel.ToString();
            m[$"arch.s{s}.residual"] = residual;
        }
        m["arch.pool"] = pool;
        return SmallSpace.Parse(m);
    }

    public static Workload Lower(Design d) => SmallFamily.Lower(d, new TensorShape(1, 12, 12), 4);

    public static AccuracyEnvironment Environment(INetworkFamily? family = null, int seed = 1) =>
        new() { Family = family ?? SmallFamily, Seed = seed };

    /// <summary>Parses "key: value" lines (flat, scalars only) into a config map.</summary>
    public static ConfigMap Config(params (string Key, object Value)[] entries) =>
        new("", new SourceLocation("test.yaml", 1, 1),
            entries.Select((e, i) => new KeyValuePair<string, ConfigNode>(e.Key,
                e.Value is ConfigNode n ? n : new ConfigScalar(e.Key, new SourceLocation("test.yaml", i + 1, 1), e.Value is null ? null : Convert.ToString(e.Value, System.Globalization.CultureInfo.InvariantCulture)))));

    public static ConfigMap Map(string path, params (string Key, object Value)[] entries) =>
        new(path, new SourceLocation("test.yaml", 1, 1),
            entries.Select((e, i) => new KeyValuePair<string, ConfigNode>(e.Key,
                new ConfigScalar($"{path}.{e.Key}", new SourceLocation("test.yaml", i + 1, 1), Convert.ToString(e.Value, System.Globalization.CultureInfo.InvariantCulture)))));

    public static AccuracyRequest Request(Design d, int seed = 3, IStudyView? study = null, int trial = -1) =>
        new() { Design = d, Network = Lower(d), Seed = seed, Study = study, TrialNumber = trial };
}

/// <summary>An in-memory study view: trials and artifacts held in dictionaries.</summary>
internal sealed class FakeStudy : IStudyView
{
    private readonly ConcurrentDictionary<(int, string), byte[]> _artifacts = new();
    public List<TrialRecord> Trials { get; } = [];
    public string Name => "fake";

    public void AddTrial(int number, Design design) => Trials.Add(new TrialRecord
    {
        Number = number, DesignKey = design.Key, Params = design.ToTextMap(), State = TrialState.Complete, StartedAt = DateTimeOffset.UnixEpoch,
    });

    public Task<IReadOnlyList<TrialRecord>> GetTrialsAsync(CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<TrialRecord>>(Trials.ToList());
    public Task SaveArtifactAsync(int trial, string name, byte[] data, CancellationToken cancellationToken = default) { _artifacts[(trial, name)] = data; return Task.CompletedTask; }
    public Task<byte[]?> GetArtifactAsync(int trial, string name, CancellationToken cancellationToken = default) => Task.FromResult(_artifacts.TryGetValue((trial, name), out var d) ? d : null);
    public Task<IReadOnlyList<ArtifactInfo>> ListArtifactsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<ArtifactInfo>>(_artifacts.Select(a => new ArtifactInfo(a.Key.Item1, a.Key.Item2, a.Value.Length)).ToList());
}

/// <summary>Collects progress lines (an evaluator's or a run's log) for tests to inspect.</summary>
internal sealed class ListProgress(List<string> lines) : IProgress<string>
{
    public void Report(string value) { lock (lines) lines.Add(value); }
}
