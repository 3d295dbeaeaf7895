using System.Collections.Concurrent;
using Tandem.Core.Studies;
using static Tandem.Storage.Tests.Contract.StoredRecords;

namespace Tandem.Storage.Tests.Contract;

/// <summary>
/// The storage contract of <see cref="IStudyStorage"/>, run against every backend (in-memory, SQLite,
/// PostgreSQL) by deriving a class that says how to open a fresh, empty store. Each test gets its own
/// store and the derived class removes it afterwards.
/// </summary>
public abstract class StudyStorageContractTests : IAsyncLifetime
{
    private readonly List<IStudyStorage> _opened = [];

    /// <summary>Opens a new instance over this test's store (empty the first time; the same data afterwards).</summary>
    protected abstract ValueTask<IStudyStorage> OpenStoreAsync();

    /// <summary>Removes whatever the test's store left behind (files, schemas).</summary>
    protected virtual ValueTask CleanUpAsync() => ValueTask.CompletedTask;

    protected async Task<IStudyStorage> OpenAsync()
    {
        var store = await OpenStoreAsync();
        _opened.Add(store);
        return store;
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _opened) await store.DisposeAsync();
        await CleanUpAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task A_created_study_comes_back_field_for_field()
    {
        var store = await OpenAsync();
        var study = Study("alpha") with { Status = StudyStatus.Running };
        await store.CreateStudyAsync(study, Ct);
        Equal(study, await store.GetStudyAsync("alpha", Ct));
        Assert.Null(await store.GetStudyAsync("beta", Ct));
        Assert.Null(await store.GetStudyAsync("ALPHA", Ct));
    }

    [Fact]
    public async Task A_duplicate_study_name_is_refused_and_the_first_is_kept()
    {
        var store = await OpenAsync();
        await store.CreateStudyAsync(Study("alpha"), Ct);
        await store.SaveTrialAsync("alpha", Complete(0), Ct);
        var e = await Assert.ThrowsAsync<StudyStorageException>(() => store.CreateStudyAsync(Study("alpha", 5) with { ConfigJson = "{}" }, Ct));
        Assert.Contains("'alpha'", e.Message);
        Assert.Contains("already exists", e.Message);
        Equal(Study("alpha"), await store.GetStudyAsync("alpha", Ct));
        Assert.Single(await store.GetTrialsAsync("alpha", Ct));
    }

    [Fact]
    public async Task Studies_are_listed_by_creation_time_then_name()
    {
        var store = await OpenAsync();
        Assert.Empty(await store.ListStudiesAsync(Ct));
        await store.CreateStudyAsync(Study("late", 10), Ct);
        await store.CreateStudyAsync(Study("b-early", 1), Ct);
        await store.CreateStudyAsync(Study("a-early", 1), Ct);
        // Same instant written with another offset: ordered by the instant, not the text.
        await store.CreateStudyAsync(Study("middle") with { CreatedAt = T0.AddMinutes(5).ToOffset(TimeSpan.FromHours(-7)) }, Ct);
        var names = (await store.ListStudiesAsync(Ct)).Select(s => s.Name).ToArray();
        Assert.Equal(["a-early", "b-early", "middle", "late"], names);
    }

    [Fact]
    public async Task Study_status_is_stored()
    {
        var store = await OpenAsync();
        await store.CreateStudyAsync(Study("alpha"), Ct);
        await store.CreateStudyAsync(Study("beta"), Ct);
        await store.SetStudyStatusAsync("alpha", StudyStatus.Finished, Ct);
        Assert.Equal(StudyStatus.Finished, (await store.GetStudyAsync("alpha", Ct))!.Status);
        Assert.Equal(StudyStatus.Running, (await store.GetStudyAsync("beta", Ct))!.Status);
        await store.SetStudyStatusAsync("alpha", StudyStatus.Running, Ct);
        Assert.Equal(StudyStatus.Running, (await store.GetStudyAsync("alpha", Ct))!.Status);
    }

