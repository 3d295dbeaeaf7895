namespace Tandem.Core.Studies;

/// <summary>
/// Durable storage of studies, their trials, events and artifacts. The contract, which every
/// backend's shared test suite checks:
/// <list type="bullet">
/// <item>Every write is durable when its task completes (a kill -9 right after loses nothing written).</item>
/// <item>A write either happens whole or not at all; a failed write leaves earlier data intact.</item>
/// <item><see cref="SaveTrialAsync"/> inserts or replaces the trial with that number; trials come back ordered by number.</item>
/// <item>Study names are unique; creating an existing name throws <see cref="StudyStorageException"/>.</item>
/// <item>Opening something that is not a Tandem store (another program's file, a corrupt file, a newer
///   schema) throws <see cref="StudyStorageException"/> naming it, and changes nothing.</item>
/// <item>Implementations are safe to call from several threads at once.</item>
/// </list>
/// </summary>
public interface IStudyStorage : IAsyncDisposable
{
    /// <summary>Where the data lives, for messages (a file path, a host/database).</summary>
    string Description { get; }

    Task CreateStudyAsync(StudyRecord study, CancellationToken cancellationToken = default);
    Task<StudyRecord?> GetStudyAsync(string name, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<StudyRecord>> ListStudiesAsync(CancellationToken cancellationToken = default);
    Task SetStudyStatusAsync(string study, StudyStatus status, CancellationToken cancellationToken = default);

    Task SaveTrialAsync(string study, TrialRecord trial, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<TrialRecord>> GetTrialsAsync(string study, CancellationToken cancellationToken = default);

    Task AppendEventAsync(string study, StudyEvent studyEvent, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<StudyEvent>> GetEventsAsync(string study, CancellationToken cancellationToken = default);

    /// <summary>Stores (or replaces) a named binary artifact of a trial.</summary>
    Task SaveArtifactAsync(string study, int trial, string name, byte[] data, CancellationToken cancellationToken = default);
    Task<byte[]?> GetArtifactAsync(string study, int trial, string name, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<ArtifactInfo>> ListArtifactsAsync(string study, CancellationToken cancellationToken = default);
}

/// <summary>A storage problem caused by input: not a Tandem store, unknown study, duplicate name, corrupt data.</summary>
public sealed class StudyStorageException : InputException
{
    public StudyStorageException(string message) : base(message) { }
    public StudyStorageException(string message, Exception inner) : base(message, inner) { }
}
