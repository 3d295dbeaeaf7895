using Tandem.Core.Configuration;
using Tandem.Core.Search.Pareto;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;

namespace Tandem.Core.Search.Strategies;

/// <summary>
/// Options of NSGA-II. <see cref="Population"/> ≥ 2; <see cref="CrossoverRate"/> ∈ [0, 1] is the
/// probability that a child comes from crossover before mutation; <see cref="MutationRate"/> is the
/// per-parameter mutation probability (0 = 1/number of parameters; a child always differs in at least one).
/// </summary>
public sealed record Nsga2Options
{
    public int Population { get; init; } = 20;
    public double CrossoverRate { get; init; } = 0.9;
    public double MutationRate { get; init; }

    public static Nsga2Options Bind(ConfigMap options)
    {
        options.CheckKeys(StrategyModifiers.AcceptedKeys("population", "crossover_rate", "mutation_rate"));
        return new Nsga2Options
        {
            Population = options.GetInt("population", 20, 2, 100_000),
            CrossoverRate = options.GetDouble("crossover_rate", 0.9, 0, 1),
            MutationRate = options.GetDouble("mutation_rate", 0, 0, 1),
        };
    }
}

/// <summary>
/// NSGA-II (Deb, Pratap, Agarwal, Meyarivan 2002) in ask/tell form. The first Population designs
/// are random. Afterwards children come from binary tournaments on (constrained-domination rank,
/// crowding distance) over the parent population, crossover (uniform for discrete parameters, SBX
/// for floats) and mutation suited to each parameter kind, never knowingly repeating a design.
/// Whenever Population children have been told, parents ∪ children are sorted by constrained
/// domination (feasible before infeasible, infeasible by total violation) and the best Population
/// survive, the last front truncated by crowding distance. Batches of any size are accepted; a
/// generation ends by count of tells, not of asks.
/// </summary>
internal sealed class Nsga2(StrategyContext context, Nsga2Options options) : IStrategy
{
    private readonly Random _rng = new(context.Seed);
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private List<Individual> _parents = [];
    private readonly List<Individual> _children = [];
    private int[] _rank = [];
    private double[] _crowd = [];

    public string Name => "nsga2";

    public IReadOnlyList<Design> Ask(int count)
    {
        var result = new List<Design>(count);
        for (int i = 0; i < count && !Operators.Exhausted(context.Space, _seen); i++)
        {
            // Until the first generation is told there are no parents: sample uniformly.
            Design d = _parents.Count < 2
                ? Operators.Fresh(() => context.Space.Sample(_rng), _seen)
                : Operators.Fresh(MakeChild, _seen);
            _seen.Add(d.Key);
            result.Add(d);
        }
        return result;
    }

    public void Tell(Design design, TrialOutcome outcome)
    {
        _seen.Add(design.Key);
        _children.Add(Individual.From(context, design, outcome));
        if (_children.Count >= options.Population)
            Select();
    }

    private void Select()
    {
        var pool = _parents.Concat(_children).ToList();
        _children.Clear();
        var objs = pool.Select(p => p.Objectives).ToArray();
        var viol = pool.Select(p => p.Violation).ToArray();
        var order = ConstrainedRanking.Order(objs, viol);
        _parents = order.Take(options.Population).Select(i => pool[i]).ToList();
        var pObjs = _parents.Select(p => p.Objectives).ToArray();
        var pViol = _parents.Select(p => p.Violation).ToArray();
        _rank = ConstrainedRanking.Rank(pObjs, pViol);
        _crowd = ConstrainedRanking.Crowding(pObjs, pViol, _rank);
    }

    private Design MakeChild()
    {
        var a = _parents[Tournament()].Design;
        Design child = a;
        if (_rng.NextDouble() < options.CrossoverRate)
        {
            var b = _parents[Tournament()].Design;
            child = Operators.Crossover(a, b, _rng);
        }
        // Always mutate: in small discrete spaces crossover of similar parents mostly reproduces a parent.
        return Operators.Mutate(child, _rng, options.MutationRate);
    }

    private int Tournament()
    {
        int i = _rng.Next(_parents.Count), j = _rng.Next(_parents.Count);
        if (_rank[i] != _rank[j]) return _rank[i] < _rank[j] ? i : j;
        if (_crowd[i] != _crowd[j]) return _crowd[i] > _crowd[j] ? i : j;
        return _rng.Next(2) == 0 ? i : j;
    }
}
