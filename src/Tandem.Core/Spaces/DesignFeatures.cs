namespace Tandem.Core.Spaces;

/// <summary>
/// Derived categorical features of a design that a model-based strategy may use besides the
/// design's own parameters — knowledge of the family that a kernel over raw parameter values cannot
/// see. Example: in NAS-Bench-201 an edge whose every path to the cell's output is cut by
/// <c>none</c> edges does not change the function the network computes, so two cells that differ
/// only there compute the same function; <see cref="Families.Nb201Family.Features"/> gives each
/// edge's operation if it lies on a live input-to-output path and <c>none</c> otherwise. Features
/// never change what is evaluated or stored; they only describe designs to surrogate models.
/// </summary>
public interface IDesignFeatures
{
    /// <summary>Feature names (for logs and documentation), one per feature.</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>Writes the <see cref="Names"/>.Count features of <paramref name="design"/> (category indices, compared by equality) into <paramref name="destination"/>.</summary>
    void Compute(Design design, Span<double> destination);
}
