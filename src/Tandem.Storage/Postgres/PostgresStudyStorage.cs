using System.Data.Common;
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Npgsql;
using Tandem.Core.Studies;

namespace Tandem.Storage.Postgres;

/// <summary>
/// A study store in a PostgreSQL schema, reached through Npgsql. Invariants:
/// <list type="bullet">
/// <item>The schema is Tandem's when it holds a <c>tandem_meta</c> table naming the program and a schema
///   version this build reads; a missing or empty schema is initialised (under an advisory lock, so
///   concurrent openers initialise once); a schema holding other tables, another program's marker or a
///   newer version is refused with a <see cref="StudyStorageException"/> and left untouched.</item>
/// <item>Every operation is one transaction on a pooled connection: writes happen whole or not at all and
///   are durable when they return (PostgreSQL's commit); many threads and processes may write at once.</item>
/// <item>Messages name host, port, database and schema, never the password.</item>
/// </list>
/// </summary>
internal sealed partial class PostgresStudyStorage : SqlStudyStorage
{
    private static readonly string[] Tables = ["tandem_meta", "studies", "trials", "events", "artifacts"];

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _schema;
    private readonly string _server;
    private int _disposed;

    private PostgresStudyStorage(NpgsqlDataSource dataSource, string schema, string server)
    {
        _dataSource = dataSource;
        _schema = schema;
        _server = server;
    }

    public override string Description => $"{_server} (schema '{_schema}')";

