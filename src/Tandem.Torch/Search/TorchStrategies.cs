using Tandem.Core.Search;

namespace Tandem.Torch.Search;

/// <summary>Registers the TorchSharp strategies: <c>rl</c>, the REINFORCE LSTM controller (with the modifier keys every strategy accepts).</summary>
public static class TorchStrategies
{
    public static StrategyRegistry Register(StrategyRegistry registry) =>
        registry.Register("rl", "REINFORCE with an LSTM controller, one decision per parameter; options: hidden, learning_rate, entropy_weight, baseline_decay, float_bins, reward",
            StrategyModifiers.Modifiable((c, o) => new ReinforceStrategy(c, ReinforceOptions.Bind(o))));
}
