using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Tandem.Core.Studies;
using Tandem.Storage.Sqlite;
using Tandem.Testing;
using static Tandem.Storage.Tests.Contract.StoredRecords;

namespace Tandem.Storage.Tests.Sqlite;

/// <summary>
/// What opening a path does: create or initialise what may be, refuse everything else with a message
/// that names the file and what was found, and leave a refused file (and its folder) exactly as it was.
/// </summary>
public sealed class SqliteOpeningTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly TempDirectory _dir = new("tandem-open");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_missing_file_is_created_with_its_folders_and_marked_as_tandems()
    {
        string path = _dir.File("runs/2025/studies.db");
        await using (var store = StudyStorageFactory.OpenSqlite(path))
        {
            await store.CreateStudyAsync(Study("alpha"), Ct);
            Assert.Contains(path, store.Description);
        }
        var header = File.ReadAllBytes(path)[..100];
        Assert.Equal(SqliteStudyStorage.ApplicationId, BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(68)));
        Assert.Equal(2, header[18]); // write-ahead log
        Assert.Equal(2, header[19]);
        Assert.False(File.Exists(path + "-wal") && new FileInfo(path + "-wal").Length > 0, "the log was not merged on dispose");
        Assert.Equal(["program=tandem", "schema_version=1"], ReadRaw(path, "SELECT key || '=' || value FROM tandem_meta ORDER BY key"));
    }

    [Fact]
    public async Task An_empty_file_is_initialised()
    {
        string path = _dir.File("empty.db");
        File.WriteAllBytes(path, []);
        await using (var store = StudyStorageFactory.OpenSqlite(path))
            await store.CreateStudyAsync(Study("alpha"), Ct);
        await using var again = StudyStorageFactory.OpenSqlite(path);
        Assert.Single(await again.ListStudiesAsync(Ct));
    }

    [Fact]
    public async Task An_empty_sqlite_database_is_initialised()
    {
        string path = _dir.File("blank.db");
        // A database that exists as a file but has never had a table (e.g. made by another tool's "create").
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA journal_mode = WAL";
            cmd.ExecuteNonQuery();
        }
        Assert.True(new FileInfo(path).Length > 0);
        await using var store = StudyStorageFactory.OpenSqlite(path);
        await store.CreateStudyAsync(Study("alpha"), Ct);
        Assert.Single(await store.ListStudiesAsync(Ct));
    }

    [Fact]
    public async Task The_store_writes_durably()
    {
        await using var store = (SqliteStudyStorage)StudyStorageFactory.OpenSqlite(_dir.File("s.db"));
        Assert.Equal("wal", store.ReadPragma("journal_mode"));
        Assert.Equal("2", store.ReadPragma("synchronous")); // FULL
        Assert.Equal("1", store.ReadPragma("foreign_keys"));
    }

    [Fact]
    public void A_text_file_is_refused_and_left_unchanged()
    {
        string path = _dir.File("config.yaml");
        File.WriteAllText(path, "study:\n  name: demo\n  objectives: [accuracy, latency_ms]\n");
        var e = AssertRefusedUnchanged(path);
        Assert.Contains("text file", e.Message);
        Assert.Contains("study:", e.Message);
    }

    [Fact]
    public void Random_bytes_are_refused_and_left_unchanged()
    {
        string path = _dir.File("noise.bin");
        var bytes = new byte[10_000];
        new Random(5).NextBytes(bytes);
        bytes[0] = 0x01;
        File.WriteAllBytes(path, bytes);
        Assert.Contains("binary data", AssertRefusedUnchanged(path).Message);
    }

    [Fact]
    public void A_tiny_file_is_refused()
    {
        string path = _dir.File("tiny.db");
        File.WriteAllBytes(path, [0x53]);
        Assert.Contains("1 byte", AssertRefusedUnchanged(path).Message);
    }

    [Fact]
    public void Another_programs_sqlite_database_is_refused_and_left_unchanged()
    {
        string path = _dir.File("optuna.db");
        ExecuteRaw(path, "PRAGMA journal_mode = WAL", "CREATE TABLE trials (trial_id INTEGER PRIMARY KEY, value REAL)", "INSERT INTO trials VALUES (1, 0.5)");
        var e = AssertRefusedUnchanged(path);
        Assert.Contains("another program", e.Message);
        Assert.Equal(["1|0.5"], ReadRaw(path, "SELECT trial_id || '|' || value FROM trials"));
    }

    [Fact]
    public void A_database_marked_by_another_program_is_refused_naming_its_id()
    {
        string path = _dir.File("other.db");
        ExecuteRaw(path, "PRAGMA application_id = 1234", "CREATE TABLE t (x)");
        Assert.Contains("0x000004D2", AssertRefusedUnchanged(path).Message);
    }

    [Fact]
    public void A_truncated_study_file_is_refused_and_left_unchanged()
    {
        string path = FilledStore("truncated.db");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        Assert.Contains("truncated", AssertRefusedUnchanged(path).Message);
    }

    [Fact]
    public void A_file_cut_mid_page_is_refused()
    {
        string path = FilledStore("cut.db");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        Assert.Contains("truncated", AssertRefusedUnchanged(path).Message);
    }

    [Fact]
    public void A_study_file_with_a_damaged_page_is_refused_and_left_unchanged()
    {
        string path = FilledStore("damaged.db");
        long root = long.Parse(ReadRaw(path, "SELECT rootpage FROM sqlite_schema WHERE name = 'trials'").Single(), System.Globalization.CultureInfo.InvariantCulture);
        int pageSize = int.Parse(ReadRaw(path, "PRAGMA page_size").Single(), System.Globalization.CultureInfo.InvariantCulture);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            stream.Position = (root - 1) * pageSize;
            var garbage = new byte[pageSize];
            new Random(3).NextBytes(garbage);
            stream.Write(garbage);
        }
        Assert.Contains("damaged", AssertRefusedUnchanged(path).Message);
    }

    [Fact]
    public void A_study_file_of_a_newer_schema_is_refused_and_left_unchanged()
    {
        string path = FilledStore("newer.db");
        ExecuteRaw(path, "UPDATE tandem_meta SET value = '7' WHERE key = 'schema_version'");
        var e = AssertRefusedUnchanged(path);
        Assert.Contains("newer Tandem", e.Message);
        Assert.Contains("schema version 7", e.Message);
    }

    [Fact]
    public void A_file_with_tandems_id_but_another_programs_meta_is_refused()
    {
        string path = FilledStore("imposter.db");
        ExecuteRaw(path, "UPDATE tandem_meta SET value = 'imposter' WHERE key = 'program'");
        Assert.Contains("'imposter'", AssertRefusedUnchanged(path).Message);
    }

    [Fact]
    public void A_file_with_tandems_id_but_no_meta_table_is_refused()
    {
        string path = _dir.File("marker-only.db");
        ExecuteRaw(path, $"PRAGMA application_id = {SqliteStudyStorage.ApplicationId}", "CREATE TABLE t (x)");
        Assert.Contains("no tandem_meta table", AssertRefusedUnchanged(path).Message);
    }

    [Fact]
    public void A_folder_is_refused_with_a_hint()
    {
        var e = Assert.Throws<StudyStorageException>(() => StudyStorageFactory.OpenSqlite(_dir.Path));
        Assert.Contains(_dir.Path, e.Message);
        Assert.Contains("is a folder", e.Message);
        Assert.Contains("studies.db", e.Message);
    }

    [Fact]
    public void A_location_that_cannot_be_written_is_refused_with_a_message()
    {
        // /proc refuses new files even to root, which a chmod-based test could not guarantee.
        string path = "/proc/tandem-cannot-create-" + Guid.NewGuid().ToString("N") + ".db";
        var e = Assert.Throws<StudyStorageException>(() => StudyStorageFactory.OpenSqlite(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("cannot create", e.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void A_path_below_a_file_is_refused_with_a_message()
    {
        string file = _dir.File("plain.txt");
        File.WriteAllText(file, "x");
        string path = Path.Combine(file, "studies.db");
        var e = Assert.Throws<StudyStorageException>(() => StudyStorageFactory.OpenSqlite(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public async Task Two_stores_on_one_file_initialising_at_once_both_work()
    {
        string path = _dir.File("race.db");
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => StudyStorageFactory.OpenSqlite(path), Ct)));
        try
        {
            for (int i = 0; i < stores.Length; i++) await stores[i].CreateStudyAsync(Study($"s{i}"), Ct);
            Assert.Equal(4, (await stores[0].ListStudiesAsync(Ct)).Count);
        }
        finally
        {
            foreach (var s in stores) await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_write_blocked_past_the_busy_timeout_fails_clearly_and_stores_nothing()
    {
        string path = _dir.File("locked.db");
        await using var store = StudyStorageFactory.OpenSqlite(path, new SqliteStudyStorageOptions { BusyTimeout = TimeSpan.FromMilliseconds(200) });
        await store.CreateStudyAsync(Study("alpha"), Ct);
        using var blocker = new SqliteConnection($"Data Source={path};Pooling=False");
        blocker.Open();
        using (var begin = blocker.CreateCommand()) { begin.CommandText = "BEGIN IMMEDIATE"; begin.ExecuteNonQuery(); }
        var e = await Assert.ThrowsAsync<StudyStorageException>(() => store.SaveTrialAsync("alpha", Complete(0), Ct));
        Assert.Contains("locked", e.Message);
        Assert.Contains(path, e.Message);
        using (var rollback = blocker.CreateCommand()) { rollback.CommandText = "ROLLBACK"; rollback.ExecuteNonQuery(); }
        Assert.Empty(await store.GetTrialsAsync("alpha", Ct));
        await store.SaveTrialAsync("alpha", Complete(0), Ct);
        Assert.Single(await store.GetTrialsAsync("alpha", Ct));
    }

    /// <summary>Opens <paramref name="path"/>, expects a refusal naming it, and checks the file and its folder are unchanged.</summary>
    private StudyStorageException AssertRefusedUnchanged(string path)
    {
        string before = Snapshot();
        var e = Assert.Throws<StudyStorageException>(() => StudyStorageFactory.OpenSqlite(path));
        Assert.Contains(path, e.Message);
        Assert.Equal(before, Snapshot());
        return e;
    }

    /// <summary>Every file of the test folder with its SHA-256: a refused open must not change, add or remove any.</summary>
    private string Snapshot() => string.Join("\n", Directory.GetFiles(_dir.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
        .Select(f => $"{Path.GetFileName(f)} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}"));

    /// <summary>A closed Tandem store with a few studies, trials, events and an artifact spanning many pages.</summary>
    private string FilledStore(string name)
    {
        string path = _dir.File(name);
        var store = StudyStorageFactory.OpenSqlite(path);
        try
        {
            store.CreateStudyAsync(Study("alpha"), Ct).GetAwaiter().GetResult();
            for (int n = 0; n < 200; n++) store.SaveTrialAsync("alpha", Complete(n), Ct).GetAwaiter().GetResult();
            store.AppendEventAsync("alpha", new StudyEvent(T0, "k", "m"), Ct).GetAwaiter().GetResult();
            store.SaveArtifactAsync("alpha", 0, "w", new byte[100_000], Ct).GetAwaiter().GetResult();
        }
        finally
        {
            store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return path;
    }

    private static void ExecuteRaw(string path, params string[] statements)
    {
        using var c = new SqliteConnection($"Data Source={path};Pooling=False");
        c.Open();
        foreach (string sql in statements)
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            cmd.ExecuteNonQuery();
        }
    }

    private static string[] ReadRaw(string path, string sql)
    {
        // Read-write although it only reads: a read-only connection to a log-mode file leaves -wal and -shm files behind.
        using var c = new SqliteConnection($"Data Source={path};Mode=ReadWrite;Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read()) rows.Add(Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!);
        return rows.ToArray();
    }
}
