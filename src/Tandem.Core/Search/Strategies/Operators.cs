using Tandem.Core.Spaces;
using Tandem.Core.Studies;

namespace Tandem.Core.Search.Strategies;

/// <summary>A told design with its minimisation vector (null when the outcome has no objective values) and total violation.</summary>
internal sealed record Individual(Design Design, double[]? Objectives, double Violation)
{
    public bool Feasible => Objectives is not null && Violation == 0;

    public static Individual From(StrategyContext context, Design design, TrialOutcome outcome) =>
        new(design, context.ObjectiveVector(outcome), context.Violation(outcome));
}

/// <summary>
/// Variation operators shared by the evolutionary strategies, each suited to a parameter kind:
/// categorical values jump to another choice; ordinal and integer values step to a neighbouring
/// position most of the time (their order means something) and jump otherwise; float values take a
/// Gaussian step in the unit interval. Crossover is uniform for discrete values and SBX (simulated
/// binary crossover) for floats.
/// </summary>
internal static class Operators
{
    /// <summary>Probability that an ordinal/integer mutation is a ±1 step rather than a uniform jump.</summary>
    private const double LocalStepProbability = 0.7;

    /// <summary>Standard deviation of a float mutation in the unit interval.</summary>
    private const double FloatSigma = 0.1;

    /// <summary>
    /// Mutates each parameter with probability <paramref name="rate"/> (≤ 0 means 1/number of
    /// mutable parameters), always changing at least one parameter that can change.
    /// </summary>
    public static Design Mutate(Design design, Random rng, double rate)
    {
        var space = design.Space;
        var mutable = Enumerable.Range(0, space.Count).Where(i => space[i].Kind == ParameterKind.Float || space[i].Cardinality > 1).ToArray();
        if (mutable.Length == 0) return design;
        if (rate <= 0) rate = 1.0 / mutable.Length;
        var values = design.ToArray();
        bool changed = false;
        foreach (int i in mutable)
            if (rng.NextDouble() < rate) { values[i] = MutateValue(space[i], values[i], rng); changed = true; }
        if (!changed)
        {
            int i = mutable[rng.Next(mutable.Length)];
            values[i] = MutateValue(space[i], values[i], rng);
        }
        return space.Create(values);
    }

    public static double MutateValue(Parameter p, double value, Random rng)
    {
        switch (p.Kind)
        {
            case ParameterKind.Float:
            {
                double u = p.ToUnit(value) + FloatSigma * Gaussian(rng);
                if (u < 0) u = -u;
                if (u > 1) u = 2 - u;
                return p.FromUnit(Math.Clamp(u, 0, 1));
            }
            case ParameterKind.Categorical:
            {
                int n = p.Cardinality, at = p.IndexOf(value);
                int pick = rng.Next(n - 1);
                return p.ValueAt(pick >= at ? pick + 1 : pick);
            }
            default:
            {
                int n = p.Cardinality, at = p.IndexOf(value);
                if (rng.NextDouble() < LocalStepProbability)
                {
                    int step = at == 0 ? 1 : at == n - 1 ? -1 : (rng.Next(2) == 0 ? -1 : 1);
                    return p.ValueAt(at + step);
                }
                int pick = rng.Next(n - 1);
                return p.ValueAt(pick >= at ? pick + 1 : pick);
            }
        }
    }

    /// <summary>One child of two parents: uniform crossover for discrete parameters, SBX (η = 15) for floats.</summary>
    public static Design Crossover(Design a, Design b, Random rng)
    {
        var space = a.Space;
        var values = new double[space.Count];
        for (int i = 0; i < space.Count; i++)
        {
            var p = space[i];
            if (p.Kind != ParameterKind.Float) { values[i] = rng.Next(2) == 0 ? a[i] : b[i]; continue; }
            double x1 = p.ToUnit(a[i]), x2 = p.ToUnit(b[i]);
            double u = rng.NextDouble();
            const double eta = 15;
            double beta = u <= 0.5 ? Math.Pow(2 * u, 1 / (eta + 1)) : Math.Pow(1 / (2 * (1 - u)), 1 / (eta + 1));
            double child = 0.5 * ((1 + beta) * x1 + (1 - beta) * x2);
            if (rng.Next(2) == 0) child = 0.5 * ((1 - beta) * x1 + (1 + beta) * x2);
            values[i] = p.FromUnit(Math.Clamp(child, 0, 1));
        }
        return space.Create(values);
    }

    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>
    /// Draws designs from <paramref name="make"/> until one is not in <paramref name="seen"/> (at most
    /// <paramref name="attempts"/> tries; the last draw is returned either way, and the runner's cache
    /// answers it if it is a duplicate).
    /// </summary>
    public static Design Fresh(Func<Design> make, ISet<string> seen, int attempts = 64)
    {
        Design d = make();
        for (int i = 1; i < attempts && seen.Contains(d.Key); i++) d = make();
        return d;
    }

    /// <summary>True when every design of a discrete space has been seen.</summary>
    public static bool Exhausted(DesignSpace space, ICollection<string> seen) => space.Size is { } n && seen.Count >= n;
}
