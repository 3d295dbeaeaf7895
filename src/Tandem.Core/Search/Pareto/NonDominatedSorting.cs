namespace Tandem.Core.Search.Pareto;

/// <summary>
/// Pareto dominance and non-dominated sorting over minimisation vectors (orient objectives first,
/// e.g. with <c>StrategyContext.ObjectiveVector</c>). All vectors must have the same length.
/// </summary>
public static class NonDominatedSorting
{
    /// <summary>True when <paramref name="a"/> is no worse than <paramref name="b"/> everywhere and better somewhere.</summary>
    public static bool Dominates(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        bool strictly = false;
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] > b[i]) return false;
            if (a[i] < b[i]) strictly = true;
        }
        return strictly;
    }

    /// <summary>Indices of the non-dominated points (first front), in input order. Duplicates are all kept.</summary>
    public static int[] FirstFront(IReadOnlyList<double[]> points)
    {
        var result = new List<int>();
        for (int i = 0; i < points.Count; i++)
        {
            bool dominated = false;
            for (int j = 0; j < points.Count && !dominated; j++)
                if (j != i && Dominates(points[j], points[i])) dominated = true;
            if (!dominated) result.Add(i);
        }
        return result.ToArray();
    }

    /// <summary>
    /// Fast non-dominated sort (Deb et al. 2002): fronts of indices, best first. O(M·N²) time.
    /// </summary>
    public static List<int[]> Sort(IReadOnlyList<double[]> points)
    {
        int n = points.Count;
        var dominatedBy = new List<int>[n];
        var count = new int[n];
        var fronts = new List<int[]>();
        var current = new List<int>();
        for (int i = 0; i < n; i++)
        {
            dominatedBy[i] = [];
            for (int j = 0; j < n; j++)
            {
                if (i == j) continue;
                if (Dominates(points[i], points[j])) dominatedBy[i].Add(j);
                else if (Dominates(points[j], points[i])) count[i]++;
            }
            if (count[i] == 0) current.Add(i);
        }
        while (current.Count > 0)
        {
            fronts.Add(current.ToArray());
            var next = new List<int>();
            foreach (int i in current)
                foreach (int j in dominatedBy[i])
                    if (--count[j] == 0) next.Add(j);
            next.Sort();
            current = next;
        }
        return fronts;
    }
}
