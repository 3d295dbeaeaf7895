using Tandem.Core.Accuracy;
using Tandem.Core.Search;
using Tandem.Core.Spaces;

namespace Tandem.Core.Studies;

/// <summary>Limits of one run of a study. Unset limits do not apply; at least one should be set.</summary>
public sealed record StudyBudget
{
    /// <summary>Maximum number of distinct designs evaluated over the study's life (resumed runs included).</summary>
    public int? MaxTrials { get; init; }

    /// <summary>Wall-clock limit of this run; trials already running finish, no new batch starts.</summary>
    public TimeSpan? TimeLimit { get; init; }
}

/// <summary>Options of <see cref="StudyRunner"/>.</summary>
public sealed record StudyRunnerOptions
{
    public required StudyBudget Budget { get; init; }

    /// <summary>Designs evaluated at once (each batch asks the strategy for this many).</summary>
    public int Workers { get; init; } = 1;

    /// <summary>Stop after this many consecutive proposals that were all already evaluated.</summary>
    public int MaxDuplicateStreak { get; init; } = 1000;

    /// <summary>Maps a proposed design to its canonical form before de-duplication (family canonicalisation).</summary>
    public Func<Design, Design>? Canonicalize { get; init; }
}

/// <summary>Why a run stopped.</summary>
public enum StopReason { TrialBudget, TimeLimit, StrategyExhausted, DuplicateStreak }

/// <summary>Progress of a running study, reported after every finished trial.</summary>
public sealed record StudyProgress(
    int Finished, int Complete, int Pruned, int Failed, int Duplicates, int? MaxTrials, TimeSpan Elapsed, TimeSpan? TimeLimit,
    TrialRecord? LastTrial);

/// <summary>Result of a run: every finished trial of the study (old and new) and why the run stopped.</summary>
public sealed record StudyRunResult(IReadOnlyList<TrialRecord> Trials, StopReason StopReason, int EvaluatedThisRun, int ReplayedTrials, int Duplicates);

