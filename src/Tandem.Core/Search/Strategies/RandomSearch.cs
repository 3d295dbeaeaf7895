using Tandem.Core.Configuration;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;

namespace Tandem.Core.Search.Strategies;

/// <summary>Options of random search (none beyond the seed, which comes from the study).</summary>
public sealed record RandomSearchOptions
{
    public static RandomSearchOptions Bind(ConfigMap options)
    {
        options.CheckKeys(StrategyModifiers.AcceptedKeys());
        return new RandomSearchOptions();
    }
}

/// <summary>
/// Uniform random sampling of the design space that avoids proposing a design twice (it redraws up
/// to 64 times); ends when a discrete space has been fully proposed. The baseline every other
/// strategy must beat.
/// </summary>
internal sealed class RandomSearch(StrategyContext context) : IStrategy
{
    private readonly Random _rng = new(context.Seed);
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    public string Name => "random";

    public IReadOnlyList<Design> Ask(int count)
    {
        var result = new List<Design>(count);
        for (int i = 0; i < count && !Operators.Exhausted(context.Space, _seen); i++)
        {
            var d = Operators.Fresh(() => context.Space.Sample(_rng), _seen, 256);
            // Late in a small space redraws rarely hit an unseen design; take the first unseen one in order.
            if (_seen.Contains(d.Key) && context.Space.Size is { } size && size <= 1_000_000)
                d = context.Space.Enumerate().First(x => !_seen.Contains(x.Key));
            _seen.Add(d.Key);
            result.Add(d);
        }
        return result;
    }

    public void Tell(Design design, TrialOutcome outcome) => _seen.Add(design.Key);
}
