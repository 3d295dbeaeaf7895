using Tandem.Core.Configuration;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;

namespace Tandem.Core.Search.Strategies;

/// <summary>Options of exhaustive search (none: it enumerates in the space's mixed-radix order).</summary>
public sealed record ExhaustiveSearchOptions
{
    public static ExhaustiveSearchOptions Bind(ConfigMap options)
    {
        options.CheckKeys(StrategyModifiers.AcceptedKeys());
        return new ExhaustiveSearchOptions();
    }
}

/// <summary>
/// Proposes every design of a discrete space once, in <see cref="DesignSpace.Enumerate"/> order (last
/// parameter fastest), streaming: memory stays constant whatever the space's size, so it can also
/// take the first N designs of an astronomically large space. Ends (empty ask) when the space is done.
/// A space with a float parameter is refused when the strategy is created.
/// </summary>
internal sealed class ExhaustiveSearch : IStrategy
{
    private readonly IEnumerator<Design> _cursor;
    private bool _done;

    public ExhaustiveSearch(StrategyContext context)
    {
        var floats = context.Space.Parameters.Where(p => !p.IsDiscrete).Select(p => p.Name).ToArray();
        if (floats.Length > 0)
            throw new ConfigException($"exhaustive search needs a discrete space, but {string.Join(", ", floats)} {(floats.Length == 1 ? "is" : "are")} continuous; use random, evolution, nsga2 or bo");
        _cursor = context.Space.Enumerate().GetEnumerator();
    }

    public string Name => "exhaustive";

    public IReadOnlyList<Design> Ask(int count)
    {
        var result = new List<Design>(count);
        while (result.Count < count && !_done)
        {
            if (_cursor.MoveNext()) result.Add(_cursor.Current);
            else _done = true;
        }
        return result;
    }

    public void Tell(Design design, TrialOutcome outcome) { }
}
