using Tandem.Core.Accuracy;
using Tandem.Core.Spaces;

namespace Tandem.Core.Studies;

/// <summary>Everything one trial's evaluation may use: its number, design, derived seed and the study.</summary>
public sealed record TrialContext
{
    public required int Number { get; init; }
    public required Design Design { get; init; }
    /// <summary>Seed for this trial, derived from the study seed and the trial number.</summary>
    public required int Seed { get; init; }
    public IStudyView? Study { get; init; }
    public IProgress<string>? Log { get; init; }
}

/// <summary>
/// Turns a design into a trial outcome (the full pipeline: decode, cost, specs, accuracy).
/// Throwing an <see cref="InputException"/> aborts the whole study (bad input affects every trial);
/// any other exception fails only this trial.
/// </summary>
public interface ITrialEvaluator
{
    Task<TrialOutcome> EvaluateAsync(TrialContext context, CancellationToken cancellationToken = default);
}

/// <summary>
/// A cheap, synchronous evaluation (hardware cost and specs only, no accuracy): what two-level
/// (fast/slow) exploration uses to tune and prune hardware before any accuracy is paid for.
/// </summary>
public interface IFastEvaluator
{
    /// <summary>Hardware metrics of a design and whether it meets the hardware specs (Pruned with a reason if not).</summary>
    TrialOutcome EvaluateFast(Design design);
}
