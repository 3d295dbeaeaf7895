using System.Data.Common;
using Tandem.Core.Studies;

namespace Tandem.Storage;

/// <summary>
/// The part of <see cref="IStudyStorage"/> that SQLite and PostgreSQL share: the data manipulation
/// statements (the same SQL runs on both) and the mapping between rows and records. Each public
/// operation runs as one transaction that a backend opens through <see cref="RunAsync{T}"/>, so a
/// write happens whole or not at all; a backend supplies the connection discipline, table names and
/// error translation. Results are sorted in C# with ordinal comparison so that every backend (and
/// the in-memory store) returns the same order whatever the database's collation.
/// </summary>
internal abstract class SqlStudyStorage : IStudyStorage
{
    public abstract string Description { get; }

    /// <summary>The qualified, quoted name of one of the tables (studies, trials, events, artifacts).</summary>
    protected abstract string Table(string name);

    /// <summary>
    /// Runs <paramref name="body"/> in one transaction (a write transaction when <paramref name="write"/>)
    /// and commits it; rolls back if the body throws. Database errors a user can act on (locked, full,
    /// unreachable, corrupt) come out as <see cref="StudyStorageException"/>.
    /// </summary>
    protected abstract Task<T> RunInTransactionAsync<T>(bool write, Func<DbConnection, DbTransaction, Task<T>> body, CancellationToken cancellationToken);

