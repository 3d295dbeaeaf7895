using Npgsql;
using Tandem.Core.Studies;
using Tandem.Storage.Postgres;
using Tandem.Testing;

namespace Tandem.Storage.Tests.Contract;

/// <summary>The contract on the in-memory reference store (not durable, so only the shared part).</summary>
public sealed class InMemoryContractTests : StudyStorageContractTests
{
    private InMemoryStudyStorage? _store;

    // Every "open" returns the same instance: the in-memory store lives as long as the object.
    protected override ValueTask<IStudyStorage> OpenStoreAsync() => ValueTask.FromResult<IStudyStorage>(_store ??= new InMemoryStudyStorage());
}

/// <summary>The contract on a SQLite file in a fresh temporary folder.</summary>
public sealed class SqliteContractTests : DurableStudyStorageContractTests
{
    private readonly TempDirectory _dir = new("tandem-sqlite");

    protected override ValueTask<IStudyStorage> OpenStoreAsync() =>
        ValueTask.FromResult(StudyStorageFactory.Open("sqlite:studies.db", _dir.Path));

    protected override ValueTask CleanUpAsync()
    {
        _dir.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The contract on PostgreSQL (TANDEM_TEST_POSTGRES), each test in a fresh schema dropped afterwards.</summary>
public sealed class PostgresContractTests : DurableStudyStorageContractTests
{
    private readonly string _schema = "tandem_test_" + Guid.NewGuid().ToString("N");
    private string? _connectionString;

    protected override ValueTask<IStudyStorage> OpenStoreAsync()
    {
        _connectionString ??= TestPostgres.RequireConnectionString();
        return ValueTask.FromResult(StudyStorageFactory.OpenPostgres(_connectionString, new PostgresStudyStorageOptions { Schema = _schema }));
    }

    protected override async ValueTask CleanUpAsync()
    {
        if (_connectionString is not null) await TestPostgres.DropSchemaAsync(_connectionString, _schema);
    }
}

/// <summary>Where the test PostgreSQL server is (build/start-test-postgres.sh) and schema clean-up.</summary>
internal static class TestPostgres
{
    public const string Variable = "TANDEM_TEST_POSTGRES";

    /// <summary>The connection string from TANDEM_TEST_POSTGRES; when unset the test fails under CI=true and is skipped elsewhere.</summary>
    public static string RequireConnectionString()
    {
        string? value = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrWhiteSpace(value)) return value;
        string reason = $"{Variable} is not set; start a throw-away server with: eval \"$(bash build/start-test-postgres.sh)\"";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Assert.Fail(reason + " (CI=true requires the PostgreSQL tests to run)");
        Assert.Skip(reason);
        return ""; // unreachable: Assert.Skip throws
    }

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<T?> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        object? value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default : (T)value;
    }

    public static Task DropSchemaAsync(string connectionString, string schema) =>
        ExecuteAsync(connectionString, $"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
}
