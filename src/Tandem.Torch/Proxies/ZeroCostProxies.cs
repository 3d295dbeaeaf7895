using Tandem.Torch.Modules;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Tandem.Torch.Proxies;

/// <summary>
/// Zero-cost proxies: scores of an untrained network computed from one or a few mini-batches, used
/// to rank designs without training. All are "larger is better". Definitions follow Abdelfattah et
/// al., "Zero-Cost Proxies for Lightweight NAS" (ICLR 2021) and Mellor et al., "Neural Architecture
/// Search without Training" (ICML 2021):
/// <list type="bullet">
/// <item><b>grad_norm</b>: Σ over conv/dense weights of ‖∂L/∂W‖₂ for the cross-entropy L of a batch.</item>
/// <item><b>snip</b>: Σ |W ⊙ ∂L/∂W| over conv/dense weights (connection sensitivity).</item>
/// <item><b>synflow</b>: with every parameter replaced by its absolute value, batch norm bypassed and an
///   all-ones input in float64, R = Σ outputs; score Σ |W ⊙ ∂R/∂W|. Reported as log10 (the raw value
///   spans hundreds of orders of magnitude across designs; ranking is unchanged).</item>
/// <item><b>naswot</b>: binary codes of which rectified units fire for each sample of a batch; kernel
///   K = C Cᵀ + (1−C)(1−C)ᵀ (matching units between samples); score ln|det K|.</item>
/// </list>
/// </summary>
internal static class ZeroCostProxies
{
    public static readonly IReadOnlyList<string> Names = ["synflow", "naswot", "grad_norm", "snip"];

    public static double GradNorm(WorkloadModule model, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        model.train();
        model.zero_grad();
        F.cross_entropy(model.forward(x), y).backward();
        double sum = 0;
        foreach (var w in model.PrunableWeights())
            if (w.grad is { } g) sum += g.norm().item<float>();
        model.zero_grad();
        return sum;
    }

    public static double Snip(WorkloadModule model, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        model.train();
        model.zero_grad();
        F.cross_entropy(model.forward(x), y).backward();
        double sum = 0;
        foreach (var w in model.PrunableWeights())
            if (w.grad is { } g) sum += (w.detach() * g).abs().sum().item<float>();
        model.zero_grad();
        return sum;
    }

    /// <summary><paramref name="model"/> must be a float64 module; its weights are replaced by their absolute values.</summary>
    public static double Synflow(WorkloadModule model, long[] inputShape)
    {
        using var scope = NewDisposeScope();
        model.eval();
        using (no_grad())
            foreach (var p in model.parameters()) p.abs_();
        model.zero_grad();
        var ones = torch.ones(inputShape, dtype: ScalarType.Float64);
        var output = model.Forward(ones, new ForwardHooks { BypassBatchNorm = true });
        output.sum().backward();
        double sum = 0;
        foreach (var w in model.PrunableWeights())
            if (w.grad is { } g) sum += (w.detach() * g).abs().sum().item<double>();
        model.zero_grad();
        if (sum <= 0 || !double.IsFinite(sum)) return sum > 0 ? double.MaxValue : double.NegativeInfinity;
        return Math.Log10(sum);
    }

    public static double Naswot(WorkloadModule model, Tensor x)
    {
        using var scope = NewDisposeScope();
        model.train();
        long n = x.shape[0];
        var k = zeros([n, n], dtype: ScalarType.Float64);
        void Observe(int layer, Tensor activation)
        {
            var c = activation.detach().flatten(1).gt(0).to_type(ScalarType.Float64);
            k.add_(c.matmul(c.t())).add_((1 - c).matmul((1 - c).t()));
        }
        using (no_grad()) model.Forward(x, new ForwardHooks { OnActivation = Observe });
        var (sign, logabsdet) = linalg.slogdet(k);
        double v = logabsdet.item<double>();
        return sign.item<double>() == 0 ? double.NegativeInfinity : v;
    }
}
