using Tandem.Core.Spaces;
using TorchSharp;
using static TorchSharp.torch;

namespace Tandem.Torch.Supernet;

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

    /// <summary>The largest (every ordinal/integer at its maximum) or smallest sub-network; categorical choices random.</summary>
    public Design Extreme(bool largest, Random rng)
    {
        var values = new double[Space.Count];
        for (int i = 0; i < Space.Count; i++)
        {
            var p = Space[i];
            values[i] = p.Kind == ParameterKind.Categorical ? p.ValueAt(rng.Next(p.Cardinality))
                : p.ValueAt(largest ? p.Cardinality - 1 : 0);
        }
        return Space.Create(values);
    }

    public Design Sample(Random rng) => Space.Sample(rng);

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
