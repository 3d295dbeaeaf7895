using System.Collections.Concurrent;

namespace Tandem.Core.Studies;

/// <summary>
/// A non-durable <see cref="IStudyStorage"/> for tests, benchmarks and throw-away runs. Follows the
/// same contract as the durable backends except durability across processes.
/// </summary>
public sealed class InMemoryStudyStorage : IStudyStorage
{
    private sealed class StudyData
    {
        public required StudyRecord Record;
        public readonly SortedDictionary<int, TrialRecord> Trials = new();
        public readonly List<StudyEvent> Events = [];
        public readonly Dictionary<(int, string), byte[]> Artifacts = new();
    }

    private readonly ConcurrentDictionary<string, StudyData> _studies = new(StringComparer.Ordinal);

    public string Description => "in-memory store";

    public Task CreateStudyAsync(StudyRecord study, CancellationToken cancellationToken = default)
    {
        if (!_studies.TryAdd(study.Name, new StudyData { Record = study }))
            throw new StudyStorageException($"a study named '{study.Name}' already exists in the {Description}");
        return Task.CompletedTask;
    }

    public Task<StudyRecord?> GetStudyAsync(string name, CancellationToken cancellationToken = default) =>
        Task.FromResult(_studies.TryGetValue(name, out var s) ? s.Record : null);

    public Task<IReadOnlyList<StudyRecord>> ListStudiesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<StudyRecord>>(_studies.Values.Select(s => s.Record).OrderBy(r => r.CreatedAt).ThenBy(r => r.Name).ToArray());

    public Task SetStudyStatusAsync(string study, StudyStatus status, CancellationToken cancellationToken = default)
    {
        var s = Get(study);
        lock (s) s.Record = s.Record with { Status = status };
        return Task.CompletedTask;
    }

    public Task SaveTrialAsync(string study, TrialRecord trial, CancellationToken cancellationToken = default)
    {
        var s = Get(study);
        lock (s) s.Trials[trial.Number] = trial;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<TrialRecord>> GetTrialsAsync(string study, CancellationToken cancellationToken = default)
    {
        var s = Get(study);
        lock (s) return Task.FromResult<IReadOnlyList<TrialRecord>>(s.Trials.Values.ToArray());
    }

    public Task AppendEventAsync(string study, StudyEvent studyEvent, CancellationToken cancellationToken = default)
    {
        var s = Get(study);
        lock (s) s.Events.Add(studyEvent);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<StudyEvent>> GetEventsAsync(string study, CancellationToken cancellationToken = default)
    {
        var s = Get(study);
        lock (s) return Task.FromResult<IReadOnlyList<StudyEvent>>(s.Events.ToArray());
    }

    public Task SaveArtifactAsync(string study, int trial, string name, byte[] data, CancellationToken cancellationToken = default)
    {
        var s = Get(study);
        lock (s) s.Artifacts[(trial, name)] = (byte[])data.Clone();
        return Task.CompletedTask;
    }

    public Task<byte[]?> GetArtifactAsync(string study, int trial, string name, CancellationToken cancellationToken = default)
    {
        var s = Get(study);
        lock (s) return Task.FromResult(s.Artifacts.TryGetValue((trial, name), out var d) ? (byte[])d.Clone() : null);
    }

    public Task<IReadOnlyList<ArtifactInfo>> ListArtifactsAsync(string study, CancellationToken cancellationToken = default)
    {
        var s = Get(study);
        lock (s)
            return Task.FromResult<IReadOnlyList<ArtifactInfo>>(s.Artifacts
                .Select(kv => new ArtifactInfo(kv.Key.Item1, kv.Key.Item2, kv.Value.LongLength))
                .OrderBy(a => a.Trial).ThenBy(a => a.Name, StringComparer.Ordinal).ToArray());
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private StudyData Get(string study) =>
        _studies.TryGetValue(study, out var s) ? s : throw new StudyStorageException($"no study named '{study}' in the {Description}");
}