/// <summary>
/// Runs a study: asks the strategy for a batch of designs, evaluates new ones in parallel (one per
/// worker), stores each trial as Running then final, and tells the strategy every result in ask order.
/// Guarantees:
/// <list type="bullet">
/// <item>Deterministic: batches are synchronous and tells follow ask order, so the same seed, inputs
///   and worker count give the same sequence of designs whatever the timing.</item>
/// <item>Never pays twice for a design: a proposal equal (after canonicalisation) to an evaluated one
///   is answered from the cache and gets no trial number.</item>
/// <item>Resumable after kill -9: on start, stored finished trials are replayed to the strategy in the
///   same ask/tell order instead of being evaluated; trials left Running are evaluated again under
///   their number. If a strategy proposes something else than was stored (it is not deterministic),
///   the stored trial is told instead, and an event notes the divergence.</item>
/// <item>An <see cref="InputException"/> from the evaluator aborts the run; any other exception fails that trial only.</item>
/// </list>
/// </summary>
public sealed class StudyRunner(IStudyStorage storage, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<StudyRunResult> RunAsync(string study, StrategyContext context, IStrategy strategy, ITrialEvaluator evaluator,
        StudyRunnerOptions options, IProgress<StudyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (options.Workers < 1) throw new ArgumentOutOfRangeException(nameof(options), "workers must be ≥ 1");
        var space = context.Space;
        var canonical = options.Canonicalize ?? (d => d);
        var stored = (await storage.GetTrialsAsync(study, cancellationToken).ConfigureAwait(false)).ToDictionary(t => t.Number);
        var finished = new List<TrialRecord>();
        var cache = new Dictionary<string, TrialOutcome>(StringComparer.Ordinal);
        var view = new StoredStudyView(storage, study);
        long startTicks = _time.GetTimestamp();
        int next = 0, evaluated = 0, replayed = 0, duplicates = 0, duplicateStreak = 0;
        int complete = 0, pruned = 0, failed = 0;
        StopReason reason;

        void Count(TrialRecord r)
        {
            finished.Add(r);
            switch (r.State)
            {
                case TrialState.Complete: complete++; break;
                case TrialState.Pruned: pruned++; break;
                case TrialState.Failed: failed++; break;
            }
        }

        StudyProgress Progress(TrialRecord? last) => new(finished.Count, complete, pruned, failed, duplicates,
            options.Budget.MaxTrials, _time.GetElapsedTime(startTicks), options.Budget.TimeLimit, last);

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int remaining = options.Budget.MaxTrials is int max ? max - next : int.MaxValue;
            if (remaining <= 0) { reason = StopReason.TrialBudget; break; }
            bool replaying = stored.TryGetValue(next, out var upcoming) && upcoming.IsFinished;
            if (!replaying && options.Budget.TimeLimit is { } limit && _time.GetElapsedTime(startTicks) >= limit) { reason = StopReason.TimeLimit; break; }
            if (duplicateStreak >= options.MaxDuplicateStreak) { reason = StopReason.DuplicateStreak; break; }

            var asked = strategy.Ask(Math.Min(options.Workers, remaining));
            if (asked.Count == 0) { reason = StopReason.StrategyExhausted; break; }

            // Resolve each proposal: replayed from storage, answered from the cache, or to be evaluated.
            var slots = new Slot[asked.Count];
            var batchKeys = new Dictionary<string, int>(StringComparer.Ordinal);
            bool anyNew = false;
            for (int i = 0; i < asked.Count; i++)
            {
                var design = canonical(asked[i]);
                // Duplicates first, exactly as in a live run: they never got a trial number, so a replay
                // must answer them from the cache too, or it would take them for the next stored trial.
                if (cache.TryGetValue(design.Key, out var known))
                {
                    slots[i] = new Slot(design, null, known, null);
                    duplicates++;
                }
                else if (batchKeys.TryGetValue(design.Key, out int first))
                {
                    slots[i] = new Slot(design, null, null, null) { SameAs = first };
                    duplicates++;
                }
                else if (stored.TryGetValue(next, out var rec) && rec.IsFinished)
                {
                    if (rec.DesignKey != design.Key)
                    {
                        context.ReportEvent("replay-diverged",
                            $"trial {next}: the strategy proposed {design.Key} on resume but {rec.DesignKey} was stored; the stored trial is used");
                        design = space.Parse(rec.Params);
                    }
                    batchKeys.TryAdd(design.Key, i);
                    slots[i] = new Slot(design, next++, rec.ToOutcome(), rec);
                    replayed++;
                    anyNew = true;
                }
                else
                {
                    batchKeys[design.Key] = i;
                    slots[i] = new Slot(design, next++, null, null);
                    anyNew = true;
                }
            }
            duplicateStreak = anyNew ? 0 : duplicateStreak + asked.Count;

            var toRun = slots.Select((s, i) => (s, i)).Where(x => x.s.Number is not null && x.s.Outcome is null).ToArray();
            await Parallel.ForEachAsync(toRun, new ParallelOptions { MaxDegreeOfParallelism = options.Workers, CancellationToken = cancellationToken },
                async (item, token) =>
                {
                    var slot = item.s;
                    int number = slot.Number!.Value;
                    var running = new TrialRecord
                    {
                        Number = number,
                        DesignKey = slot.Design.Key,
                        Params = slot.Design.ToTextMap(),
                        State = TrialState.Running,
                        StartedAt = _time.GetUtcNow(),
                    };
                    await storage.SaveTrialAsync(study, running, token).ConfigureAwait(false);
                    TrialOutcome outcome;
                    try
                    {
                        outcome = await evaluator.EvaluateAsync(new TrialContext
                        {
                            Number = number,
                            Design = slot.Design,
                            Seed = TrialSeed(context.Seed, number),
                            Study = view,
                        }, token).ConfigureAwait(false);
                    }
                    catch (InputException) { throw; }
                    catch (OperationCanceledException) when (token.IsCancellationRequested) { throw; }
                    catch (Exception e) { outcome = TrialOutcome.Failed($"{e.GetType().Name}: {e.Message}"); }
                    var final = running with
                    {
                        State = outcome.State,
                        Metrics = outcome.Metrics,
                        Attributes = outcome.Attributes,
                        Reason = outcome.Reason,
                        FinishedAt = _time.GetUtcNow(),
                    };
                    // The trial is durable before anyone learns of it.
                    await storage.SaveTrialAsync(study, final, CancellationToken.None).ConfigureAwait(false);
                    slots[item.i] = slot with { Outcome = outcome, Record = final, Evaluated = true };
                }).ConfigureAwait(false);

            for (int i = 0; i < slots.Length; i++)
            {
                var slot = slots[i];
                var outcome = slot.Outcome ?? slots[slot.SameAs].Outcome!;
                if (slot.Record is { } record)
                {
                    cache[slot.Design.Key] = outcome;
                    Count(record);
                    if (slot.Evaluated) evaluated++;
                    progress?.Report(Progress(record));
                }
                strategy.Tell(slot.Design, outcome);
            }
            foreach (var e in context.DrainEvents())
                await storage.AppendEventAsync(study, e, cancellationToken).ConfigureAwait(false);
        }
        foreach (var e in context.DrainEvents())
            await storage.AppendEventAsync(study, e, CancellationToken.None).ConfigureAwait(false);
        return new StudyRunResult(finished, reason, evaluated, replayed, duplicates);
    }

    /// <summary>Derives a trial's seed from the study seed and trial number (stable across runs and platforms).</summary>
    public static int TrialSeed(int studySeed, int trialNumber)
    {
        unchecked
        {
            ulong x = (ulong)(uint)studySeed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)trialNumber * 0xBF58476D1CE4E5B9UL;
            x ^= x >> 31;
            x *= 0x94D049BB133111EBUL;
            x ^= x >> 29;
            return (int)(x & 0x7FFFFFFF);
        }
    }

    private sealed record Slot(Design Design, int? Number, TrialOutcome? Outcome, TrialRecord? Record)
    {
        public int SameAs { get; init; } = -1;
        public bool Evaluated { get; init; }
    }
}
