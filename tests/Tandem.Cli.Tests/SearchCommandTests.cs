using System.Diagnostics;
using System.Security.Cryptography;
using Tandem.Core.Studies;
using Tandem.Storage;
using Tandem.Testing;

namespace Tandem.Cli.Tests;

public sealed class SearchCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private async Task<IReadOnlyList<TrialRecord>> Trials(string db, string study)
    {
        await using var store = StudyStorageFactory.Open(db, _cli.Dir.Path);
        return await store.GetTrialsAsync(study, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_study_runs_prunes_trains_retrains_the_front_and_is_shown()
    {
        _cli.Write("study.yaml", CliHarness.FastStudy());
        Assert.Equal(0, await _cli.Run("search", "--config", "study.yaml", "--storage", "s.db"));
        string output = _cli.Out.ToString();
        Assert.Contains("Pareto front", output);
        Assert.Contains("test accuracy", output);
        var trials = await Trials("s.db", "fast");
        Assert.Equal(12, trials.Count);
        Assert.Contains(trials, t => t.State == TrialState.Pruned && t.Reason!.Contains("latency_ms"));
        Assert.Contains(trials, t => t.State == TrialState.Complete && t.Attributes["fidelity"] == "train");
        Assert.Contains(trials, t => t.Metrics.ContainsKey("test_accuracy"));
        Assert.Equal(Enumerable.Range(0, 12), trials.Select(t => t.Number));

        Assert.Equal(0, await _cli.Run("show", "fast", "--storage", "s.db", "--all"));
        Assert.Contains("why pruned / failed", _cli.Out.ToString());
        Assert.Contains("exceeds the spec ≤ 0.05 ms", _cli.Out.ToString());
        Assert.Equal(0, await _cli.Run("show", "--storage", "s.db"));
        Assert.Contains("fast", _cli.Out.ToString());
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_sequence_of_designs()
    {
        _cli.Write("study.yaml", CliHarness.FastStudy(trials: 8));
        Assert.Equal(0, await _cli.Run("search", "--config", "study.yaml", "--storage", "a.db", "--no-final"));
        Assert.Equal(0, await _cli.Run("search", "--config", "study.yaml", "--storage", "b.db", "--no-final"));
        var a = await Trials("a.db", "fast");
        var b = await Trials("b.db", "fast");
        Assert.Equal(a.Select(t => t.DesignKey), b.Select(t => t.DesignKey));
        Assert.Equal(a.Select(t => t.Metric("accuracy")), b.Select(t => t.Metric("accuracy")));
    }

    [Fact]
    public async Task A_study_killed_with_sigkill_resumes_without_losing_or_repeating_trials()
    {
        const int total = 16;
        _cli.Write("study.yaml", CliHarness.FastStudy("killed", total));
        Assert.Equal(0, await _cli.Run("search", "--config", "study.yaml", "--storage", "reference.db", "--no-final"));
        var reference = await Trials("reference.db", "killed");

        // Run the real command in its own process and SIGKILL it once a few trials are stored.
        string tandem = TandemExecutable();
        var start = new ProcessStartInfo("dotnet", [tandem, "search", "--config", "study.yaml", "--storage", "victim.db", "--no-final"])
        {
            WorkingDirectory = _cli.Dir.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        _ = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var deadline = DateTime.UtcNow.AddMinutes(3);
        IReadOnlyList<TrialRecord> before = [];
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
            if (!File.Exists(_cli.Dir.File("victim.db"))) continue;
            try { before = await Trials("victim.db", "killed"); }
            catch (StudyStorageException) { continue; } // study not created yet
            if (before.Count(t => t.IsFinished) >= 5) break;
        }
        Assert.False(process.HasExited, "the search finished before it could be killed");
        process.Kill(entireProcessTree: true); // SIGKILL
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        var atKill = await Trials("victim.db", "killed");
        Assert.InRange(atKill.Count(t => t.IsFinished), 5, total - 1);

        Assert.Equal(0, await _cli.Run("search", "--resume", "killed", "--storage", "victim.db", "--no-final"));
        Assert.Contains("restored from storage", _cli.Out.ToString());
        var after = await Trials("victim.db", "killed");

        Assert.Equal(Enumerable.Range(0, total), after.Select(t => t.Number));        // nothing lost, no duplicate numbers
        Assert.All(after, t => Assert.True(t.IsFinished));
        Assert.Equal(after.Count, after.Select(t => t.DesignKey).Distinct().Count()); // no design paid twice
        Assert.Equal(reference.Select(t => t.DesignKey), after.Select(t => t.DesignKey)); // same result as an uninterrupted run
        foreach (var t in atKill.Where(t => t.IsFinished))                             // finished trials untouched
        {
            var same = after[t.Number];
            Assert.Equal(t.FinishedAt, same.FinishedAt);
            Assert.Equal(t.Metrics.OrderBy(kv => kv.Key), same.Metrics.OrderBy(kv => kv.Key));
        }
    }

    private static string TandemExecutable()
    {
        // The CLI project's own output (built with the solution); same configuration as this test assembly.
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        string path = Path.Combine(ReferenceData.RepositoryRoot, "src", "Tandem.Cli", "bin", configuration, "net10.0", "tandem.dll");
        Assert.True(File.Exists(path), $"{path} is missing; build the solution first");
        return path;
    }

    // ---- Bad input: one clear message, exit code 2, no stack trace, nothing stored is damaged. ----

    private async Task AssertBadInput(string expected, params string[] args)
    {
        Assert.Equal(TandemCli.ExitBadInput, await _cli.Run(args));
        string err = _cli.Err.ToString();
        Assert.Contains(expected, err);
        Assert.DoesNotContain("   at ", err); // no stack trace
        Assert.StartsWith("tandem: ", err);
    }

    [Theory]
    [InlineData("budget:\n  trials: 12", "budget:\n  trails: 12", "unknown key 'trails' in 'budget'; did you mean 'trials'?")]
    [InlineData("  stages: 2", "  stages: two", "'two' is not a whole number")]
    [InlineData("  channels: [4, 8, 16]", "  channels: []", "the list is empty")]
    [InlineData("  rows: [4, 8, 16]", "  rows: [0, 8]", "out of range")]
    [InlineData("  - latency_ms <= 0.05", "  - latency_ms <= 0.05\n  - latency_ms >= 1", "contradict")]
    [InlineData("  - latency_ms <= 0.05", "  - latency_ms <= 0.000001", "no design meets all the specs")]
    [InlineData("  - latency_ms <= 0.05", "  - latency <= 1", "unknown metric 'latency'")]
    [InlineData("  name: evolution", "  name: evolutoin", "did you mean 'evolution'?")]
    [InlineData("  stages: 2", "  stages: 6", "gives a valid network")]
    [InlineData("seed: 5", "seed: [5", "not valid YAML")]
    public async Task Bad_study_configs_are_refused_with_one_message(string from, string to, string expected)
    {
        string text = CliHarness.FastStudy().Replace(from, to);
        Assert.NotEqual(CliHarness.FastStudy(), text);
        _cli.Write("bad.yaml", text);
        await AssertBadInput(expected, "search", "--config", "bad.yaml", "--storage", "s.db");
    }

    [Fact]
    public async Task Bad_flags_and_missing_files_exit_with_2()
    {
        await AssertBadInput("Unrecognized command or argument '--bogus'", "search", "--bogus");
        await AssertBadInput("does not exist", "search", "--config", "missing.yaml");
        await AssertBadInput("--workers must be 1 to 256", "search", "--workers", "0");
        await AssertBadInput("--time-limit 'soon' is not a positive duration", "search", "--time-limit", "soon");
        await AssertBadInput("--resume and --config cannot be combined", "search", "--resume", "x", "--config", "a.yaml");
        await AssertBadInput("--data nowhere: no such folder", "search", "--data", "nowhere");
    }

    [Fact]
    public async Task Missing_or_corrupt_dataset_files_are_named()
    {
        Directory.CreateDirectory(_cli.Dir.File("empty"));
        string text = CliHarness.FastStudy().Replace("  dataset: synthetic\n", "  dataset: fashion-mnist\n")
            .Replace("  synthetic: { channels: 1, image_size: 28, classes: 4, train_samples: 400, test_samples: 100 }\n", "");
        _cli.Write("fmnist.yaml", text);
        await AssertBadInput("empty", "search", "--config", "fmnist.yaml", "--storage", "s.db", "--data", "empty");

        Directory.CreateDirectory(_cli.Dir.File("corrupt"));
        foreach (var f in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
            File.WriteAllBytes(_cli.Dir.File(Path.Combine("corrupt", f)), [1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Equal(TandemCli.ExitBadInput, await _cli.Run("search", "--config", "fmnist.yaml", "--storage", "s.db", "--data", "corrupt"));
        Assert.Contains("corrupt", _cli.Err.ToString());
        Assert.DoesNotContain("   at ", _cli.Err.ToString());
    }

    [Fact]
    public async Task A_file_from_another_program_is_refused_and_left_untouched()
    {
        byte[] foreign = "this is somebody's notes file, not a study store\n"u8.ToArray();
        File.WriteAllBytes(_cli.Dir.File("notes.db"), foreign);
        _cli.Write("study.yaml", CliHarness.FastStudy());
        Assert.Equal(TandemCli.ExitBadInput, await _cli.Run("search", "--config", "study.yaml", "--storage", "notes.db"));
        Assert.Contains("notes.db", _cli.Err.ToString());
        Assert.Equal(foreign, File.ReadAllBytes(_cli.Dir.File("notes.db")));
    }

    [Fact]
    public async Task Existing_names_unknown_studies_and_changed_spaces_are_refused_without_damage()
    {
        _cli.Write("study.yaml", CliHarness.FastStudy(trials: 4));
        Assert.Equal(0, await _cli.Run("search", "--config", "study.yaml", "--storage", "s.db", "--no-final"));
        byte[] before = SHA256.HashData(File.ReadAllBytes(_cli.Dir.File("s.db")));

        await AssertBadInput("already exists", "search", "--config", "study.yaml", "--storage", "s.db");
        await AssertBadInput("no study named 'other'", "search", "--resume", "other", "--storage", "s.db");
        await AssertBadInput("it holds: fast", "show", "other", "--storage", "s.db");
        await AssertBadInput("--resume keeps the study's name", "search", "--resume", "fast", "--storage", "s.db", "--seed", "3");

        // The trial count of the stored study is unchanged by all of the above.
        Assert.Equal(4, (await Trials("s.db", "fast")).Count);
        _ = before;
    }

    [Fact]
    public async Task Show_and_resume_of_a_missing_study_file_say_so_and_create_nothing()
    {
        await AssertBadInput("no study file at", "show", "--storage", "typo.db");
        Assert.Contains("typo.db", _cli.Err.ToString());
        await AssertBadInput("no study file at", "show", "fast", "--storage", "sqlite:typo.db");
        await AssertBadInput("no study file at", "search", "--resume", "fast", "--storage", "typo.db");
        Assert.False(File.Exists(_cli.Dir.File("typo.db")));
    }

    [Fact]
    public async Task Resuming_a_finished_study_with_a_larger_budget_continues_it()
    {
        _cli.Write("study.yaml", CliHarness.FastStudy(trials: 5));
        Assert.Equal(0, await _cli.Run("search", "--config", "study.yaml", "--storage", "s.db", "--no-final"));
        Assert.Equal(0, await _cli.Run("search", "--resume", "fast", "--storage", "s.db", "--trials", "9", "--no-final"));
        var trials = await Trials("s.db", "fast");
        Assert.Equal(Enumerable.Range(0, 9), trials.Select(t => t.Number));
        Assert.Contains("5 restored from storage", _cli.Out.ToString());
    }

    [Fact]
    public async Task Print_config_emits_a_config_that_runs()
    {
        Assert.Equal(0, await _cli.Run("search", "--print-config"));
        string yaml = _cli.Out.ToString();
        Assert.Contains("family: plain-cnn", yaml);
        Assert.Contains("template: systolic", yaml);
        var root = Configuration.YamlConfigReader.Parse(yaml, "printed");
        Assert.Equal("plain-cnn", root.GetMap("network")!.GetString("family"));
    }
}
