using System.Collections.Immutable;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;
using Tandem.Core.Workloads;

namespace Tandem.Core.Accuracy;

/// <summary>
/// The learning task a network is built for: one sample's input shape and the number of classes.
/// Families lower designs for this shape.
/// </summary>
public sealed record TaskSpec(string Name, TensorShape Input, int NumClasses);

/// <summary>
/// One request for the accuracy (or a stand-in score) of one network. <see cref="Seed"/> makes the
/// result reproducible; <see cref="Study"/> gives access to earlier trials and stored artifacts
/// (for hot starts); <see cref="BudgetScale"/> lets a caller ask for a larger budget than the
/// evaluator's default (e.g. 5 for the final retraining of the Pareto front).
/// </summary>
public sealed record AccuracyRequest
{
    public required Design Design { get; init; }
    public required Workload Network { get; init; }
    public required int Seed { get; init; }
    public int TrialNumber { get; init; } = -1;
    public IStudyView? Study { get; init; }
    public double BudgetScale { get; init; } = 1;
    /// <summary>When set, the evaluator also reports <c>test_accuracy</c> on the held-out test split.</summary>
    public bool MeasureTest { get; init; }
    public IProgress<string>? Log { get; init; }
}

/// <summary>
/// Result of one accuracy evaluation: metrics (e.g. <c>accuracy</c> in % for training, supernet and
/// tables; a proxy's score such as <c>synflow</c> for zero-cost proxies), the fidelity that produced
/// them, and what it cost (wall seconds, epochs of training; 0 when none).
/// </summary>
public sealed record AccuracyResult
{
    public required IReadOnlyDictionary<string, double> Metrics { get; init; }
    public required string Fidelity { get; init; }
    public double Seconds { get; init; }
    public double Epochs { get; init; }
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = ImmutableDictionary<string, string>.Empty;
}

/// <summary>
/// Estimates how well a network does on a task, at some fidelity: tabular lookup, zero-cost proxy,
/// weight-shared supernet, short or full training. Implementations must be safe to call
/// concurrently for different requests. A broken evaluation (NaN loss) throws
/// <see cref="AccuracyEvaluationException"/>; the trial then fails and the study goes on.
/// </summary>
public interface IAccuracyEvaluator
{
    /// <summary>Fidelity name recorded on every trial ("table", "synflow", "supernet", "train", …).</summary>
    string Fidelity { get; }

    /// <summary>The task the evaluator measures; families lower designs for its input shape.</summary>
    TaskSpec Task { get; }

    /// <summary>Names of the metrics this evaluator reports (e.g. ["accuracy"] or ["synflow"]).</summary>
    IReadOnlyList<string> MetricNames { get; }

    Task<AccuracyResult> EvaluateAsync(AccuracyRequest request, CancellationToken cancellationToken = default);
}

/// <summary>An evaluation that broke for this design (NaN loss, divergence); the trial fails, the study continues.</summary>
public sealed class AccuracyEvaluationException(string message) : Exception(message);

/// <summary>Read access to the running study for evaluators (earlier trials and artifacts, e.g. trained weights).</summary>
public interface IStudyView
{
    string Name { get; }
    Task<IReadOnlyList<TrialRecord>> GetTrialsAsync(CancellationToken cancellationToken = default);
    Task SaveArtifactAsync(int trial, string name, byte[] data, CancellationToken cancellationToken = default);
    Task<byte[]?> GetArtifactAsync(int trial, string name, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<ArtifactInfo>> ListArtifactsAsync(CancellationToken cancellationToken = default);
}