    private async Task<T> RunAsync<T>(bool write, Func<DbConnection, DbTransaction, Task<T>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await RunInTransactionAsync(write, body, cancellationToken).ConfigureAwait(false);
        }
        catch (CorruptRowException e)
        {
            throw Corrupt(e);
        }
    }

    public abstract ValueTask DisposeAsync();

    public Task CreateStudyAsync(StudyRecord study, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(study);
        return RunAsync(write: true, async (c, tx) =>
        {
            int inserted = await ExecuteAsync(c, tx,
                $"""
                INSERT INTO {Table("studies")} (name, space_signature, config_json, program_version, created_at, status)
                VALUES (@name, @sig, @config, @version, @created, @status)
                ON CONFLICT (name) DO NOTHING
                """,
                ("name", study.Name), ("sig", study.SpaceSignature), ("config", study.ConfigJson), ("version", study.ProgramVersion),
                ("created", StoredValues.ToText(study.CreatedAt)), ("status", study.Status.ToString())).ConfigureAwait(false);
            if (inserted == 0) throw new StudyStorageException($"a study named '{study.Name}' already exists in the {Description}");
            return true;
        }, cancellationToken);
    }

    public Task<StudyRecord?> GetStudyAsync(string name, CancellationToken cancellationToken = default) =>
        RunAsync(write: false, async (c, tx) =>
            (await QueryAsync(c, tx, $"{SelectStudies} WHERE name = @name", ReadStudy, ("name", name)).ConfigureAwait(false)).SingleOrDefault(),
            cancellationToken);

    public Task<IReadOnlyList<StudyRecord>> ListStudiesAsync(CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<StudyRecord>>(write: false, async (c, tx) =>
            (await QueryAsync(c, tx, SelectStudies, ReadStudy).ConfigureAwait(false))
                .OrderBy(s => s.CreatedAt).ThenBy(s => s.Name, StringComparer.Ordinal).ToArray(),
            cancellationToken);

    public Task SetStudyStatusAsync(string study, StudyStatus status, CancellationToken cancellationToken = default) =>
        RunAsync(write: true, async (c, tx) =>
        {
            int updated = await ExecuteAsync(c, tx, $"UPDATE {Table("studies")} SET status = @status WHERE name = @name",
                ("status", status.ToString()), ("name", study)).ConfigureAwait(false);
            if (updated == 0) throw UnknownStudy(study);
            return true;
        }, cancellationToken);

    public Task SaveTrialAsync(string study, TrialRecord trial, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trial);
        // Serialise before the transaction: a value that cannot be stored fails without touching the store.
        string paramsJson = StoredValues.ToJson(trial.Params);
        string metricsJson = StoredValues.ToJson(trial.Metrics);
        string attributesJson = StoredValues.ToJson(trial.Attributes);
        return RunAsync(write: true, async (c, tx) =>
        {
            long id = await StudyIdAsync(c, tx, study).ConfigureAwait(false);
            await ExecuteAsync(c, tx,
                $"""
                INSERT INTO {Table("trials")} (study_id, number, design_key, params_json, state, metrics_json, attributes_json, reason, started_at, finished_at)
                VALUES (@study, @number, @key, @params, @state, @metrics, @attributes, @reason, @started, @finished)
                ON CONFLICT (study_id, number) DO UPDATE SET
                  design_key = excluded.design_key, params_json = excluded.params_json, state = excluded.state,
                  metrics_json = excluded.metrics_json, attributes_json = excluded.attributes_json, reason = excluded.reason,
                  started_at = excluded.started_at, finished_at = excluded.finished_at
                """,
                ("study", id), ("number", trial.Number), ("key", trial.DesignKey), ("params", paramsJson), ("state", trial.State.ToString()),
                ("metrics", metricsJson), ("attributes", attributesJson), ("reason", trial.Reason),
                ("started", StoredValues.ToText(trial.StartedAt)),
                ("finished", trial.FinishedAt is { } f ? StoredValues.ToText(f) : null)).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<TrialRecord>> GetTrialsAsync(string study, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<TrialRecord>>(write: false, async (c, tx) =>
        {
            long id = await StudyIdAsync(c, tx, study).ConfigureAwait(false);
            return await QueryAsync(c, tx,
                $"""
                SELECT number, design_key, params_json, state, metrics_json, attributes_json, reason, started_at, finished_at
                FROM {Table("trials")} WHERE study_id = @study ORDER BY number
                """,
                reader =>
                {
                    int number = reader.GetInt32(0);
                    string what = $"trial {number} of study '{study}'";
                    return new TrialRecord
                    {
                        Number = number,
                        DesignKey = reader.GetString(1),
                        Params = StoredValues.StringMap(reader.GetString(2), $"the parameters of {what}"),
                        State = StoredValues.Enum<TrialState>(reader.GetString(3), $"the state of {what}"),
                        Metrics = StoredValues.NumberMap(reader.GetString(4), $"the metrics of {what}"),
                        Attributes = StoredValues.StringMap(reader.GetString(5), $"the attributes of {what}"),
                        Reason = reader.IsDBNull(6) ? null : reader.GetString(6),
                        StartedAt = StoredValues.Time(reader.GetString(7), $"the start time of {what}"),
                        FinishedAt = reader.IsDBNull(8) ? null : StoredValues.Time(reader.GetString(8), $"the finish time of {what}"),
                    };
                }, ("study", id)).ConfigureAwait(false);
        }, cancellationToken);

    public Task AppendEventAsync(string study, StudyEvent studyEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(studyEvent);
        return RunAsync(write: true, async (c, tx) =>
        {
            long id = await StudyIdAsync(c, tx, study).ConfigureAwait(false);
            await ExecuteAsync(c, tx, $"INSERT INTO {Table("events")} (study_id, time, kind, message, data_json) VALUES (@study, @time, @kind, @message, @data)",
                ("study", id), ("time", StoredValues.ToText(studyEvent.Time)), ("kind", studyEvent.Kind), ("message", studyEvent.Message),
                ("data", studyEvent.DataJson)).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<StudyEvent>> GetEventsAsync(string study, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<StudyEvent>>(write: false, async (c, tx) =>
        {
            long id = await StudyIdAsync(c, tx, study).ConfigureAwait(false);
            return await QueryAsync(c, tx, $"SELECT time, kind, message, data_json FROM {Table("events")} WHERE study_id = @study ORDER BY id",
                reader => new StudyEvent(StoredValues.Time(reader.GetString(0), $"an event time of study '{study}'"), reader.GetString(1),
                    reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)),
                ("study", id)).ConfigureAwait(false);
        }, cancellationToken);

    public Task SaveArtifactAsync(string study, int trial, string name, byte[] data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(data);
        return RunAsync(write: true, async (c, tx) =>
        {
            long id = await StudyIdAsync(c, tx, study).ConfigureAwait(false);
            await ExecuteAsync(c, tx,
                $"""
                INSERT INTO {Table("artifacts")} (study_id, trial, name, size, data) VALUES (@study, @trial, @name, @size, @data)
                ON CONFLICT (study_id, trial, name) DO UPDATE SET size = excluded.size, data = excluded.data
                """,
                ("study", id), ("trial", trial), ("name", name), ("size", data.LongLength), ("data", data)).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    public Task<byte[]?> GetArtifactAsync(string study, int trial, string name, CancellationToken cancellationToken = default) =>
        RunAsync(write: false, async (c, tx) =>
        {
            long id = await StudyIdAsync(c, tx, study).ConfigureAwait(false);
            var found = await QueryAsync(c, tx, $"SELECT data FROM {Table("artifacts")} WHERE study_id = @study AND trial = @trial AND name = @name",
                reader => reader.GetFieldValue<byte[]>(0), ("study", id), ("trial", trial), ("name", name)).ConfigureAwait(false);
            return found.SingleOrDefault();
        }, cancellationToken);

    public Task<IReadOnlyList<ArtifactInfo>> ListArtifactsAsync(string study, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<ArtifactInfo>>(write: false, async (c, tx) =>
        {
            long id = await StudyIdAsync(c, tx, study).ConfigureAwait(false);
            var list = await QueryAsync(c, tx, $"SELECT trial, name, size FROM {Table("artifacts")} WHERE study_id = @study",
                reader => new ArtifactInfo(reader.GetInt32(0), reader.GetString(1), reader.GetInt64(2)), ("study", id)).ConfigureAwait(false);
            return list.OrderBy(a => a.Trial).ThenBy(a => a.Name, StringComparer.Ordinal).ToArray();
        }, cancellationToken);

    protected StudyStorageException UnknownStudy(string study) => new($"no study named '{study}' in the {Description}");

    /// <summary>Turns a row this build cannot read into a message about the store.</summary>
    protected StudyStorageException Corrupt(CorruptRowException e) =>
        new($"the {Description} holds data this Tandem cannot read ({e.Message}); the store is damaged or was written by another program", e);

    protected static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            command.Parameters.Add(p);
        }
        return command;
    }

    protected static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    protected static async Task<object?> ScalarAsync(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        object? value = await command.ExecuteScalarAsync().ConfigureAwait(false);
        return value is DBNull ? null : value;
    }

    protected static async Task<List<T>> QueryAsync<T>(DbConnection connection, DbTransaction? transaction, string sql, Func<DbDataReader, T> map,
        params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        var list = new List<T>();
        while (await reader.ReadAsync().ConfigureAwait(false)) list.Add(map(reader));
        return list;
    }

    private string SelectStudies => $"SELECT name, space_signature, config_json, program_version, created_at, status FROM {Table("studies")}";

    private static StudyRecord ReadStudy(DbDataReader reader)
    {
        string name = reader.GetString(0);
        return new StudyRecord
        {
            Name = name,
            SpaceSignature = reader.GetString(1),
            ConfigJson = reader.GetString(2),
            ProgramVersion = reader.GetString(3),
            CreatedAt = StoredValues.Time(reader.GetString(4), $"the creation time of study '{name}'"),
            Status = StoredValues.Enum<StudyStatus>(reader.GetString(5), $"the status of study '{name}'"),
        };
    }

    private async Task<long> StudyIdAsync(DbConnection connection, DbTransaction transaction, string study)
    {
        ArgumentNullException.ThrowIfNull(study);
        object? id = await ScalarAsync(connection, transaction, $"SELECT id FROM {Table("studies")} WHERE name = @name", ("name", study)).ConfigureAwait(false);
        return id is null ? throw UnknownStudy(study) : Convert.ToInt64(id, System.Globalization.CultureInfo.InvariantCulture);
    }
}