    [Fact]
    public async Task Saving_a_trial_again_replaces_it_so_running_then_complete_leaves_one_row()
    {
        var store = await OpenAsync();
        await store.CreateStudyAsync(Study("alpha"), Ct);
        await store.SaveTrialAsync("alpha", Running(0), Ct);
        var stored = Assert.Single(await store.GetTrialsAsync("alpha", Ct));
        Equal(Running(0), stored);
        Assert.False(stored.IsFinished);

        await store.SaveTrialAsync("alpha", Complete(0), Ct);
        Equal(Complete(0), Assert.Single(await store.GetTrialsAsync("alpha", Ct)));

        // A re-evaluation after a crash replaces a Running record by a Pruned one with fewer metrics.
        var pruned = Running(0) with
        {
            State = TrialState.Pruned,
            Reason = "latency_ms = 3.1 ms exceeds the spec ≤ 2 ms by 1.1 ms (55%)",
            Metrics = new Dictionary<string, double> { ["latency_ms"] = 3.1 },
            FinishedAt = T0.AddHours(1),
        };
        await store.SaveTrialAsync("alpha", pruned, Ct);
        Equal(pruned, Assert.Single(await store.GetTrialsAsync("alpha", Ct)));
    }

    [Fact]
    public async Task Trials_come_back_ordered_by_number_whatever_the_write_order()
    {
        var store = await OpenAsync();
        await store.CreateStudyAsync(Study("alpha"), Ct);
        int[] order = [7, 2, 11, 0, 5, 1, 10, 3, 9, 4, 8, 6];
        foreach (int n in order) await store.SaveTrialAsync("alpha", Running(n), Ct);
        foreach (int n in order.Reverse()) await store.SaveTrialAsync("alpha", Complete(n), Ct);
        var trials = await store.GetTrialsAsync("alpha", Ct);
        Assert.Equal(Enumerable.Range(0, 12), trials.Select(t => t.Number));
        foreach (var t in trials) Equal(Complete(t.Number), t);
    }

    [Fact]
    public async Task Metrics_round_trip_bit_exact_including_extremes_and_non_finite_values()
    {
        var store = await OpenAsync();
        await store.CreateStudyAsync(Study("alpha"), Ct);
        var metrics = new Dictionary<string, double>
        {
            ["zero"] = 0.0,
            ["negative_zero"] = -0.0,
            ["tenth_plus_fifth"] = 0.1 + 0.2,
            ["third"] = 1.0 / 3,
            ["max"] = double.MaxValue,
            ["min"] = double.MinValue,
            ["epsilon"] = double.Epsilon,
            ["smallest_normal"] = 2.2250738585072014E-308,
            ["large"] = 1.2345678901234567e300,
            ["small"] = -9.87654321e-300,
            ["integer_like"] = 9007199254740993.0,
            ["nan"] = double.NaN,
            ["plus_infinity"] = double.PositiveInfinity,
            ["minus_infinity"] = double.NegativeInfinity,
        };
        var trial = Complete(0) with { Metrics = metrics };
        await store.SaveTrialAsync("alpha", trial, Ct);
        Equal(trial, Assert.Single(await store.GetTrialsAsync("alpha", Ct)));
    }

    [Fact]
    public async Task Text_round_trips_exactly_including_quotes_newlines_and_unicode()
    {
        var store = await OpenAsync();
        string name = "ßtudy «résumé» 研究 \"quoted\"; DROP TABLE trials; --";
        var study = Study(name) with { SpaceSignature = "", ConfigJson = "{\n  \"a\": \"b,c\"\n}" };
        await store.CreateStudyAsync(study, Ct);
        var trial = Complete(3) with
        {
            State = TrialState.Failed,
            DesignKey = "k=\"v\"|x=1,2",
            Params = new Dictionary<string, string> { ["arch.ops"] = "conv3x3,conv5x5", ["empty"] = "", ["quote\"key"] = "line1\nline2\r\n\ttab", ["emoji"] = "🚀" },
            Attributes = new Dictionary<string, string> { ["note"] = "it's \\ back\\slash", ["json"] = "{\"nested\": [1, 2]}" },
            Reason = "NaN loss at epoch 3, batch 17: \"exploding\" gradients\nsee log",
            Metrics = new Dictionary<string, double>(),
        };
        await store.SaveTrialAsync(name, trial, Ct);
        Equal(study, await store.GetStudyAsync(name, Ct));
        Equal(trial, Assert.Single(await store.GetTrialsAsync(name, Ct)));
    }

