using Tandem.Core.Workloads;

namespace Tandem.Core.Spaces.Families;

/// <summary>
/// A family of networks: its <c>arch.*</c> parameters, and how a design's values become a
/// <see cref="Workload"/> (the layer graph that cost models consume and Torch trains).
/// Implementations are immutable and thread-safe.
/// </summary>
public interface INetworkFamily
{
    /// <summary>Short identifier used in config files ("plain-cnn", "nb201", …).</summary>
    string Name { get; }

    /// <summary>The family's parameters, all named <c>arch.*</c>.</summary>
    IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The network of <paramref name="design"/> for one input sample shape and class count.</summary>
    /// <exception cref="WorkloadException">the design gives a network that cannot exist for this input.</exception>
    Workload Lower(Design design, TensorShape input, int numClasses);

    /// <summary>
    /// The canonical form of a design: values of parameters that the design does not use (e.g. the
    /// kernel of a stage that has no layers) reset to their first value, so that two designs giving
    /// the same network get the same key and are never evaluated twice.
    /// </summary>
    Design Canonicalize(Design design) => design;

    /// <summary>
    /// Derived features of the family's designs for surrogate models (e.g. the function-equivalent
    /// form of a cell), or null if the family has none. Applies to any space that contains the
    /// family's parameters (e.g. network ⊕ hardware).
    /// </summary>
    IDesignFeatures? Features => null;

    /// <summary>A compact one-line description of the design's network for tables (default: its arch.* values).</summary>
    string Describe(Design design) =>
        string.Join(" ", Parameters.Select(p => $"{p.Name["arch.".Length..]}={design.Format(p.Name)}"));
}
