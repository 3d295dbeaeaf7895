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

    /// <summary>
    /// The length-scale group of feature <paramref name="index"/>, or null (the default): ordered features
    /// of one group are compared by their joint Euclidean distance under one length scale, as one input of
    /// many coordinates (e.g. a path encoding's dozens of counts), instead of each by its own.
    /// </summary>
    string? Group(int index) => null;

    /// <summary>
    /// Whether feature <paramref name="index"/> is used only when asked for by name (false, the default:
    /// it is part of the family's default set). Large or experimental feature sets are optional so that
    /// the default set, and every configuration that uses it, stays as it is.
    /// </summary>
    bool IsOptional(int index) => false;
}

/// <summary>
/// Some of another feature set's features, in its order, each still categorical or ordered (and in
/// its group) as there: <see cref="Categorical"/> (e.g. a family's live form without its counts),
/// <see cref="Default"/> (without the optional ones) or <see cref="Named"/> (by name or name prefix,
/// optional ones included).
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

    /// <summary>Only the categorical features of <paramref name="all"/>'s default set.</summary>
    public static SelectedFeatures Categorical(IDesignFeatures all) => new(all, i => all.IsCategorical(i) && !all.IsOptional(i));

    /// <summary>The default set of <paramref name="all"/>: <paramref name="all"/> itself unless some of its features are optional.</summary>
    public static IDesignFeatures Default(IDesignFeatures all) =>
        Enumerable.Range(0, all.Names.Count).Any(all.IsOptional) ? new SelectedFeatures(all, i => !all.IsOptional(i)) : all;

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

    public string? Group(int index) => _all.Group(_keep[index]);

    public bool IsOptional(int index) => _all.IsOptional(_keep[index]);

    public void Compute(Design design, Span<double> destination)
    {
        Span<double> all = stackalloc double[_all.Names.Count];
        _all.Compute(design, all);
        for (int i = 0; i < _keep.Length; i++) destination[i] = all[_keep[i]];
    }
}
