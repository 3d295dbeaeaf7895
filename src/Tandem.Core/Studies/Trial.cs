using System.Collections.Immutable;

namespace Tandem.Core.Studies;

/// <summary>Life cycle of a trial: Running → Complete | Pruned | Failed.</summary>
public enum TrialState { Running, Complete, Pruned, Failed }

/// <summary>
/// What evaluating one design produced. <see cref="TrialState.Pruned"/> means a cheap check (a
/// hardware spec) rejected the design before the expensive step, and <see cref="Reason"/> says which
/// spec and by how much; <see cref="TrialState.Failed"/> means evaluation broke (NaN loss, …) and
/// <see cref="Reason"/> says why. Metric names carry units (see <c>MetricNames</c>); attributes are
/// free text (fidelity used, hardware description, …).
/// </summary>
public sealed record TrialOutcome
{
    public required TrialState State { get; init; }
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = ImmutableDictionary<string, double>.Empty;
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = ImmutableDictionary<string, string>.Empty;
    public string? Reason { get; init; }

    public static TrialOutcome Complete(IReadOnlyDictionary<string, double> metrics, IReadOnlyDictionary<string, string>? attributes = null) =>
        new() { State = TrialState.Complete, Metrics = metrics, Attributes = attributes ?? ImmutableDictionary<string, string>.Empty };

    public static TrialOutcome Pruned(string reason, IReadOnlyDictionary<string, double> metrics, IReadOnlyDictionary<string, string>? attributes = null) =>
        new() { State = TrialState.Pruned, Reason = reason, Metrics = metrics, Attributes = attributes ?? ImmutableDictionary<string, string>.Empty };

    public static TrialOutcome Failed(string reason, IReadOnlyDictionary<string, double>? metrics = null) =>
        new() { State = TrialState.Failed, Reason = reason, Metrics = metrics ?? ImmutableDictionary<string, double>.Empty };

    public double? Metric(string name) => Metrics.TryGetValue(name, out double v) ? v : null;
}

/// <summary>
/// A trial as stored: its number (0-based, dense, in the order the strategy proposed designs), the
/// design as parameter name → text value plus its key, its state, metrics, attributes and times.
/// Storage backends persist exactly these fields; a Running record is replaced by its final one.
/// </summary>
public sealed record TrialRecord
{
    public required int Number { get; init; }
    public required string DesignKey { get; init; }
    public required IReadOnlyDictionary<string, string> Params { get; init; }
    public required TrialState State { get; init; }
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = ImmutableDictionary<string, double>.Empty;
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = ImmutableDictionary<string, string>.Empty;
    public string? Reason { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    public bool IsFinished => State != TrialState.Running;

    public TrialOutcome ToOutcome() => new() { State = State, Metrics = Metrics, Attributes = Attributes, Reason = Reason };

    public double? Metric(string name) => Metrics.TryGetValue(name, out double v) ? v : null;
}

/// <summary>Whether a study is still being run or has finished its budget.</summary>
public enum StudyStatus { Running, Finished }

/// <summary>
/// A stored study: unique name, the signature of its design space (to refuse resuming with another
/// space), the resolved configuration as JSON (enough to re-create every component on resume), the
/// Tandem version that created it, times and status.
/// </summary>
public sealed record StudyRecord
{
    public required string Name { get; init; }
    public required string SpaceSignature { get; init; }
    public required string ConfigJson { get; init; }
    public required string ProgramVersion { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public StudyStatus Status { get; init; } = StudyStatus.Running;
}

/// <summary>A timestamped note in a study's log (space shrunk, front retrained, resumed, …).</summary>
public sealed record StudyEvent(DateTimeOffset Time, string Kind, string Message, string? DataJson = null);

/// <summary>Name and size of a stored binary artifact (e.g. trained weights) of one trial.</summary>
public sealed record ArtifactInfo(int Trial, string Name, long SizeBytes);
