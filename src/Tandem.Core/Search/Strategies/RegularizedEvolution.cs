using Tandem.Core.Configuration;
using Tandem.Core.Search.Pareto;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;

namespace Tandem.Core.Search.Strategies;

/// <summary>
/// Options of regularised (aging) evolution. <see cref="Population"/> ≥ 2, 2 ≤ <see cref="Sample"/> ≤
/// <see cref="Population"/>; <see cref="MutationRate"/> is the per-parameter probability (0 = 1/number of parameters).
/// </summary>
public sealed record RegularizedEvolutionOptions
{
    public int Population { get; init; } = 20;
    public int Sample { get; init; } = 5;
    public double MutationRate { get; init; }

    public static RegularizedEvolutionOptions Bind(ConfigMap options)
    {
        options.CheckKeys(StrategyModifiers.AcceptedKeys("population", "sample", "mutation_rate"));
        int population = options.GetInt("population", 20, 2, 100_000);
        return new RegularizedEvolutionOptions
        {
            Population = population,
            Sample = options.GetInt("sample", Math.Min(5, population), 2, population),
            MutationRate = options.GetDouble("mutation_rate", 0, 0, 1),
        };
    }
}

/// <summary>
/// Regularised evolution (Real et al. 2019, AmoebaNet): a population of the last
/// <see cref="RegularizedEvolutionOptions.Population"/> told designs (the oldest dies, whatever its
/// fitness); each child is a mutation of the winner of a tournament among
/// <see cref="RegularizedEvolutionOptions.Sample"/> random members. With several objectives or
/// constraints the tournament winner is the member with the best constrained-domination rank in the
/// whole population, ties broken by larger crowding distance (so with one unconstrained objective it
/// is simply the best value). The first Population designs are random.
/// </summary>
internal sealed class RegularizedEvolution(StrategyContext context, RegularizedEvolutionOptions options) : IStrategy
{
    private readonly Random _rng = new(context.Seed);
    private readonly Queue<Individual> _population = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private int _pending;
    private int[]? _rank;
    private double[]? _crowd;
    private Individual[] _members = [];

    public string Name => "evolution";

    public IReadOnlyList<Design> Ask(int count)
    {
        var result = new List<Design>(count);
        for (int i = 0; i < count && !Operators.Exhausted(context.Space, _seen); i++)
        {
            Design d;
            if (_population.Count + _pending < options.Population || _population.Count < 2)
                d = Operators.Fresh(() => context.Space.Sample(_rng), _seen);
            else
            {
                var parent = Tournament();
                d = Operators.Fresh(() => Operators.Mutate(parent, _rng, options.MutationRate), _seen);
            }
            _seen.Add(d.Key);
            _pending++;
            result.Add(d);
        }
        return result;
    }

    public void Tell(Design design, TrialOutcome outcome)
    {
        _seen.Add(design.Key);
        if (_pending > 0) _pending--;
        _population.Enqueue(Individual.From(context, design, outcome));
        while (_population.Count > options.Population) _population.Dequeue();
        _rank = null;
    }

    private Design Tournament()
    {
        if (_rank is null)
        {
            _members = _population.ToArray();
            var objs = _members.Select(m => m.Objectives).ToArray();
            var viol = _members.Select(m => m.Violation).ToArray();
            _rank = ConstrainedRanking.Rank(objs, viol);
            _crowd = ConstrainedRanking.Crowding(objs, viol, _rank);
        }
        int best = -1;
        int size = Math.Min(options.Sample, _members.Length);
        foreach (int i in SampleDistinct(_members.Length, size))
            if (best < 0 || _rank[i] < _rank[best] || (_rank[i] == _rank[best] && _crowd![i] > _crowd[best])) best = i;
        return _members[best].Design;
    }

    private IEnumerable<int> SampleDistinct(int n, int k)
    {
        var chosen = new HashSet<int>();
        while (chosen.Count < k)
        {
            int i = _rng.Next(n);
            if (chosen.Add(i)) yield return i;
        }
    }
}
