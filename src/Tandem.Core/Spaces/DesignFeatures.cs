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

/// <summary>
/// Some of another feature set's features, in its order, each still categorical or ordered as there:
/// <see cref="Categorical"/> (e.g. a family's live form without its counts) or <see cref="Named"/>
/// (by name or name prefix).
/// </summary>
public sealed class SelectedFeatures : IDesignFeatures
{
    private readonly IDesignFeatures _all;
    private readonly int[] _keep;

    private SelectedFeatures(IDesignFeatures all, Func<int, bool> keep)
    {
        _all = all;
        _keep = Enumerable.Range(0, all.Names.Count).Where(keep).ToArray();
        Names = _keep.Select(i => all.Names[i]).ToArray();
    }

    /// <summary>Only the categorical features of <paramref name="all"/>.</summary>
    public static SelectedFeatures Categorical(IDesignFeatures all) => new(all, all.IsCategorical);

    /// <summary>
    /// The features of <paramref name="all"/> whose name equals a pattern, or starts with a pattern's
    /// text before a trailing <c>*</c>. Every pattern must select at least one feature.
    /// </summary>
    /// <exception cref="ArgumentException">A pattern that selects nothing (the message names it and the features there are).</exception>
    public static SelectedFeatures Named(IDesignFeatures all, IReadOnlyList<string> patterns)
    {
        static bool Matches(string pattern, string name) =>
            pattern.EndsWith('*') ? name.StartsWith(pattern[..^1], StringComparison.Ordinal) : name == pattern;
        foreach (string pattern in patterns)
            if (!all.Names.Any(n => Matches(pattern, n)))
                throw new ArgumentException($"'{pattern}' matches none of the derived features ({string.Join(", ", all.Names)}); give a feature name, or a prefix ending in '*'");
        return new(all, i => patterns.Any(p => Matches(p, all.Names[i])));
    }

    public IReadOnlyList<string> Names { get; }

    public bool IsCategorical(int index) => _all.IsCategorical(_keep[index]);

    public void Compute(Design design, Span<double> destination)
    {
        Span<double> all = stackalloc double[_all.Names.Count];
        _all.Compute(design, all);
        for (int i = 0; i < _keep.Length; i++) destination[i] = all[_keep[i]];
    }
}
