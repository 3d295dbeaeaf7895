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