    /// <summary>Connects, checks (or creates) the schema and returns the store; see the type's invariants.</summary>
    public static PostgresStudyStorage Open(string connectionString, PostgresStudyStorageOptions? options = null)
    {
        options ??= new PostgresStudyStorageOptions();
        string schema = options.Schema;
        if (schema is null || !SchemaName().IsMatch(schema))
            throw new StudyStorageException(
                $"'{schema}' cannot be a PostgreSQL schema for Tandem; use a lower-case identifier of letters, digits and '_' (at most 63 characters), such as '{PostgresStudyStorageOptions.DefaultSchema}'");
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            // Npgsql's message names the offending keyword; never echo the string itself (it may hold a password).
            throw new StudyStorageException($"the PostgreSQL connection string is not valid: {e.Message}", e);
        }
        string server = ServerDescription(builder);
        var dataSource = NpgsqlDataSource.Create(builder);
        var store = new PostgresStudyStorage(dataSource, schema, server);
        try
        {
            store.Prepare();
            return store;
        }
        catch
        {
            dataSource.Dispose();
            throw;
        }
    }

    /// <summary>"PostgreSQL database 'db' at host:port as user 'u'" — what messages say about the server.</summary>
    internal static string ServerDescription(NpgsqlConnectionStringBuilder b)
    {
        string host = string.IsNullOrEmpty(b.Host) ? "localhost" : b.Host;
        string database = b.Database ?? b.Username ?? "(default)";
        string user = b.Username is { Length: > 0 } u ? $" as user '{u}'" : "";
        return $"PostgreSQL database '{database}' at {host}:{b.Port}{user}";
    }

    private void Prepare()
    {
        try
        {
            using var connection = _dataSource.OpenConnection();
            using var tx = connection.BeginTransaction();
            // Serialise concurrent openers of the same schema so it is created once.
            Execute(connection, tx, "SELECT pg_advisory_xact_lock(@key)", ("key", LockKey(_schema)));
            var present = new HashSet<string>(StringComparer.Ordinal);
            using (var cmd = Command(connection, tx,
                       """
                       SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = @schema AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                       """, ("schema", _schema)))
            using (var reader = cmd.ExecuteReader())
                while (reader.Read()) present.Add(reader.GetString(0));
            if (present.Count == 0) Create(connection, tx);
            else Validate(connection, tx, present);
            tx.Commit();
        }
        catch (Exception e) when (Translate(e) is { } translated)
        {
            throw translated;
        }
    }

    private void Create(NpgsqlConnection connection, NpgsqlTransaction tx)
    {
        string s = Quote(_schema);
        Execute(connection, tx, $"""
            CREATE SCHEMA IF NOT EXISTS {s};
            CREATE TABLE {s}.tandem_meta (key text PRIMARY KEY, value text NOT NULL);
            CREATE TABLE {s}.studies (
              id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              name text NOT NULL UNIQUE,
              space_signature text NOT NULL,
              config_json text NOT NULL,
              program_version text NOT NULL,
              created_at text NOT NULL,
              status text NOT NULL);
            CREATE TABLE {s}.trials (
              study_id bigint NOT NULL REFERENCES {s}.studies (id),
              number integer NOT NULL,
              design_key text NOT NULL,
              params_json text NOT NULL,
              state text NOT NULL,
              metrics_json text NOT NULL,
              attributes_json text NOT NULL,
              reason text,
              started_at text NOT NULL,
              finished_at text,
              PRIMARY KEY (study_id, number));
            CREATE TABLE {s}.events (
              id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              study_id bigint NOT NULL REFERENCES {s}.studies (id),
              time text NOT NULL,
              kind text NOT NULL,
              message text NOT NULL,
              data_json text);
            CREATE INDEX events_by_study ON {s}.events (study_id, id);
            CREATE TABLE {s}.artifacts (
              study_id bigint NOT NULL REFERENCES {s}.studies (id),
              trial integer NOT NULL,
              name text NOT NULL,
              size bigint NOT NULL,
              data bytea NOT NULL,
              PRIMARY KEY (study_id, trial, name));
            """);
        Execute(connection, tx, $"INSERT INTO {s}.tandem_meta (key, value) VALUES ('program', @program), ('schema_version', @version)",
            ("program", StoredValues.ProgramName), ("version", StoredValues.SchemaVersion.ToString(CultureInfo.InvariantCulture)));
    }

    private void Validate(NpgsqlConnection connection, NpgsqlTransaction tx, HashSet<string> present)
    {
        string where = $"schema '{_schema}' of the {_server}";
        if (!present.Contains("tandem_meta"))
            throw new StudyStorageException(
                $"the {where} is not a Tandem store: it holds other tables ({string.Join(", ", present.Order(StringComparer.Ordinal).Take(8))}). " +
                "It was left unchanged; choose another schema (e.g. '?schema=tandem2' or 'Schema=tandem2').");
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var cmd = Command(connection, tx, $"SELECT key, value FROM {Quote(_schema)}.tandem_meta"))
        using (var reader = cmd.ExecuteReader())
            while (reader.Read()) meta[reader.GetString(0)] = reader.GetString(1);
        if (!meta.TryGetValue("program", out var program) || program != StoredValues.ProgramName)
            throw new StudyStorageException($"the {where} is not a Tandem store: its tandem_meta table names the program '{program}'. It was left unchanged.");
        if (!meta.TryGetValue("schema_version", out var versionText) || !int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out int version))
            throw new StudyStorageException($"the {where} is damaged: its schema version '{versionText}' is not a number. It was left unchanged.");
        if (version > StoredValues.SchemaVersion)
            throw new StudyStorageException(
                $"the {where} was written by a newer Tandem (schema version {version}; this Tandem reads up to {StoredValues.SchemaVersion}). " +
                "Upgrade Tandem to open it; it was left unchanged.");
        var missing = Tables.Where(t => !present.Contains(t)).ToArray();
        if (missing.Length > 0)
            throw new StudyStorageException($"the {where} is damaged: the table(s) {string.Join(", ", missing)} are missing. It was left unchanged.");
    }

    protected override string Table(string name) => $"{Quote(_schema)}.{name}";

    protected override async Task<T> RunInTransactionAsync<T>(bool write, Func<DbConnection, DbTransaction, Task<T>> body, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            T result = await body(connection, tx).ConfigureAwait(false);
            await tx.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            return result;
        }
        catch (Exception e) when (Translate(e) is { } translated)
        {
            throw translated;
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _dataSource.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A message for errors a user can act on (server down, wrong password, no such database); null for the rest.</summary>
    private StudyStorageException? Translate(Exception e)
    {
        switch (e)
        {
            case StudyStorageException:
                return null;
            case PostgresException pg:
                string? message = pg.SqlState switch
                {
                    "28P01" or "28000" => $"the {_server} refused the login: {pg.MessageText}",
                    "3D000" => $"the {_server} does not exist: {pg.MessageText}",
                    "42501" => $"the {_server} denies Tandem the right to use schema '{_schema}': {pg.MessageText}",
                    "53100" => $"the {_server} is out of disk space; the last write was not stored",
                    // PostgreSQL text cannot hold U+0000 (SQLite can); the write is refused whole.
                    "22021" or "22P05" => $"the {_server} cannot store this text ({pg.MessageText}); remove NUL characters from names, reasons and attributes",
                    "57P01" or "57P02" or "57P03" => $"the {_server} is shutting down or starting up: {pg.MessageText}",
                    _ => null,
                };
                return message is null ? null : new StudyStorageException(message, e);
            case NpgsqlException when e.InnerException is SocketException or TimeoutException or IOException or System.Security.Authentication.AuthenticationException:
                return new StudyStorageException($"cannot reach the {_server}: {e.InnerException!.Message}", e);
            case NpgsqlException when e.Message.Contains("password", StringComparison.OrdinalIgnoreCase):
                // e.g. "No password has been provided but the backend requires one" — Npgsql's text never contains the password.
                return new StudyStorageException($"the {_server} refused the login: {e.Message}", e);
            case SocketException or TimeoutException:
                return new StudyStorageException($"cannot reach the {_server}: {e.Message}", e);
            default:
                return null;
        }
    }

    private static string Quote(string identifier) => "\"" + identifier + "\"";

    private static long LockKey(string schema)
    {
        // FNV-1a: stable across processes and runs (string.GetHashCode is randomised per process).
        ulong hash = 14695981039346656037UL;
        foreach (char ch in "tandem-schema:" + schema)
        {
            hash ^= ch;
            hash *= 1099511628211UL;
        }
        return unchecked((long)hash);
    }

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(connection, tx, sql, parameters);
        cmd.ExecuteNonQuery();
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex SchemaName();
}
