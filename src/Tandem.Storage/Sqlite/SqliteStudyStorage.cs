using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Tandem.Core.Studies;

namespace Tandem.Storage.Sqlite;

/// <summary>
/// A study store in one SQLite file, which can hold many studies (as Optuna's RDB storage does).
/// Invariants:
/// <list type="bullet">
/// <item>The file is marked as Tandem's twice: <c>PRAGMA application_id</c> = 0x54414E44 ("TAND") in the
///   header and a <c>tandem_meta</c> table with the program name and the schema version.</item>
/// <item>Opening creates a missing file and initialises a 0-byte one; any other file that is not a
///   Tandem store of a schema this build reads is refused with a <see cref="StudyStorageException"/>
///   before SQLite may write to it, so it stays byte-for-byte as it was.</item>
/// <item>Every operation is one transaction (writes take the write lock up front: <c>BEGIN IMMEDIATE</c>);
///   the file uses a write-ahead log with <c>synchronous=FULL</c>, so a completed write survives kill -9
///   and power loss, and a torn one leaves nothing behind.</item>
/// <item>One connection per instance, used by one caller at a time, makes an instance thread-safe;
///   other processes may use the same file at once and wait up to the busy timeout for its write lock.</item>
/// </list>
/// </summary>
internal sealed class SqliteStudyStorage : SqlStudyStorage
{
    /// <summary>"TAND" in ASCII, stored in the SQLite header's application_id field.</summary>
    public const int ApplicationId = 0x54414E44;

    private static readonly string[] Tables = ["tandem_meta", "studies", "trials", "events", "artifacts"];

    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SqliteStudyStorageOptions _options;
    private bool _disposed;

    private SqliteStudyStorage(string path, SqliteConnection connection, SqliteStudyStorageOptions options)
    {
        FilePath = path;
        _connection = connection;
        _options = options;
    }

    /// <summary>Full path of the study file.</summary>
    public string FilePath { get; }

    public override string Description => $"study file '{FilePath}'";

