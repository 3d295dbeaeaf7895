using Tandem.Core.Accuracy;
using Tandem.Torch.Evaluators;

namespace Tandem.Torch;

/// <summary>
/// Registers the TorchSharp accuracy evaluators with the registry by fidelity name. Each factory
/// binds its options from the evaluator's config map and rejects unknown keys.
/// </summary>
public static class TorchComponents
{
    public static AccuracyEvaluatorRegistry Register(AccuracyEvaluatorRegistry registry)
    {
        registry.Register("train",
            "train each design from scratch (or hot-started) on a training subset; accuracy = validation accuracy in %",
            (options, environment) => new TrainingEvaluator(TrainingEvaluatorOptions.Bind(options, environment), environment));
        registry.Register("supernet",
            "weight-sharing supernet of the family (plain-cnn, mobilenetv2), trained once with the sandwich rule and self-distillation; accuracy = validation accuracy in % of the sub-network with inherited weights after batch-norm recalibration",
            (options, environment) => new SupernetEvaluator(SupernetEvaluatorOptions.Bind(options, environment), environment));
        foreach (var (proxy, text) in new[]
        {
            ("synflow", "zero-cost proxy: log10 of the synaptic-flow score of the untrained network (no data)"),
            ("naswot", "zero-cost proxy: ln|det K| of the activation-pattern kernel of one batch (NASWOT)"),
            ("grad_norm", "zero-cost proxy: sum of the gradient norms of the weights on one batch"),
            ("snip", "zero-cost proxy: sum of |weight × gradient| on one batch (SNIP)"),
        })
            registry.Register(proxy, text, (options, environment) => new ProxyEvaluator(proxy, ProxyEvaluatorOptions.Bind(options, environment), environment));
        return registry;
    }
}
