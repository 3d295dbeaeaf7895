using Tandem.Core.Search.Pareto;
using Tandem.Core.Search.Strategies;

namespace Tandem.Core.Tests.Search;

public class ParetoMembershipTests
{
    /// <summary>Brute force: draw every design independently, count the draws in which each is non-dominated by the known points and the other draws.</summary>
    private static double[] MonteCarlo(double[][] known, double[][] means, double[][] stds, int draws, int seed)
    {
        var rng = new Random(seed);
        int n = means.Length;
        var hits = new int[n];
        var y = new double[n][];
        for (int t = 0; t < draws; t++)
        {
            for (int i = 0; i < n; i++)
                y[i] = [means[i][0] + stds[i][0] * Gaussian(rng), means[i][1] + stds[i][1] * Gaussian(rng)];
            for (int i = 0; i < n; i++)
            {
                bool dominated = known.Any(p => p[0] <= y[i][0] && p[1] <= y[i][1]);
                for (int j = 0; j < n && !dominated; j++)
                    dominated = j != i && NonDominatedSorting.Dominates(y[j], y[i]);
                if (!dominated) hits[i]++;
            }
        }
        return hits.Select(h => (double)h / draws).ToArray();
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Independent_two_objective_membership_matches_brute_force(int seed)
    {
        var rng = new Random(seed);
        var known = new[] { new[] { 0.0, 1.0 }, [0.5, 0.4], [1.0, 0.0] };
        var means = Enumerable.Range(0, 6).Select(_ => new[] { rng.NextDouble() * 1.2 - 0.1, rng.NextDouble() * 1.2 - 0.1 }).ToArray();
        var stds = Enumerable.Range(0, 6).Select(_ => new[] { 0.05 + 0.3 * rng.NextDouble(), 0.05 + 0.3 * rng.NextDouble() }).ToArray();
        var exact = ParetoMembership.Independent2D(known, means, stds, nodes: 64);
        var mc = MonteCarlo(known, means, stds, 100_000, seed + 100);
        for (int i = 0; i < means.Length; i++)
            Assert.True(Math.Abs(exact[i] - mc[i]) < 0.015, $"design {i}: quadrature {exact[i]:F4}, Monte Carlo {mc[i]:F4}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Rao_Blackwellised_draws_converge_to_the_quadrature(int seed)
    {
        var rng = new Random(seed);
        var known = new[] { new[] { 0.0, 1.0 }, [0.5, 0.4], [1.0, 0.0], [0.7, 0.9] };
        var means = Enumerable.Range(0, 8).Select(_ => new[] { rng.NextDouble() * 1.2 - 0.1, rng.NextDouble() * 1.2 - 0.1 }).ToArray();
        var stds = Enumerable.Range(0, 8).Select(_ => new[] { 0.02 + 0.3 * rng.NextDouble(), 0.02 + 0.3 * rng.NextDouble() }).ToArray();
        var exact = ParetoMembership.Independent2D(known, means, stds, nodes: 64);
        var rb = ParetoMembership.Conditional2D(known, means, stds, 20_000, new Random(seed + 50));
        for (int i = 0; i < means.Length; i++)
            Assert.True(Math.Abs(exact[i] - rb[i]) < 0.01, $"design {i}: quadrature {exact[i]:F4}, conditional draws {rb[i]:F4}");
        // deterministic given the generator, and point designs behave as points
        Assert.Equal(rb, ParetoMembership.Conditional2D(known, means, stds, 20_000, new Random(seed + 50)));
        var zero = new[] { 0.0, 0.0 };
        Assert.Equal([1.0, 0.0, 1.0], ParetoMembership.Conditional2D([new[] { 1.0, 1.0 }], [new[] { 0.5, 2.0 }, [2.0, 2.0], [1.5, 0.5]], [zero, zero, zero], 3, new Random(0)));
    }

    [Fact]
    public void Atoms_turn_ties_with_evaluated_designs_into_domination()
    {
        // An evaluated design sits exactly on an atom of objective 2 (value 0); a slower design predicted
        // at the atom escapes only if it lands below the atom's window: Φ(−0.3/0.2) ≈ 0.0668, not ½.
        var known = new[] { new[] { 0.0, 0.0 } };
        var mean = new[] { new[] { 0.1, 0.0 } };
        var std = new[] { new[] { 0.01, 0.2 } };
        double plain = ParetoMembership.Conditional2D(known, mean, std, 4, new Random(1))[0];
        Assert.Equal(0.5, plain, 3);
        var atoms = new[] { ParetoMembership.Atoms.None, new ParetoMembership.Atoms([0.0], 0.3) };
        double tied = ParetoMembership.Conditional2D(known, mean, std, 4, new Random(1), atoms)[0];
        Assert.Equal(BayesianOptimization.NormalCdf(-1.5), tied, 3);

        // the snapped CDF agrees with snapping Gaussian draws
        var a = new ParetoMembership.Atoms([-0.5, 0.4], 0.2);
        var rng = new Random(3);
        var draws = Enumerable.Range(0, 200_000).Select(_ => a.Snap(0.1 + 0.5 * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))).ToArray();
        foreach (double y in new[] { -0.8, -0.5, -0.4, 0.0, 0.4, 0.41, 0.7 })
        {
            double empirical = draws.Count(d => d < y) / (double)draws.Length;
            Assert.True(Math.Abs(empirical - a.CdfBelow(y, 0.1, 0.5)) < 0.004, $"y = {y}: draws {empirical:F4}, formula {a.CdfBelow(y, 0.1, 0.5):F4}");
        }

        // detection: a value shared by ≥ 5 % (and ≥ 3) of the observations
        var observed = new double[] { 10, 10, 10, 10, 50, 60, 70, 80, 10, 90 };
        var found = ParetoMembership.Atoms.Detect(observed, observed.Select(v => v / 100).ToList(), 0.05, 0.01);
        Assert.Equal(0.1, found.Snap(0.105), 12);
        Assert.Equal(0.5 + 0.005, found.Snap(0.505), 12);
        // the window reaches (almost) halfway to the nearest other observed value (0.5): a posterior
        // mean that misses the atom by a little, with a tiny noise, still ties it instead of beating it
        Assert.Equal(0.1, found.Snap(0.29), 12);
        Assert.Equal(0.31, found.Snap(0.31), 12);
        var knownAtom = new[] { new[] { 0.1, 0.0 } };
        var nearAtom = new[] { new[] { 0.0999, 0.5 } };
        var tiny = new[] { new[] { 1e-4, 0.01 } };
        Assert.True(ParetoMembership.Conditional2D(knownAtom, nearAtom, tiny, 8, new Random(2))[0] > 0.5);
        Assert.Equal(0, ParetoMembership.Conditional2D(knownAtom, nearAtom, tiny, 8, new Random(2), [found, ParetoMembership.Atoms.None])[0], 9);
        Assert.Same(ParetoMembership.Atoms.None, ParetoMembership.Atoms.Detect([1, 2, 3, 1], [1, 2, 3, 1], 0.05, 0.1));
    }

    [Fact]
    public void Joint_draws_with_no_correlation_agree_with_the_independent_formula()
    {
        var known = new[] { new[] { 0.2, 0.8 }, [0.8, 0.2] };
        var means = new[] { new[] { 0.3, 0.5 }, [0.5, 0.3], [0.6, 0.6], [0.1, 0.9] };
        var stds = new[] { new[] { 0.2, 0.1 }, [0.1, 0.2], [0.3, 0.3], [0.05, 0.2] };
        var cov = Enumerable.Range(0, 2).Select(k =>
        {
            var c = new double[4, 4];
            for (int i = 0; i < 4; i++) c[i, i] = stds[i][k] * stds[i][k];
            return c;
        }).ToArray();
        var mu = Enumerable.Range(0, 2).Select(k => means.Select(m => m[k]).ToArray()).ToArray();
        var joint = ParetoMembership.Estimate(known, mu, cov, 40_000, new Random(7));
        var exact = ParetoMembership.Independent2D(known, means, stds, nodes: 64);
        for (int i = 0; i < 4; i++) Assert.True(Math.Abs(joint[i] - exact[i]) < 0.015, $"design {i}: joint {joint[i]:F4}, independent {exact[i]:F4}");
    }

    [Fact]
    public void Certain_designs_are_members_exactly_when_nothing_dominates_them()
    {
        var known = new[] { new[] { 1.0, 1.0 } };
        var zero = new[] { 0.0, 0.0 };
        var means = new[] { new[] { 0.5, 2.0 }, [2.0, 2.0], [0.4, 2.5], [1.5, 0.5] };
        var p = ParetoMembership.Independent2D(known, means, [zero, zero, zero, zero], nodes: 5);
        // (2,2) is dominated by the known (1,1); (0.4,2.5) and (0.5,2) and (1.5,0.5) are mutually non-dominated.
        Assert.Equal([1.0, 0.0, 1.0, 1.0], p);
        // a lone uncertain design with nothing known is always a member
        Assert.Equal(1.0, ParetoMembership.Independent2D([], [new[] { 0.0, 0.0 }], [new[] { 1.0, 1.0 }])[0], 12);
        Assert.Empty(ParetoMembership.Independent2D(known, [], []));
    }

    [Fact]
    public void Probabilities_are_in_range_and_deterministic()
    {
        var rng = new Random(4);
        var means = Enumerable.Range(0, 200).Select(_ => new[] { rng.NextDouble(), rng.NextDouble() }).ToArray();
        var stds = Enumerable.Range(0, 200).Select(_ => new[] { 0.1 * rng.NextDouble(), 0.1 * rng.NextDouble() }).ToArray();
        var a = ParetoMembership.Independent2D([new[] { 0.3, 0.3 }], means, stds);
        Assert.All(a, v => Assert.InRange(v, 0, 1));
        Assert.Equal(a, ParetoMembership.Independent2D([new[] { 0.3, 0.3 }], means, stds));
        // the expected number of members among 200 uniform points is small (about ln 200 ≈ 5 without the known point)
        Assert.InRange(a.Sum(), 0.5, 12);
    }
}
