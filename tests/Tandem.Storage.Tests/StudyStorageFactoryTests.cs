using System.Net;
using System.Net.Sockets;
using Npgsql;
using Tandem.Core.Studies;
using Tandem.Testing;
using static Tandem.Storage.StudyStorageFactory;

namespace Tandem.Storage.Tests;

public sealed class StudyStorageFactoryTests
{
    private const string Work = "/home/u/project";

    [Theory]
    [InlineData("studies.db", "/home/u/project/studies.db")]
    [InlineData("runs/../runs/a.db", "/home/u/project/runs/a.db")]
    [InlineData("/abs/a.db", "/abs/a.db")]
    [InlineData("sqlite:rel/a.db", "/home/u/project/rel/a.db")]
    [InlineData("SQLITE:/abs/a.db", "/abs/a.db")]
    [InlineData("sqlite:///rel.db", "/home/u/project/rel.db")]
    [InlineData("sqlite:////abs/x.db", "/abs/x.db")]
    [InlineData("  padded.db  ", "/home/u/project/padded.db")]
    [InlineData("./odd:name.db", "/home/u/project/odd:name.db")]
    public void Paths_and_sqlite_urls_name_a_sqlite_file(string spec, string expected) =>
        Assert.Equal(new SqliteSpec(expected), Parse(spec, Work));

    [Fact]
    public void A_postgres_url_becomes_a_connection_string_with_its_schema()
    {
        var spec = Assert.IsType<PostgresSpec>(Parse("postgres://tandem:p%40ss%3Bword@db.example:5433/studies?schema=team_a&sslmode=require&connect_timeout=7", Work));
        var b = new NpgsqlConnectionStringBuilder(spec.ConnectionString);
        Assert.Equal("db.example", b.Host);
        Assert.Equal(5433, b.Port);
        Assert.Equal("tandem", b.Username);
        Assert.Equal("p@ss;word", b.Password);
        Assert.Equal("studies", b.Database);
        Assert.Equal(SslMode.Require, b.SslMode);
        Assert.Equal(7, b.Timeout);
        Assert.Equal("team_a", spec.Schema);
    }

    [Fact]
    public void A_short_postgresql_url_takes_the_defaults()
    {
        var spec = Assert.IsType<PostgresSpec>(Parse("postgresql://alice@localhost", Work));
        var b = new NpgsqlConnectionStringBuilder(spec.ConnectionString);
        Assert.Equal(5432, b.Port);
        Assert.Equal("alice", b.Database); // libpq: the database named like the user
        Assert.Equal("tandem", spec.Schema);
        var v6 = new NpgsqlConnectionStringBuilder(Assert.IsType<PostgresSpec>(Parse("postgres://[::1]:6000/x", Work)).ConnectionString);
        Assert.Equal("::1", v6.Host);
        Assert.Equal(6000, v6.Port);
    }

    [Fact]
    public void A_connection_string_is_passed_through_with_the_tandem_schema_key_taken_out()
    {
        var spec = Assert.IsType<PostgresSpec>(Parse("Host=127.0.0.1;Port=55432;Username=postgres;Database=postgres;Schema=nightly", Work));
        Assert.Equal("nightly", spec.Schema);
        Assert.DoesNotContain("nightly", spec.ConnectionString);
        Assert.Equal(55432, new NpgsqlConnectionStringBuilder(spec.ConnectionString).Port);
        Assert.Equal("tandem", Assert.IsType<PostgresSpec>(Parse("Server=h;Database=d", Work)).Schema);
    }

    [Fact]
    public void Memory_gives_a_throw_away_store()
    {
        Assert.IsType<MemorySpec>(Parse("memory:", Work));
        Assert.IsType<InMemoryStudyStorage>(Open("memory:", Work));
    }

    [Theory]
    [InlineData("mysql://root:hunter2@h/db", "mysql:")]
    [InlineData("redis:6379", "redis:")]
    [InlineData("s3://bucket/key", "s3:")]
    public void An_unknown_scheme_lists_what_is_accepted_and_hides_passwords(string spec, string scheme)
    {
        var e = Assert.Throws<StudyStorageException>(() => Parse(spec, Work));
        Assert.Contains($"unknown scheme '{scheme}'", e.Message);
        Assert.Contains("sqlite:PATH", e.Message);
        Assert.Contains("postgres://", e.Message);
        Assert.Contains("Host=", e.Message);
        Assert.DoesNotContain("hunter2", e.Message);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("sqlite:", "names no file")]
    [InlineData("postgres://h/db?colour=blue", "unknown option 'colour'")]
    [InlineData("postgres://h/db?sslmode=sometimes", "sslmode 'sometimes'")]
    [InlineData("postgres://h/db?connect_timeout=-3", "connect_timeout '-3'")]
    [InlineData("postgres://h/a/b", "cannot contain '/'")]
    [InlineData("Host=h;Colour=blue;Password=hunter2", "colour")]
    public void Malformed_specs_are_refused_with_one_clear_message(string spec, string expected)
    {
        var e = Assert.Throws<StudyStorageException>(() => Parse(spec, Work));
        Assert.Contains(expected, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("hunter2", e.Message);
    }

    [Fact]
    public void Describe_names_the_place_but_never_the_password()
    {
        Assert.Equal("study file '/home/u/project/a.db'", Describe("a.db", Work));
        string d = Describe("postgres://bob:hunter2@db.example:5433/studies?schema=x", Work);
        Assert.Contains("'studies'", d);
        Assert.Contains("db.example:5433", d);
        Assert.Contains("schema 'x'", d);
        Assert.DoesNotContain("hunter2", d);
        Assert.DoesNotContain("hunter2", Describe("Host=h;Password=hunter2;Database=d", Work));
    }

    [Fact]
    public void Redact_hides_passwords_in_both_forms()
    {
        Assert.Equal("postgres://u:***@h/db", Redact("postgres://u:hunter2@h/db"));
        Assert.Equal("Host=h;Password=***;Database=d", Redact("Host=h;Password=hunter2;Database=d"));
    }

    [Fact]
    public void An_unreachable_server_is_named_without_the_password()
    {
        // A port that was free a moment ago: nothing listens there, so the connection is refused at once.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var e = Assert.Throws<StudyStorageException>(() => Open($"postgres://tandem:hunter2@127.0.0.1:{port}/studies?connect_timeout=5", Work));
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.Contains("'studies'", e.Message);
        Assert.Contains("cannot reach", e.Message);
        Assert.DoesNotContain("hunter2", e.Message);
    }

    [Fact]
    public async Task Open_resolves_a_relative_sqlite_path_against_the_working_folder()
    {
        using var dir = new TempDirectory();
        await using (var store = Open("sqlite:sub/s.db", dir.Path))
            await store.CreateStudyAsync(Contract.StoredRecords.Study("x"), TestContext.Current.CancellationToken);
        Assert.True(File.Exists(Path.Combine(dir.Path, "sub", "s.db")));
    }
}
