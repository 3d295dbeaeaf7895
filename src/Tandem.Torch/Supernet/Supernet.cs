using Tandem.Core.Spaces;
using TorchSharp;
using static TorchSharp.torch;

namespace Tandem.Torch.Supernet;

/// <summary>
/// The dimensions along which a sub-network can shrink, in the order progressive shrinking enables
/// them (Once-for-All: kernel, then depth, then width). Categorical choices (pooling, residual) are
/// not elastic dimensions: they are drawn at random in every phase.
/// </summary>
[Flags]
public enum ElasticDimensions
{
    /// <summary>Only the largest network (categorical choices still random).</summary>
    None = 0,
    Kernel = 1,
    Depth = 2,
    /// <summary>Channels, widths and expansion ratios.</summary>
    Width = 4,
    All = Kernel | Depth | Width,
}

/// <summary>
/// A weight-sharing supernet: one set of weights sized for the largest network of a family, of which
/// every design of the family is a sub-network (dynamic channel scaling takes the first channels,
/// smaller kernels take the centre of the largest kernel, fewer layers take the first layers).
/// <see cref="Activate"/> selects the sub-network that <see cref="nn.Module{T, TResult}.forward"/> runs.
/// Batch-norm statistics are shared too, so they are meaningless for any one sub-network until
/// <see cref="Recalibrate"/> re-estimates them (adaptive batch norm).
/// </summary>
internal abstract class Supernet(string name, DesignSpace space) : nn.Module<Tensor, Tensor>(name)
{
    private readonly List<(Tensor Mean, Tensor Var)> _batchNorms = [];

    /// <summary>The family's parameters (sub-networks are designs of this space).</summary>
    public DesignSpace Space { get; } = space;

    /// <summary>Momentum of running-statistic updates (0.1 while training; 1/(k+1) during recalibration for a plain average).</summary>
    protected double BatchNormMomentum { get; private set; } = 0.1;

    /// <summary>Selects the sub-network of <paramref name="design"/> (a design of the family; extra non-arch parameters are ignored).</summary>
    public abstract void Activate(Design design);

    /// <summary>Sliced weights of the active sub-network, named as <see cref="Modules.WorkloadModule"/> names them for the lowered design.</summary>
    public abstract IEnumerable<(string Name, Tensor Tensor)> ActiveTensors();

    protected void RegisterBatchNorm(Tensor mean, Tensor var) => _batchNorms.Add((mean, var));

    /// <summary>Which elastic dimension a non-categorical parameter of the family belongs to (by its name).</summary>
    protected abstract ElasticDimensions DimensionOf(Parameter parameter);

    /// <summary>
    /// Sorts the channels of every shared layer by importance (L1 norm of their weights, largest
    /// first), so that the first channels a narrow sub-network takes are the most important ones. The
    /// function of every sub-network that uses all channels of a layer is unchanged (a permutation of
    /// channels, applied consistently to producers, batch norms and consumers). Returns the number of
    /// permuted channel groups; 0 when the supernet has nothing it can sort.
    /// </summary>
    public abstract int ReorderChannels();

    /// <summary>The largest (every ordinal/integer at its maximum) or smallest sub-network; categorical choices random.</summary>
    public Design Extreme(bool largest, Random rng) => Extreme(largest, rng, ElasticDimensions.All);

    /// <summary>
    /// The largest or smallest sub-network when only <paramref name="elastic"/> dimensions may shrink:
    /// parameters of the other dimensions stay at their maximum; categorical choices random.
    /// </summary>
    public Design Extreme(bool largest, Random rng, ElasticDimensions elastic)
    {
        var values = new double[Space.Count];
        for (int i = 0; i < Space.Count; i++)
        {
            var p = Space[i];
            values[i] = p.Kind == ParameterKind.Categorical ? p.ValueAt(rng.Next(p.Cardinality))
                : p.ValueAt(largest || (DimensionOf(p) & elastic) == 0 ? p.Cardinality - 1 : 0);
        }
        return Space.Create(values);
    }

    public Design Sample(Random rng) => Space.Sample(rng);

    /// <summary>A random sub-network in which only <paramref name="elastic"/> dimensions may shrink (the others at their maximum); categorical choices random.</summary>
    public Design Sample(Random rng, ElasticDimensions elastic)
    {
        if (elastic == ElasticDimensions.All) return Space.Sample(rng);
        var values = new double[Space.Count];
        for (int i = 0; i < Space.Count; i++)
        {
            var p = Space[i];
            values[i] = p.Kind == ParameterKind.Categorical || (DimensionOf(p) & elastic) != 0 ? p.Sample(rng) : p.ValueAt(p.Cardinality - 1);
        }
        return Space.Create(values);
    }

    /// <summary>
    /// The permutation that sorts channels by descending <paramref name="importance"/> (one value per
    /// channel); ties keep their order, so the result is deterministic.
    /// </summary>
    protected static long[] DescendingOrder(float[] importance) =>
        [.. Enumerable.Range(0, importance.Length).OrderByDescending(i => importance[i]).ThenBy(i => i).Select(i => (long)i)];

    /// <summary>Replaces <paramref name="target"/>'s values in place by <paramref name="target"/> indexed by <paramref name="order"/> along <paramref name="dim"/>.</summary>
    protected static void PermuteInPlace(Tensor target, long dim, Tensor order)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var permuted = target.index_select(dim, order).clone();
        target.copy_(permuted);
    }

    /// <summary>
    /// Copies the active sub-network's tensors (weights, batch-norm parameters and statistics) into
    /// <paramref name="target"/>, a standalone module of the lowered design whose parameters and buffers
    /// have the same names and shapes; afterwards both compute the same function.
    /// </summary>
    public void CopyActiveInto(nn.Module target)
    {
        var slots = target.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(target.named_buffers())
            .ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);
        int copied = 0;
        using var noGrad = no_grad();
        foreach (var (name, t) in ActiveTensors())
        {
            if (!slots.TryGetValue(name, out var slot) || !slot.shape.SequenceEqual(t.shape))
                throw new InvalidOperationException($"the standalone module has no tensor '{name}' of shape [{string.Join(", ", t.shape)}]: the supernet and the family disagree");
            slot.copy_(t);
            copied++;
        }
        if (copied != slots.Count)
            throw new InvalidOperationException($"the sub-network provides {copied} of the standalone module's {slots.Count} tensors: the supernet and the family disagree");
    }

    /// <summary>
    /// Re-estimates the batch-norm statistics of the active sub-network from <paramref name="batches"/>
    /// (training images), as a plain average over batches, with gradients off.
    /// </summary>
    public void Recalibrate(IEnumerable<Tensor> batches)
    {
        using (no_grad())
        {
            foreach (var (mean, var) in _batchNorms) { mean.zero_(); var.fill_(1); }
        }
        bool wasTraining = training;
        train();
        try
        {
            int k = 0;
            using var noGrad = no_grad();
            foreach (var x in batches)
            {
                BatchNormMomentum = 1.0 / (k + 1);
                using var scope = NewDisposeScope();
                forward(x);
                k++;
            }
        }
        finally
        {
            BatchNormMomentum = 0.1;
            if (!wasTraining) eval();
        }
    }
}
