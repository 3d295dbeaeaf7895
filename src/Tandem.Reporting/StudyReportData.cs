using Tandem.Core.Objectives;
using Tandem.Core.Studies;

namespace Tandem.Reporting;

/// <summary>
/// Everything a report of one study shows: the stored study, its trials (ordered by number) and
/// events, the objectives and the specs (constraints) it was run with. The objectives and specs come
/// from the caller (who parsed the study's configuration); reports never re-read the config.
/// <see cref="Front"/> lists the trial numbers of the Pareto front; when null it is
/// <see cref="StudyFront.Compute"/>'s answer (complete, feasible trials with finite objective values).
/// </summary>
public sealed record StudyReportData
{
    public required StudyRecord Study { get; init; }
    public required IReadOnlyList<TrialRecord> Trials { get; init; }
    public IReadOnlyList<StudyEvent> Events { get; init; } = [];
    public required IReadOnlyList<Objective> Objectives { get; init; }
    public IReadOnlyList<Constraint> Constraints { get; init; } = [];
    public IReadOnlyList<int>? Front { get; init; }

    /// <summary>The front's trial numbers, ascending: <see cref="Front"/> if given, else computed.</summary>
    public IReadOnlyList<int> FrontNumbers() => Front is { } f ? f.Order().ToArray() : StudyFront.Compute(Trials, Objectives, Constraints);

    /// <summary>Reads a study, its trials and events from a store.</summary>
    public static async Task<StudyReportData> LoadAsync(IStudyStorage storage, string study, IReadOnlyList<Objective> objectives,
        IReadOnlyList<Constraint>? constraints = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var record = await storage.GetStudyAsync(study, cancellationToken).ConfigureAwait(false)
            ?? throw new StudyStorageException($"no study named '{study}' in the {storage.Description}");
        return new StudyReportData
        {
            Study = record,
            Trials = await storage.GetTrialsAsync(study, cancellationToken).ConfigureAwait(false),
            Events = await storage.GetEventsAsync(study, cancellationToken).ConfigureAwait(false),
            Objectives = objectives,
            Constraints = constraints ?? [],
        };
    }
}

/// <summary>How a report treats a trial.</summary>
public enum TrialClass
{
    /// <summary>Complete, feasible and on the Pareto front.</summary>
    Front,
    /// <summary>Complete and feasible, dominated by a front design.</summary>
    Feasible,
    /// <summary>Complete, but a spec on a metric known only after evaluation (e.g. accuracy) is broken.</summary>
    Infeasible,
    /// <summary>Rejected by a cheap check (a hardware spec) before the expensive step.</summary>
    Pruned,
    Failed,
    Running,
}

/// <summary>
/// The Pareto front as reports use it: <see cref="Core.Studies.StudyFront"/>'s definition, as trial
/// numbers, and a classification of every trial for plots and tables.
/// </summary>
public static class StudyFront
{
    /// <summary>Trial numbers of the front, ascending.</summary>
    public static int[] Compute(IReadOnlyList<TrialRecord> trials, IReadOnlyList<Objective> objectives, IReadOnlyList<Constraint>? constraints = null)
    {
        ArgumentNullException.ThrowIfNull(trials);
        ArgumentNullException.ThrowIfNull(objectives);
        return Core.Studies.StudyFront.Of(trials, objectives, constraints ?? []).Select(t => t.Number).Order().ToArray();
    }

    /// <summary>Classifies every trial for plots and tables.</summary>
    public static TrialClass Classify(TrialRecord trial, IReadOnlyCollection<int> front, IReadOnlyList<Constraint> constraints) => trial.State switch
    {
        TrialState.Running => TrialClass.Running,
        TrialState.Failed => TrialClass.Failed,
        TrialState.Pruned => TrialClass.Pruned,
        _ when front.Contains(trial.Number) => TrialClass.Front,
        _ when Breaks(trial, constraints).Count > 0 => TrialClass.Infeasible,
        _ => TrialClass.Feasible,
    };

    /// <summary>The specs the trial's stored metrics break (NaN breaks every spec).</summary>
    public static IReadOnlyList<Constraint> Breaks(TrialRecord trial, IReadOnlyList<Constraint> constraints) =>
        Core.Studies.StudyFront.Breaks(trial, constraints);

}
