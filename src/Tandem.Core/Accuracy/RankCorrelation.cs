namespace Tandem.Core.Accuracy;

/// <summary>
/// Rank agreement between two scorings of the same items, used to judge how well a cheap fidelity
/// ranks designs compared with a more expensive one. Both statistics lie in [−1, 1]: 1 is the same
/// order, −1 the reverse, 0 no relation. Ties are handled (Kendall's τ-b; Spearman's ρ as the Pearson
/// correlation of average ranks). NaN when fewer than two items or when one side is constant.
/// </summary>
public static class RankCorrelation
{
    public static double KendallTau(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        Check(x, y);
        int n = x.Count;
        long concordant = 0, discordant = 0, tiesX = 0, tiesY = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                int sx = Math.Sign(x[i] - x[j]), sy = Math.Sign(y[i] - y[j]);
                if (sx == 0 && sy == 0) continue;
                if (sx == 0) { tiesX++; continue; }
                if (sy == 0) { tiesY++; continue; }
                if (sx == sy) concordant++; else discordant++;
            }
        double denom = Math.Sqrt((double)(concordant + discordant + tiesX) * (concordant + discordant + tiesY));
        return denom == 0 ? double.NaN : (concordant - discordant) / denom;
    }

    public static double SpearmanRho(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        Check(x, y);
        return Pearson(Ranks(x), Ranks(y));
    }

    /// <summary>Average ranks (1-based; tied values share the mean of their positions).</summary>
    public static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && values[order[j + 1]] == values[order[i]]) j++;
            double rank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) ranks[order[k]] = rank;
            i = j + 1;
        }
        return ranks;
    }

    /// <summary>Pearson's correlation of two equally long lists; NaN with fewer than two items or a constant side.</summary>
    public static double PearsonR(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        Check(x, y);
        return Pearson([.. x], [.. y]);
    }

    private static double Pearson(double[] a, double[] b)
    {
        if (a.Length < 2) return double.NaN;
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return saa == 0 || sbb == 0 ? double.NaN : sab / Math.Sqrt(saa * sbb);
    }

    private static void Check(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException($"rank correlation needs equally long lists (got {x.Count} and {y.Count})");
        if (x.Any(double.IsNaN) || y.Any(double.IsNaN)) throw new ArgumentException("rank correlation of NaN values is undefined");
    }
}