    [Fact]
    public async Task Times_keep_their_offset_and_every_tick()
    {
        var store = await OpenAsync();
        var created = new DateTimeOffset(2024, 2, 29, 23, 59, 59, TimeSpan.FromMinutes(-(9 * 60 + 30))).AddTicks(9_999_999);
        await store.CreateStudyAsync(Study("alpha") with { CreatedAt = created }, Ct);
        var trial = Running(0) with { StartedAt = DateTimeOffset.MinValue, FinishedAt = DateTimeOffset.MaxValue, State = TrialState.Complete };
        await store.SaveTrialAsync("alpha", trial, Ct);
        ExactTime(created, (await store.GetStudyAsync("alpha", Ct))!.CreatedAt);
        Equal(trial, Assert.Single(await store.GetTrialsAsync("alpha", Ct)));
    }

    [Fact]
    public async Task Events_come_back_in_append_order_per_study()
    {
        var store = await OpenAsync();
        await store.CreateStudyAsync(Study("alpha"), Ct);
        await store.CreateStudyAsync(Study("beta"), Ct);
        var events = new[]
        {
            new StudyEvent(T0, "started", "study started"),
            new StudyEvent(T0.AddSeconds(-5), "resumed", "resumed after a crash; 12 trials replayed", """{"replayed":12}"""),
            new StudyEvent(T0.AddSeconds(1), "space-shrunk", "hw.rows: dropped 4 (every design broke latency_ms ≤ 2 ms)\nsecond line", ""),
        };
        foreach (var e in events) await store.AppendEventAsync("alpha", e, Ct);
        await store.AppendEventAsync("beta", new StudyEvent(T0, "other", "belongs to beta"), Ct);
        var stored = await store.GetEventsAsync("alpha", Ct);
        Assert.Equal(events.Length, stored.Count);
        for (int i = 0; i < events.Length; i++) Equal(events[i], stored[i]);
        Assert.Equal("belongs to beta", Assert.Single(await store.GetEventsAsync("beta", Ct)).Message);
    }

    [Fact]
    public async Task Artifacts_are_stored_replaced_listed_and_copied()
    {
        var store = await OpenAsync();
        await store.CreateStudyAsync(Study("alpha"), Ct);
        await store.CreateStudyAsync(Study("beta"), Ct);
        var weights = RandomBytes(6 * 1024 * 1024 + 17, seed: 1);
        await store.SaveArtifactAsync("alpha", 3, "weights.pt", weights, Ct);
        await store.SaveArtifactAsync("alpha", 3, "curve.json", "[1,2,3]"u8.ToArray(), Ct);
        await store.SaveArtifactAsync("alpha", 1, "weights.pt", [], Ct);
        await store.SaveArtifactAsync("beta", 3, "weights.pt", [42], Ct);

        var got = await store.GetArtifactAsync("alpha", 3, "weights.pt", Ct);
        Assert.NotNull(got);
        Assert.True(weights.AsSpan().SequenceEqual(got), "a 6 MiB artifact came back different");
        Assert.Equal(Array.Empty<byte>(), await store.GetArtifactAsync("alpha", 1, "weights.pt", Ct));
        Assert.Null(await store.GetArtifactAsync("alpha", 2, "weights.pt", Ct));
        Assert.Null(await store.GetArtifactAsync("alpha", 3, "WEIGHTS.pt", Ct));

        Assert.Equal(
            [new ArtifactInfo(1, "weights.pt", 0), new ArtifactInfo(3, "curve.json", 7), new ArtifactInfo(3, "weights.pt", weights.Length)],
            await store.ListArtifactsAsync("alpha", Ct));

        // Replacing keeps one artifact of that name with the new content.
        var smaller = RandomBytes(1000, seed: 2);
        await store.SaveArtifactAsync("alpha", 3, "weights.pt", smaller, Ct);
        Assert.Equal(smaller, await store.GetArtifactAsync("alpha", 3, "weights.pt", Ct));
        Assert.Equal(3, (await store.ListArtifactsAsync("alpha", Ct)).Count);
        Assert.Equal([42], await store.GetArtifactAsync("beta", 3, "weights.pt", Ct));

        // Neither the caller's array nor a returned one is shared with the store.
        smaller[0] ^= 0xFF;
        var returned = (await store.GetArtifactAsync("alpha", 3, "weights.pt", Ct))!;
        Assert.NotEqual(smaller[0], returned[0]);
        returned[1] ^= 0xFF;
        Assert.NotEqual(returned[1], (await store.GetArtifactAsync("alpha", 3, "weights.pt", Ct))![1]);
    }

