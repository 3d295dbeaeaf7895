namespace Tandem.Storage.Sqlite;

/// <summary>
/// Options of the SQLite study store. <see cref="BusyTimeout"/> is how long a write waits for
/// another process (or connection) holding the file's write lock before failing with a
/// <c>StudyStorageException</c>; it must be positive. <see cref="VerifyOnOpen"/> runs SQLite's
/// <c>quick_check</c> when the file is opened, so a damaged file is refused up front instead of
/// failing half-way through a study (it reads the whole file once: turn it off only for very large stores).
/// </summary>
public sealed record SqliteStudyStorageOptions
{
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public bool VerifyOnOpen { get; init; } = true;
}
