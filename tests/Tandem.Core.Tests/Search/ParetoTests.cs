using Tandem.Core.Search.Pareto;

namespace Tandem.Core.Tests.Search;

public class ParetoTests
{
    /// <summary>Exact hypervolume with integer coordinates: count the unit cells dominated by some point.</summary>
    private static long BruteForce(IReadOnlyList<double[]> points, int[] reference)
    {
        int d = reference.Length;
        long count = 0;
        var cell = new int[d];
        while (true)
        {
            // cell c covers [c, c+1)^d; it is dominated when some point p has p ≤ c in every coordinate.
            foreach (var p in points)
            {
                bool covers = true;
                for (int k = 0; k < d && covers; k++) covers = p[k] <= cell[k];
                if (covers) { count++; break; }
            }
            int i = d - 1;
            while (i >= 0 && ++cell[i] == reference[i]) { cell[i] = 0; i--; }
            if (i < 0) return count;
        }
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    [InlineData(3, 4)]
    [InlineData(4, 5)]
    [InlineData(5, 6)]
    public void Hypervolume_equals_brute_force_cell_counting(int dims, int seed)
    {
        var rng = new Random(seed);
        int side = dims <= 3 ? 12 : 6;
        for (int round = 0; round < 15; round++)
        {
            int n = rng.Next(1, dims <= 3 ? 25 : 10);
            var points = Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, dims).Select(_ => (double)rng.Next(0, side + 2)).ToArray()).ToList();
            var reference = Enumerable.Repeat(side, dims).ToArray();
            double hv = Hypervolume.Compute(points, reference.Select(r => (double)r).ToArray());
            Assert.Equal(BruteForce(points, reference), hv, 9);
        }
    }

    [Fact]
    public void Hypervolume_handles_duplicates_dominated_points_and_points_outside_the_reference()
    {
        var pts = new List<double[]> { new[] { 1.0, 3.0 }, new[] { 1.0, 3.0 }, new[] { 2.0, 4.0 }, new[] { 3.0, 1.0 }, new[] { 5.0, 0.0 }, new[] { 0.0, 6.0 } };
        // reference (4, 5): [1,4]x[3,5] ∪ [3,4]x[1,5] = 6 + 2 − 0 … computed by hand: 3·2 + 1·(3−1) = 8
        Assert.Equal(8, Hypervolume.Compute(pts, [4, 5]), 12);
        Assert.Equal(0, Hypervolume.Compute([new[] { 4.0, 1.0 }], [4, 5]));
        Assert.Equal(3, Hypervolume.Compute([new[] { 2.0 }], [5]));
    }

    [Fact]
    public void Hypervolume_improvement_is_zero_for_dominated_candidates_and_exact_otherwise()
    {
        var front = new List<double[]> { new[] { 1.0, 3.0 }, new[] { 3.0, 1.0 } };
        Assert.Equal(0, Hypervolume.Improvement(front, [2, 3.5], [4, 4]));
        Assert.Equal(1, Hypervolume.Improvement(front, [2, 2], [4, 4]), 12);
    }

    [Fact]
    public void Four_dimensional_hypervolume_of_a_single_box_and_of_two_overlapping_boxes()
    {
        Assert.Equal(16, Hypervolume.Compute([new[] { 0.0, 0, 0, 0 }], [2, 2, 2, 2]), 12);
        // boxes of volume 2·2·2·2 = 16 and 2·2·1·3 = 12 overlapping in 2·2·1·2 = 8
        Assert.Equal(20, Hypervolume.Compute([new[] { 0.0, 0, 0, 1 }, new[] { 0.0, 0, 1, 0 }], [2, 2, 2, 3]), 12);
    }

    [Fact]
    public void Crowding_distance_gives_extremes_infinity_and_interior_points_normalised_gaps()
    {
        var front = new[] { new[] { 0.0, 4.0 }, new[] { 1.0, 2.0 }, new[] { 3.0, 1.0 }, new[] { 4.0, 0.0 } };
        var d = CrowdingDistance.Compute(front);
        Assert.True(double.IsPositiveInfinity(d[0]) && double.IsPositiveInfinity(d[3]));
        Assert.Equal((3.0 - 0) / 4 + (4.0 - 1) / 4, d[1], 12);
        Assert.Equal((4.0 - 1) / 4 + (2.0 - 0) / 4, d[2], 12);
        Assert.All(CrowdingDistance.Compute([new[] { 1.0, 1.0 }, new[] { 2.0, 0.0 }]), x => Assert.True(double.IsPositiveInfinity(x)));
    }

    [Fact]
    public void Constrained_ranking_puts_feasible_fronts_first_then_infeasible_by_violation()
    {
        double[]?[] objs = [[1, 1], [0, 2], [2, 2], [0, 0], null, [5, 5]];
        double[] viol = [0, 0, 0, 0.5, double.PositiveInfinity, 0.1];
        var rank = ConstrainedRanking.Rank(objs, viol);
        Assert.Equal([0, 0, 1, 3, 4, 2], rank);
        Assert.True(ConstrainedRanking.Dominates(objs[2], 0, objs[3], 0.5)); // feasible beats infeasible, whatever the objectives
        Assert.True(ConstrainedRanking.Dominates(objs[5], 0.1, objs[3], 0.5));
        Assert.False(ConstrainedRanking.Dominates(objs[0], 0, objs[1], 0));
        Assert.Equal([0, 1, 2, 5, 3, 4], ConstrainedRanking.Order(objs, viol));
    }

    [Fact]
    public void Exact_front_keeps_ties_and_the_tracker_reaches_one_when_everything_is_seen()
    {
        var pts = new List<(string, double[])> { ("a", [1, 3]), ("b", [1, 3]), ("c", [2, 2]), ("d", [3, 3]), ("e", [3, 1]) };
        var exact = new Tandem.Core.Benchmarking.ExactFront(pts);
        Assert.Equal(["a", "b", "c", "e"], exact.Members.Select(m => m.Key).Order());
        Assert.Equal([3.0, 3.0], exact.Nadir);
        var tracker = new Tandem.Core.Benchmarking.ParetoTracker(exact);
        tracker.Add("d", [3, 3], true);
        Assert.Equal(0, tracker.HypervolumeRatio);
        tracker.Add("c", [2, 2], true);
        Assert.Equal(0.25, tracker.FrontFraction);
        foreach (var (k, v) in pts) tracker.Add(k, v, true);
        Assert.Equal(1, tracker.HypervolumeRatio, 12);
        Assert.Equal(1, tracker.FrontFraction);
    }
}