    [Fact]
    public async Task Studies_do_not_see_each_others_trials()
    {
        var store = await OpenAsync();
        await store.CreateStudyAsync(Study("alpha"), Ct);
        await store.CreateStudyAsync(Study("beta"), Ct);
        await store.SaveTrialAsync("alpha", Complete(0), Ct);
        await store.SaveTrialAsync("alpha", Complete(1), Ct);
        await store.SaveTrialAsync("beta", Running(0), Ct);
        Assert.Equal(2, (await store.GetTrialsAsync("alpha", Ct)).Count);
        Equal(Running(0), Assert.Single(await store.GetTrialsAsync("beta", Ct)));
    }

    [Fact]
    public async Task Every_operation_on_an_unknown_study_is_refused_naming_it_and_changes_nothing()
    {
        var store = await OpenAsync();
        await store.CreateStudyAsync(Study("alpha"), Ct);
        await store.SaveTrialAsync("alpha", Complete(0), Ct);
        Func<Task>[] calls =
        [
            () => store.SetStudyStatusAsync("ghost", StudyStatus.Finished, Ct),
            () => store.SaveTrialAsync("ghost", Complete(0), Ct),
            () => store.GetTrialsAsync("ghost", Ct),
            () => store.AppendEventAsync("ghost", new StudyEvent(T0, "k", "m"), Ct),
            () => store.GetEventsAsync("ghost", Ct),
            () => store.SaveArtifactAsync("ghost", 0, "a", [1], Ct),
            () => store.GetArtifactAsync("ghost", 0, "a", Ct),
            () => store.ListArtifactsAsync("ghost", Ct),
        ];
        foreach (var call in calls)
        {
            var e = await Assert.ThrowsAsync<StudyStorageException>(call);
            Assert.Contains("'ghost'", e.Message);
            Assert.Contains(store.Description, e.Message);
        }
        Assert.Equal(["alpha"], (await store.ListStudiesAsync(Ct)).Select(s => s.Name));
        Equal(Complete(0), Assert.Single(await store.GetTrialsAsync("alpha", Ct)));
        Assert.Empty(await store.GetEventsAsync("alpha", Ct));
        Assert.Empty(await store.ListArtifactsAsync("alpha", Ct));
    }

    [Fact]
    public async Task Many_threads_writing_at_once_lose_nothing()
    {
        var store = await OpenAsync();
        await store.CreateStudyAsync(Study("alpha"), Ct);
        await store.CreateStudyAsync(Study("beta"), Ct);
        const int Workers = 8, PerWorker = 12;
        var errors = new ConcurrentQueue<Exception>();
        var threads = Enumerable.Range(0, Workers).Select(w => new Thread(() =>
        {
            try
            {
                for (int i = 0; i < PerWorker; i++)
                {
                    int n = w * PerWorker + i;
                    string study = n % 3 == 0 ? "beta" : "alpha";
                    store.SaveTrialAsync(study, Running(n), Ct).GetAwaiter().GetResult();
                    store.AppendEventAsync(study, new StudyEvent(T0, "trial", $"trial {n}"), Ct).GetAwaiter().GetResult();
                    store.SaveTrialAsync(study, Complete(n), Ct).GetAwaiter().GetResult();
                    if (i % 4 == 0) store.SaveArtifactAsync(study, n, "weights", RandomBytes(2048, n), Ct).GetAwaiter().GetResult();
                    store.GetTrialsAsync(study, Ct).GetAwaiter().GetResult();
                }
            }
            catch (Exception e) { errors.Enqueue(e); }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Empty(errors);

        var all = Enumerable.Range(0, Workers * PerWorker).ToArray();
        var alpha = await store.GetTrialsAsync("alpha", Ct);
        var beta = await store.GetTrialsAsync("beta", Ct);
        Assert.Equal(all.Where(n => n % 3 != 0), alpha.Select(t => t.Number));
        Assert.Equal(all.Where(n => n % 3 == 0), beta.Select(t => t.Number));
        foreach (var t in alpha.Concat(beta)) Equal(Complete(t.Number), t);
        var events = (await store.GetEventsAsync("alpha", Ct)).Concat(await store.GetEventsAsync("beta", Ct)).Select(e => e.Message).Order().ToArray();
        Assert.Equal(all.Select(n => $"trial {n}").Order(), events);
        foreach (int n in all.Where(n => n % PerWorker % 4 == 0))
            Assert.Equal(RandomBytes(2048, n), await store.GetArtifactAsync(n % 3 == 0 ? "beta" : "alpha", n, "weights", Ct));
    }

    [Fact]
    public async Task Concurrent_creation_of_one_name_lets_exactly_one_win()
    {
        var store = await OpenAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
        {
            try { await store.CreateStudyAsync(Study("contested") with { ProgramVersion = $"v{i}" }, Ct); return true; }
            catch (StudyStorageException) { return false; }
        })));
        Assert.Equal(1, results.Count(ok => ok));
        var stored = Assert.Single(await store.ListStudiesAsync(Ct));
        Assert.Equal($"v{Array.IndexOf(results, true)}", stored.ProgramVersion);
    }

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}

