using Tandem.Core.Objectives;
using Tandem.Core.Search;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;

namespace Tandem.Core.Tests.Studies;

public class StudyRunnerTests
{
    private static readonly DesignSpace Space = new([
        new OrdinalParameter("a", [1, 2, 3, 4, 5, 6, 7, 8]),
        new OrdinalParameter("b", [1, 2, 3, 4, 5, 6, 7, 8]),
        new CategoricalParameter("c", ["x", "y", "z"]),
    ]);

    private static StrategyContext Context(int seed = 7) =>
        new(Space, [new Objective("score", Direction.Maximize)], [], seed);

    private static async Task<(InMemoryStudyStorage Storage, StudyRunResult Result)> Run(
        int trials, int workers, IStrategy? strategy = null, ITrialEvaluator? evaluator = null, InMemoryStudyStorage? storage = null,
        CancellationToken ct = default)
    {
        storage ??= new InMemoryStudyStorage();
        if (await storage.GetStudyAsync("s") is null)
            await storage.CreateStudyAsync(new StudyRecord { Name = "s", SpaceSignature = Space.Signature, ConfigJson = "{}", ProgramVersion = "test", CreatedAt = DateTimeOffset.UnixEpoch });
        var runner = new StudyRunner(storage);
        var result = await runner.RunAsync("s", Context(), strategy ?? new SeededRandomStrategy(Space, 7), evaluator ?? new FunctionEvaluator(),
            new StudyRunnerOptions { Budget = new StudyBudget { MaxTrials = trials }, Workers = workers }, cancellationToken: ct);
        return (storage, result);
    }

    private static async Task<string[]> Keys(InMemoryStudyStorage s) => (await s.GetTrialsAsync("s")).Select(t => t.DesignKey).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Same_seed_and_workers_give_the_same_sequence_of_designs(int workers)
    {
        var (s1, _) = await Run(30, workers);
        var (s2, _) = await Run(30, workers);
        Assert.Equal(await Keys(s1), await Keys(s2));
        Assert.Equal(30, (await s1.GetTrialsAsync("s")).Count);
        Assert.Equal(Enumerable.Range(0, 30), (await s1.GetTrialsAsync("s")).Select(t => t.Number));
    }

    [Fact]
    public async Task Duplicates_are_never_evaluated_twice_and_get_no_trial_number()
    {
        var d = Space.Sample(new Random(1));
        var e = Space.Sample(new Random(2));
        var evaluator = new FunctionEvaluator();
        var strategy = new ListStrategy([d, d, e, d, e, d]);
        var (storage, result) = await Run(10, 2, strategy, evaluator);
        Assert.Equal(1, evaluator.Calls[d.Key]);
        Assert.Equal(1, evaluator.Calls[e.Key]);
        Assert.Equal(4, result.Duplicates);
        Assert.Equal(2, (await storage.GetTrialsAsync("s")).Count);
        Assert.Equal(StopReason.StrategyExhausted, result.StopReason);
    }

    [Fact]
    public async Task Duplicate_streak_stops_a_stuck_strategy()
    {
        var d = Space.Sample(new Random(1));
        var strategy = new ListStrategy(Enumerable.Repeat(d, 5000).ToArray());
        var (_, result) = await Run(10, 1, strategy);
        Assert.Equal(StopReason.DuplicateStreak, result.StopReason);
    }

    [Fact]
    public async Task A_killed_study_resumes_without_losing_or_repeating_trials()
    {
        var (reference, _) = await Run(20, 2);

        // First run dies while trial 11 is running: that trial stays Running in storage.
        var storage = new InMemoryStudyStorage();
        using var cts = new CancellationTokenSource();
        var dying = new FunctionEvaluator
        {
            Before = async ctx =>
            {
                if (ctx.Number != 11) return;
                cts.Cancel();
                await Task.Delay(Timeout.Infinite, cts.Token); // dies mid-evaluation
            },
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Run(20, 2, evaluator: dying, storage: storage, ct: cts.Token));
        var partial = await storage.GetTrialsAsync("s");
        Assert.Contains(partial, t => t.State == TrialState.Running);
        int finishedBefore = partial.Count(t => t.IsFinished);

        var resumedEvaluator = new FunctionEvaluator();
        var (_, result) = await Run(20, 2, evaluator: resumedEvaluator, storage: storage);
        var trials = await storage.GetTrialsAsync("s");
        Assert.Equal(20, trials.Count);
        Assert.All(trials, t => Assert.True(t.IsFinished));
        Assert.Equal(await Keys(reference), trials.Select(t => t.DesignKey));
        Assert.Equal(finishedBefore, result.ReplayedTrials);
        Assert.Equal(20 - finishedBefore, result.EvaluatedThisRun);
        // No design finished before the kill was evaluated again.
        foreach (var t in partial.Where(t => t.IsFinished)) Assert.False(resumedEvaluator.Calls.ContainsKey(t.DesignKey));
    }

