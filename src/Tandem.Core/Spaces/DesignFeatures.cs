namespace Tandem.Core.Spaces;

/// <summary>
/// Derived features of a design that a model-based strategy may use besides the
/// design's own parameters — knowledge of the family that a kernel over raw parameter values cannot
/// see. Example: in NAS-Bench-201 an edge whose every path to the cell's output is cut by
/// <c>none</c> edges does not change the function the network computes, so two cells that differ
/// only there compute the same function; <see cref="Families.Nb201Family.Features"/> gives each
/// edge's operation if it lies on a live input-to-output path and <c>none</c> otherwise. A feature is
/// categorical (a category index, compared by equality) or ordered (a number in [0, 1], compared by
/// distance, e.g. how many live edges are 3×3 convolutions, divided by the most there can be).
/// Features never change what is evaluated or stored; they only describe designs to surrogate models.
/// </summary>
public interface IDesignFeatures
{
    /// <summary>Feature names (for logs and documentation), one per feature.</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>Writes the <see cref="Names"/>.Count features of <paramref name="design"/> (category indices, or numbers in [0, 1] for ordered features) into <paramref name="destination"/>.</summary>
    void Compute(Design design, Span<double> destination);

    /// <summary>Whether feature <paramref name="index"/> is categorical (compared by equality; the default) rather than ordered (compared by distance).</summary>
    bool IsCategorical(int index) => true;
}

/// <summary>The categorical features of another feature set only (e.g. a family's live form without its counts).</summary>
public sealed class CategoricalFeatures : IDesignFeatures
{
    private readonly IDesignFeatures _all;
    private readonly int[] _keep;

    public CategoricalFeatures(IDesignFeatures all)
    {
        _all = all;
        _keep = Enumerable.Range(0, all.Names.Count).Where(all.IsCategorical).ToArray();
        Names = _keep.Select(i => all.Names[i]).ToArray();
    }

    public IReadOnlyList<string> Names { get; }

    public void Compute(Design design, Span<double> destination)
    {
        Span<double> all = stackalloc double[_all.Names.Count];
        _all.Compute(design, all);
        for (int i = 0; i < _keep.Length; i++) destination[i] = all[_keep[i]];
    }
}