/// <summary>The contract of durable stores: a new instance over the same data sees everything the last one wrote.</summary>
public abstract class DurableStudyStorageContractTests : StudyStorageContractTests
{
    [Fact]
    public async Task A_reopened_store_sees_everything_written_before_dispose()
    {
        var weights = RandomBytes(3 * 1024 * 1024, seed: 9);
        await using (var first = await OpenStoreAsync())
        {
            await first.CreateStudyAsync(Study("alpha"), Ct);
            await first.CreateStudyAsync(Study("beta", 1), Ct);
            for (int n = 0; n < 5; n++) await first.SaveTrialAsync("alpha", Complete(n), Ct);
            await first.SaveTrialAsync("alpha", Running(5), Ct);
            await first.AppendEventAsync("alpha", new StudyEvent(T0, "started", "go", "{}"), Ct);
            await first.SaveArtifactAsync("alpha", 2, "weights.pt", weights, Ct);
            await first.SetStudyStatusAsync("beta", StudyStatus.Finished, Ct);
        }

        var second = await OpenAsync();
        Assert.Equal(["alpha", "beta"], (await second.ListStudiesAsync(Ct)).Select(s => s.Name));
        Equal(Study("alpha"), await second.GetStudyAsync("alpha", Ct));
        Equal(Study("beta", 1) with { Status = StudyStatus.Finished }, await second.GetStudyAsync("beta", Ct));
        var trials = await second.GetTrialsAsync("alpha", Ct);
        Assert.Equal(6, trials.Count);
        for (int n = 0; n < 5; n++) Equal(Complete(n), trials[n]);
        Equal(Running(5), trials[5]);
        Equal(new StudyEvent(T0, "started", "go", "{}"), Assert.Single(await second.GetEventsAsync("alpha", Ct)));
        Assert.Equal(weights, await second.GetArtifactAsync("alpha", 2, "weights.pt", Ct));

        // The reopened store keeps working: the Running trial is finished and a study added.
        await second.SaveTrialAsync("alpha", Complete(5), Ct);
        await second.CreateStudyAsync(Study("gamma", 2), Ct);
        var third = await OpenAsync();
        Equal(Complete(5), (await third.GetTrialsAsync("alpha", Ct))[5]);
        Assert.Equal(3, (await third.ListStudiesAsync(Ct)).Count);
    }

    [Fact]
    public async Task Two_instances_over_the_same_store_write_at_once()
    {
        var a = await OpenAsync();
        var b = await OpenAsync();
        await a.CreateStudyAsync(Study("shared"), Ct);
        await Task.WhenAll(
            Task.Run(async () => { for (int n = 0; n < 20; n += 2) { await a.SaveTrialAsync("shared", Running(n), Ct); await a.SaveTrialAsync("shared", Complete(n), Ct); } }, Ct),
            Task.Run(async () => { for (int n = 1; n < 20; n += 2) { await b.SaveTrialAsync("shared", Running(n), Ct); await b.SaveTrialAsync("shared", Complete(n), Ct); } }, Ct));
        var seenByA = await a.GetTrialsAsync("shared", Ct);
        Assert.Equal(Enumerable.Range(0, 20), seenByA.Select(t => t.Number));
        Assert.All(seenByA, t => Assert.Equal(TrialState.Complete, t.State));
        Assert.Equal(20, (await b.GetTrialsAsync("shared", Ct)).Count);
    }

    [Fact]
    public async Task A_disposed_store_refuses_further_use()
    {
        var store = await OpenStoreAsync();
        await store.CreateStudyAsync(Study("alpha"), Ct);
        await store.DisposeAsync();
        await store.DisposeAsync(); // a second dispose is harmless
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.GetTrialsAsync("alpha", Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.SaveTrialAsync("alpha", Running(0), Ct));
    }
}