    [Fact]
    public async Task Resume_tells_the_strategy_exactly_what_the_live_run_told_it()
    {
        var live = new SeededRandomStrategy(Space, 7);
        var (storage, _) = await Run(12, 1, live);
        var replay = new SeededRandomStrategy(Space, 7);
        var (_, result) = await Run(12, 1, replay, storage: storage);
        Assert.Equal(12, result.ReplayedTrials);
        Assert.Equal(0, result.EvaluatedThisRun);
        Assert.Equal(live.Told, replay.Told); // duplicates included, in the same order
    }

    [Fact]
    public async Task Replay_answers_duplicates_from_the_cache_as_the_live_run_did()
    {
        var a = Space.Sample(new Random(1));
        var b = Space.Sample(new Random(2));
        var c = Space.Sample(new Random(3));
        Design[] proposals = [a, b, a, c, b, a];
        var (live, _) = await Run(10, 1, new ListStrategy(proposals));
        var trials = await live.GetTrialsAsync("s");
        Assert.Equal([a.Key, b.Key, c.Key], trials.Select(t => t.DesignKey));

        // A crash after trial 1: trial 2 (design c, asked after the duplicate a) was never stored.
        var crashed = new InMemoryStudyStorage();
        await crashed.CreateStudyAsync(new StudyRecord { Name = "s", SpaceSignature = Space.Signature, ConfigJson = "{}", ProgramVersion = "t", CreatedAt = DateTimeOffset.UnixEpoch });
        foreach (var t in trials.Take(2)) await crashed.SaveTrialAsync("s", t);
        var (resumed, result) = await Run(10, 1, new ListStrategy(proposals), storage: crashed);
        Assert.Equal(trials.Select(t => t.DesignKey), (await resumed.GetTrialsAsync("s")).Select(t => t.DesignKey));
        Assert.Empty(await resumed.GetEventsAsync("s")); // no divergence
        Assert.Equal(2, result.ReplayedTrials);
        Assert.Equal(3, result.Duplicates);
    }

    [Fact]
    public async Task Ordinary_exceptions_fail_one_trial_and_the_study_goes_on()
    {
        int n = 0;
        var evaluator = new FunctionEvaluator(d => Interlocked.Increment(ref n) == 3 ? throw new InvalidOperationException("boom") : TrialOutcome.Complete(new Dictionary<string, double> { ["score"] = 1 }));
        var (storage, _) = await Run(6, 1, evaluator: evaluator);
        var trials = await storage.GetTrialsAsync("s");
        Assert.Equal(6, trials.Count);
        var failed = Assert.Single(trials, t => t.State == TrialState.Failed);
        Assert.Contains("boom", failed.Reason);
    }

    [Fact]
    public async Task Input_errors_abort_the_study()
    {
        var evaluator = new FunctionEvaluator(_ => throw new InputException("dataset file is corrupt"));
        await Assert.ThrowsAsync<InputException>(() => Run(6, 1, evaluator: evaluator));
    }

    [Fact]
    public async Task Strategy_events_are_stored()
    {
        var storage = new InMemoryStudyStorage();
        await storage.CreateStudyAsync(new StudyRecord { Name = "s", SpaceSignature = Space.Signature, ConfigJson = "{}", ProgramVersion = "t", CreatedAt = DateTimeOffset.UnixEpoch });
        var context = Context();
        context.ReportEvent("shrink", "dropped a=1");
        await new StudyRunner(storage).RunAsync("s", context, new SeededRandomStrategy(Space, 1), new FunctionEvaluator(),
            new StudyRunnerOptions { Budget = new StudyBudget { MaxTrials = 2 } });
        Assert.Equal("shrink", Assert.Single(await storage.GetEventsAsync("s")).Kind);
    }

    [Fact]
    public void Trial_seeds_are_stable_and_distinct()
    {
        Assert.Equal(StudyRunner.TrialSeed(42, 3), StudyRunner.TrialSeed(42, 3));
        Assert.Equal(100, Enumerable.Range(0, 100).Select(i => StudyRunner.TrialSeed(42, i)).Distinct().Count());
        Assert.True(StudyRunner.TrialSeed(42, 0) >= 0);
    }
}
