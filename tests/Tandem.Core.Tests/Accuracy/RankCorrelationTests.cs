using Tandem.Core.Accuracy;

namespace Tandem.Core.Tests.Accuracy;

public sealed class RankCorrelationTests
{
    [Fact]
    public void Same_order_is_one_and_reverse_order_is_minus_one()
    {
        double[] x = [1, 2, 3, 4, 5];
        Assert.Equal(1, RankCorrelation.KendallTau(x, [10, 20, 30, 40, 50]), 12);
        Assert.Equal(1, RankCorrelation.SpearmanRho(x, [1, 4, 9, 16, 25]), 12);
        Assert.Equal(-1, RankCorrelation.KendallTau(x, [5, 4, 3, 2, 1]), 12);
        Assert.Equal(-1, RankCorrelation.SpearmanRho(x, [5, 4, 3, 2, 1]), 12);
    }

    [Fact]
    public void Known_values_with_one_swap()
    {
        // One discordant pair of 10: τ = (9 − 1) / 10; ρ = 1 − 6·2 / (5·24) = 0.9.
        double[] x = [1, 2, 3, 4, 5], y = [1, 2, 3, 5, 4];
        Assert.Equal(0.8, RankCorrelation.KendallTau(x, y), 12);
        Assert.Equal(0.9, RankCorrelation.SpearmanRho(x, y), 12);
    }

    [Fact]
    public void Ties_use_tau_b_and_average_ranks()
    {
        double[] x = [1, 1, 2, 3], y = [1, 2, 3, 4];
        // Pairs: 5 concordant, 1 tied in x; τ-b = 5 / sqrt(5 · 6).
        Assert.Equal(5 / Math.Sqrt(30), RankCorrelation.KendallTau(x, y), 12);
        Assert.Equal([1.5, 1.5, 3, 4], RankCorrelation.Ranks(x));
    }

    [Fact]
    public void Constant_side_has_no_correlation()
    {
        Assert.True(double.IsNaN(RankCorrelation.KendallTau([1, 1, 1], [1, 2, 3])));
        Assert.True(double.IsNaN(RankCorrelation.SpearmanRho([1, 1, 1], [1, 2, 3])));
    }

    [Fact]
    public void Lists_of_different_length_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => RankCorrelation.KendallTau([1, 2], [1, 2, 3]));
    }
}
