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
        return registry;
    }
}
