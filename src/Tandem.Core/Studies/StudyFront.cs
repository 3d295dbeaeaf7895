using System.Collections.Immutable;
using Tandem.Core.Accuracy;
using Tandem.Core.Objectives;
using Tandem.Core.Search.Pareto;
using Tandem.Core.Spaces;

namespace Tandem.Core.Studies;

/// <summary>
/// The Pareto front of a study: complete trials whose objective values are all present and finite,
/// that break no spec (a spec whose metric a trial lacks is not held against it), and that no other
/// such trial dominates on the objectives. Ties (equal objective vectors) are all kept. Reports and
/// the CLI both use this one definition.
/// </summary>
public static class StudyFront
{
    public static IReadOnlyList<TrialRecord> Of(IEnumerable<TrialRecord> trials, IReadOnlyList<Objective> objectives, IReadOnlyList<Constraint> specs)
    {
        if (objectives.Count == 0) return [];
        var feasible = trials.Where(t => t.State == TrialState.Complete
                && objectives.All(o => t.Metrics.TryGetValue(o.Metric, out double v) && double.IsFinite(v))
                && Breaks(t, specs).Count == 0)
            .ToArray();
        var points = feasible.Select(t => objectives.Select(o => o.ToMinimization(t.Metrics[o.Metric])).ToArray()).ToArray();
        return NonDominatedSorting.FirstFront(points).Select(i => feasible[i]).OrderBy(t => t.Number).ToArray();
    }

    /// <summary>The specs a trial's stored metrics break (NaN breaks every spec on its metric).</summary>
    public static IReadOnlyList<Constraint> Breaks(TrialRecord trial, IReadOnlyList<Constraint> specs) =>
        specs.Where(c => trial.Metrics.TryGetValue(c.Metric, out double v) && !c.IsSatisfied(v)).ToArray();
}

/// <summary>
/// The final phase of a co-exploration study: retrain the most accurate front designs with a larger
/// budget and measure their test accuracy (the test split is used here only, never for selection).
/// Results are stored on the trial (<c>test_accuracy</c>, <c>final_accuracy</c>, <c>final_seconds</c>,
/// <c>final_epochs</c>) as each finishes, so a killed run resumes with the designs not yet retrained.
/// </summary>
public sealed class FinalRetrainer(IStudyStorage storage, TimeProvider? time = null)
{
    public const string FinalAccuracy = "final_accuracy";
    public const string FinalSeconds = "final_seconds";
    public const string FinalEpochs = "final_epochs";

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The front designs the final phase retrains: most accurate first, at most <see cref="FinalRetrainOptions.Top"/>.</summary>
    public static IReadOnlyList<TrialRecord> Select(IReadOnlyList<TrialRecord> front, StudyPlan plan)
    {
        if (plan.Accuracy is null || plan.Final.Top == 0) return [];
        string metric = plan.Accuracy.MetricNames[0];
        return front.Where(t => t.Metrics.ContainsKey(metric))
            .OrderByDescending(t => t.Metrics[metric]).ThenBy(t => t.Number)
            .Take(plan.Final.Top).ToArray();
    }

    public async Task<IReadOnlyList<TrialRecord>> RunAsync(StudyPlan plan, IReadOnlyList<TrialRecord> selected,
        IProgress<(int Done, int Total, TrialRecord Trial)>? progress = null, CancellationToken cancellationToken = default)
    {
        var accuracy = plan.Accuracy ?? throw new InvalidOperationException("the study has no accuracy evaluator");
        var view = new StoredStudyView(storage, plan.Name);
        var results = new List<TrialRecord>();
        int done = 0;
        foreach (var trial in selected)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (trial.Metrics.ContainsKey(MetricNames.TestAccuracy)) { results.Add(trial); progress?.Report((++done, selected.Count, trial)); continue; }
            var design = plan.Problem.Space.Parse(trial.Params);
            var network = plan.Problem.Lower(design);
            AccuracyResult r;
            try
            {
                r = await accuracy.EvaluateAsync(new AccuracyRequest
                {
                    Design = design,
                    Network = network,
                    Seed = StudyRunner.TrialSeed(plan.Seed, trial.Number),
                    TrialNumber = trial.Number,
                    Study = view,
                    BudgetScale = plan.Final.BudgetScale,
                    MeasureTest = true,
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (AccuracyEvaluationException e)
            {
                await storage.AppendEventAsync(plan.Name, new StudyEvent(_time.GetUtcNow(), "final-failed",
                    $"trial {trial.Number}: final retraining failed: {e.Message}"), CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            var metrics = trial.Metrics.ToDictionary(StringComparer.Ordinal);
            string metric = accuracy.MetricNames[0];
            if (r.Metrics.TryGetValue(metric, out double v)) metrics[FinalAccuracy] = v;
            if (r.Metrics.TryGetValue(MetricNames.TestAccuracy, out double test)) metrics[MetricNames.TestAccuracy] = test;
            metrics[FinalSeconds] = r.Seconds;
            metrics[FinalEpochs] = r.Epochs;
            var updated = trial with { Metrics = metrics.ToImmutableDictionary(StringComparer.Ordinal) };
            await storage.SaveTrialAsync(plan.Name, updated, CancellationToken.None).ConfigureAwait(false);
            await storage.AppendEventAsync(plan.Name, new StudyEvent(_time.GetUtcNow(), "final-retrained",
                $"trial {trial.Number}: retrained ×{plan.Final.BudgetScale} budget in {r.Seconds:F1} s; test accuracy {test:F2} %"), CancellationToken.None).ConfigureAwait(false);
            results.Add(updated);
            progress?.Report((++done, selected.Count, updated));
        }
        return results;
    }
}

/// <summary>An <see cref="IStudyView"/> over a stored study.</summary>
public sealed class StoredStudyView(IStudyStorage storage, string study) : IStudyView
{
    public string Name => study;
    public Task<IReadOnlyList<TrialRecord>> GetTrialsAsync(CancellationToken cancellationToken = default) => storage.GetTrialsAsync(study, cancellationToken);
    public Task SaveArtifactAsync(int trial, string name, byte[] data, CancellationToken cancellationToken = default) =>
        storage.SaveArtifactAsync(study, trial, name, data, cancellationToken);
    public Task<byte[]?> GetArtifactAsync(int trial, string name, CancellationToken cancellationToken = default) =>
        storage.GetArtifactAsync(study, trial, name, cancellationToken);
    public Task<IReadOnlyList<ArtifactInfo>> ListArtifactsAsync(CancellationToken cancellationToken = default) =>
        storage.ListArtifactsAsync(study, cancellationToken);
}