    /// <summary>Opens (creating or initialising when allowed) the store at <paramref name="path"/>; see the type's invariants.</summary>
    public static SqliteStudyStorage Open(string path, SqliteStudyStorageOptions? options = null)
    {
        options ??= new SqliteStudyStorageOptions();
        if (options.BusyTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), "BusyTimeout must be positive");
        string full = Path.GetFullPath(path);
        var header = Prepare(full);

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = false, // a pooled connection would keep the file open (and its log unmerged) after Dispose
            DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds),
        }.ToString());
        var store = new SqliteStudyStorage(full, connection, options);
        try
        {
            connection.Open();
            // Per-connection settings, none of which writes to the file.
            store.Pragma($"PRAGMA busy_timeout = {(long)options.BusyTimeout.TotalMilliseconds}");
            store.Pragma("PRAGMA synchronous = FULL");
            store.Pragma("PRAGMA foreign_keys = ON");
            if (header.Kind is SqliteFileKind.Empty or SqliteFileKind.BlankDatabase) store.Initialise();
            store.Validate();
            return store;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw store.Translate(e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Checks the path and creates the file if missing; refuses what is not (or cannot become) a Tandem store.</summary>
    private static SqliteFileHeader Prepare(string full)
    {
        if (Directory.Exists(full))
            throw new StudyStorageException($"the study file '{full}' is a folder; give a file path such as '{Path.Combine(full, "studies.db")}'");
        if (!File.Exists(full))
        {
            try
            {
                string? folder = Path.GetDirectoryName(full);
                if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
                using (new FileStream(full, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite)) { }
            }
            catch (IOException) when (File.Exists(full))
            {
                // Another process created it first; classify what it holds below.
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StudyStorageException($"cannot create the study file '{full}': {e.Message} (is the location read-only?)", e);
            }
        }
        SqliteFileHeader header;
        try
        {
            header = SqliteFileHeader.Read(full, ApplicationId);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StudyStorageException($"cannot read the study file '{full}': {e.Message}", e);
        }
        if (header.Kind == SqliteFileKind.Foreign)
            throw new StudyStorageException($"'{full}' is not a Tandem study file: it is {header.Finding}. It was left unchanged; give another path.");
        try
        {
            // Tandem writes to the file; find out now, not at the first trial. Opening without truncation changes nothing.
            using (new FileStream(full, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StudyStorageException($"cannot open the study file '{full}' for writing: {e.Message}", e);
        }
        return header;
    }

    private void Initialise()
    {
        // The journal mode cannot change inside a transaction; WAL is persistent once set.
        Pragma("PRAGMA journal_mode = WAL");
        using var tx = _connection.BeginTransaction(deferred: false);
        // Re-check under the write lock: another process may have initialised (or claimed) the file meanwhile.
        long appId = Convert.ToInt64(Scalar(tx, "PRAGMA application_id"), CultureInfo.InvariantCulture);
        long objects = Convert.ToInt64(Scalar(tx, "SELECT count(*) FROM sqlite_schema"), CultureInfo.InvariantCulture);
        if (appId == ApplicationId) return;
        if (appId != 0 || objects != 0)
            throw new StudyStorageException($"'{FilePath}' is not a Tandem study file: another program wrote to it while Tandem was opening it. It was left unchanged.");
        Execute(tx, $"PRAGMA application_id = {ApplicationId}");
        Execute(tx, """
            CREATE TABLE tandem_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE studies (
              id INTEGER PRIMARY KEY,
              name TEXT NOT NULL UNIQUE,
              space_signature TEXT NOT NULL,
              config_json TEXT NOT NULL,
              program_version TEXT NOT NULL,
              created_at TEXT NOT NULL,
              status TEXT NOT NULL);
            CREATE TABLE trials (
              study_id INTEGER NOT NULL REFERENCES studies (id),
              number INTEGER NOT NULL,
              design_key TEXT NOT NULL,
              params_json TEXT NOT NULL,
              state TEXT NOT NULL,
              metrics_json TEXT NOT NULL,
              attributes_json TEXT NOT NULL,
              reason TEXT,
              started_at TEXT NOT NULL,
              finished_at TEXT,
              PRIMARY KEY (study_id, number)) WITHOUT ROWID;
            CREATE TABLE events (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              study_id INTEGER NOT NULL REFERENCES studies (id),
              time TEXT NOT NULL,
              kind TEXT NOT NULL,
              message TEXT NOT NULL,
              data_json TEXT);
            CREATE INDEX events_by_study ON events (study_id, id);
            CREATE TABLE artifacts (
              study_id INTEGER NOT NULL REFERENCES studies (id),
              trial INTEGER NOT NULL,
              name TEXT NOT NULL,
              size INTEGER NOT NULL,
              data BLOB NOT NULL,
              PRIMARY KEY (study_id, trial, name));
            """);
        Execute(tx, "INSERT INTO tandem_meta (key, value) VALUES ('program', $program), ('schema_version', $version)",
            ("$program", StoredValues.ProgramName), ("$version", StoredValues.SchemaVersion.ToString(CultureInfo.InvariantCulture)));
        tx.Commit();
    }

    /// <summary>Reads the marker table; refuses another program's file, a newer schema or a damaged file. Writes nothing.</summary>
    private void Validate()
    {
        using var tx = _connection.BeginTransaction(deferred: true);
        var present = new HashSet<string>(StringComparer.Ordinal);
        using (var cmd = Command(_connection, tx, "SELECT name FROM sqlite_schema WHERE type = 'table'"))
        using (var reader = cmd.ExecuteReader())
            while (reader.Read()) present.Add(reader.GetString(0));
        if (!present.Contains("tandem_meta"))
            throw new StudyStorageException($"'{FilePath}' is not a Tandem study file: it carries Tandem's application id but has no tandem_meta table. It was left unchanged.");
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var cmd = Command(_connection, tx, "SELECT key, value FROM tandem_meta"))
        using (var reader = cmd.ExecuteReader())
            while (reader.Read()) meta[reader.GetString(0)] = reader.GetString(1);
        if (!meta.TryGetValue("program", out var program) || program != StoredValues.ProgramName)
            throw new StudyStorageException($"'{FilePath}' is not a Tandem study file: its tandem_meta table names the program '{program}'. It was left unchanged.");
        if (!meta.TryGetValue("schema_version", out var versionText) || !int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out int version))
            throw new StudyStorageException($"the study file '{FilePath}' is damaged: its schema version '{versionText}' is not a number. It was left unchanged.");
        if (version > StoredValues.SchemaVersion)
            throw new StudyStorageException(
                $"the study file '{FilePath}' was written by a newer Tandem (schema version {version}; this Tandem reads up to {StoredValues.SchemaVersion}). " +
                "Upgrade Tandem to open it; the file was left unchanged.");
        var missing = Tables.Where(t => !present.Contains(t)).ToArray();
        if (missing.Length > 0)
            throw new StudyStorageException($"the study file '{FilePath}' is damaged: the table(s) {string.Join(", ", missing)} are missing. It was left unchanged.");
        if (_options.VerifyOnOpen)
        {
            var problems = new List<string>();
            using var cmd = Command(_connection, tx, "PRAGMA quick_check(5)");
            using var reader = cmd.ExecuteReader();
            while (reader.Read()) problems.Add(reader.GetString(0));
            if (problems is not ["ok"])
                throw new StudyStorageException($"the study file '{FilePath}' is damaged (SQLite's check says: {string.Join("; ", problems)}). It was left unchanged.");
        }
    }

    protected override string Table(string name) => name;

    protected override async Task<T> RunInTransactionAsync<T>(bool write, Func<DbConnection, DbTransaction, Task<T>> body, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            cancellationToken.ThrowIfCancellationRequested();
            using var tx = _connection.BeginTransaction(deferred: !write);
            T result = await body(_connection, tx).ConfigureAwait(false);
            tx.Commit();
            return result;
        }
        catch (SqliteException e)
        {
            throw Translate(e);
        }
        finally
        {
            _gate.Release();
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed) return;
            _disposed = true;
            // Closing the last connection merges the write-ahead log into the file and deletes it.
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private StudyStorageException Translate(SqliteException e)
    {
        string message = (e.SqliteErrorCode & 0xFF) switch
        {
            5 or 6 => $"the {Description} stayed locked by another connection for more than {_options.BusyTimeout.TotalSeconds:0.#} s; " +
                      "another Tandem process may be writing to it",
            8 => $"the {Description} cannot be written ({e.Message}); is the file or its folder read-only?",
            10 => $"reading or writing the {Description} failed at the operating-system level ({e.Message})",
            11 or 26 => $"the {Description} is damaged ({e.Message})",
            13 => $"the disk holding the {Description} is full; the last write was not stored",
            14 => $"cannot open the {Description} ({e.Message}); can its folder be written (SQLite keeps a -wal and -shm file beside it)?",
            _ => $"SQLite failed on the {Description}: {e.Message}",
        };
        return new StudyStorageException(message, e);
    }

    /// <summary>The current value of a pragma, for tests of the durability settings.</summary>
    internal string ReadPragma(string name)
    {
        _gate.Wait();
        try
        {
            using var cmd = Command(_connection, null, $"PRAGMA {name}");
            return Convert.ToString(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) ?? "";
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Pragma(string sql)
    {
        using var cmd = Command(_connection, null, sql);
        cmd.ExecuteNonQuery();
    }

    private object? Scalar(DbTransaction tx, string sql)
    {
        using var cmd = Command(_connection, tx, sql);
        return cmd.ExecuteScalar();
    }

    private void Execute(DbTransaction tx, string sql, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(_connection, tx, sql, parameters);
        cmd.ExecuteNonQuery();
    }
}
