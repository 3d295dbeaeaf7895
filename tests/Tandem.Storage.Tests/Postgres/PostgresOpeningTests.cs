using Npgsql;
using Tandem.Core.Studies;
using Tandem.Storage.Postgres;
using Tandem.Storage.Tests.Contract;

namespace Tandem.Storage.Tests.Postgres;

/// <summary>
/// What opening a PostgreSQL schema does: create a missing one, refuse another program's or a newer
/// one without changing it, and explain login and database errors without showing the password.
/// Needs TANDEM_TEST_POSTGRES (see build/start-test-postgres.sh); each test uses its own schema.
/// </summary>
public sealed class PostgresOpeningTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _schema = "tandem_test_" + Guid.NewGuid().ToString("N");
    private string? _connectionString;

    private string ConnectionString => _connectionString ??= TestPostgres.RequireConnectionString();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_connectionString is not null) await TestPostgres.DropSchemaAsync(_connectionString, _schema);
    }

    private IStudyStorage Open() => StudyStorageFactory.OpenPostgres(ConnectionString, new PostgresStudyStorageOptions { Schema = _schema });

    [Fact]
    public async Task A_missing_schema_is_created_and_marked()
    {
        await using (var store = Open())
        {
            Assert.Contains($"schema '{_schema}'", store.Description);
            await store.CreateStudyAsync(StoredRecords.Study("a"), Ct);
        }
        Assert.Equal("1", await TestPostgres.ScalarAsync<string>(ConnectionString, $"SELECT value FROM \"{_schema}\".tandem_meta WHERE key = 'schema_version'"));
        Assert.Equal("tandem", await TestPostgres.ScalarAsync<string>(ConnectionString, $"SELECT value FROM \"{_schema}\".tandem_meta WHERE key = 'program'"));
    }

    [Fact]
    public async Task An_existing_empty_schema_is_initialised()
    {
        await TestPostgres.ExecuteAsync(ConnectionString, $"CREATE SCHEMA \"{_schema}\"");
        await using var store = Open();
        await store.CreateStudyAsync(StoredRecords.Study("a"), Ct);
        Assert.Single(await store.ListStudiesAsync(Ct));
    }

    [Fact]
    public async Task Another_programs_schema_is_refused_and_left_unchanged()
    {
        await TestPostgres.ExecuteAsync(ConnectionString,
            $"CREATE SCHEMA \"{_schema}\"; CREATE TABLE \"{_schema}\".trials (trial_id int PRIMARY KEY, value float8); INSERT INTO \"{_schema}\".trials VALUES (1, 0.5)");
        string before = await DumpAsync();
        var e = Assert.Throws<StudyStorageException>(() => Open());
        Assert.Contains($"schema '{_schema}'", e.Message);
        Assert.Contains("not a Tandem store", e.Message);
        Assert.Contains("trials", e.Message);
        Assert.Equal(before, await DumpAsync());
    }

    [Fact]
    public async Task A_newer_schema_version_is_refused_and_left_unchanged()
    {
        await using (var store = Open()) await store.CreateStudyAsync(StoredRecords.Study("a"), Ct);
        await TestPostgres.ExecuteAsync(ConnectionString, $"UPDATE \"{_schema}\".tandem_meta SET value = '9' WHERE key = 'schema_version'");
        string before = await DumpAsync();
        var e = Assert.Throws<StudyStorageException>(() => Open());
        Assert.Contains("newer Tandem", e.Message);
        Assert.Contains("schema version 9", e.Message);
        Assert.Equal(before, await DumpAsync());
    }

    [Fact]
    public async Task Another_programs_marker_is_refused()
    {
        await using (var store = Open()) { }
        await TestPostgres.ExecuteAsync(ConnectionString, $"UPDATE \"{_schema}\".tandem_meta SET value = 'other' WHERE key = 'program'");
        Assert.Contains("'other'", Assert.Throws<StudyStorageException>(() => Open()).Message);
    }

    [Fact]
    public async Task Many_openers_of_a_new_schema_at_once_create_it_once()
    {
        var stores = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(Open, Ct)));
        try
        {
            for (int i = 0; i < stores.Length; i++) await stores[i].CreateStudyAsync(StoredRecords.Study($"s{i}"), Ct);
            Assert.Equal(6, (await stores[0].ListStudiesAsync(Ct)).Count);
        }
        finally
        {
            foreach (var s in stores) await s.DisposeAsync();
        }
    }

    [Fact]
    public void A_wrong_password_is_explained_without_showing_it()
    {
        // build/start-test-postgres.sh makes tandem_auth_test the one user that must give a password.
        var b = new NpgsqlConnectionStringBuilder(ConnectionString) { Username = "tandem_auth_test", Password = "hunter2-wrong" };
        var e = Assert.Throws<StudyStorageException>(() => StudyStorageFactory.OpenPostgres(b.ConnectionString));
        Assert.Contains("refused the login", e.Message);
        Assert.Contains($"{b.Host}:{b.Port}", e.Message);
        Assert.Contains($"'{b.Database}'", e.Message);
        Assert.DoesNotContain("hunter2", e.Message);
    }

    [Fact]
    public void A_missing_database_is_named()
    {
        var b = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = "tandem_no_such_database" };
        var e = Assert.Throws<StudyStorageException>(() => StudyStorageFactory.OpenPostgres(b.ConnectionString));
        Assert.Contains("'tandem_no_such_database'", e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    /// <summary>Every table of the test schema with its rows, as text: a refused open must change none.</summary>
    private async Task<string> DumpAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(Ct);
        var tables = new List<string>();
        await using (var cmd = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = @s ORDER BY tablename", connection))
        {
            cmd.Parameters.AddWithValue("s", _schema);
            await using var reader = await cmd.ExecuteReaderAsync(Ct);
            while (await reader.ReadAsync(Ct)) tables.Add(reader.GetString(0));
        }
        var dump = new System.Text.StringBuilder();
        foreach (string table in tables)
        {
            dump.AppendLine("# " + table);
            await using var cmd = new NpgsqlCommand($"SELECT t::text FROM \"{_schema}\".\"{table}\" t ORDER BY 1", connection);
            await using var reader = await cmd.ExecuteReaderAsync(Ct);
            while (await reader.ReadAsync(Ct)) dump.AppendLine(reader.GetString(0));
        }
        return dump.ToString();
    }
}
