namespace Tandem.Core.Search.Pareto;

/// <summary>
/// Exact hypervolume of a set of minimisation vectors with respect to a reference point: the
/// Lebesgue measure of the region dominated by at least one point and bounded by the reference.
/// Points that are not strictly better than the reference in every objective add nothing and are
/// ignored. Exact algorithms: a sort-and-sweep in 2 dimensions (O(n log n)), a sweep over the third
/// objective with an incrementally maintained 2-D staircase in 3 dimensions (O(n²) worst case), and
/// WFG (While, Bradstreet, Barone 2012) above that, whose base case is the 3-D sweep. Inputs are
/// not modified; the result is in the product of the objectives' units.
/// </summary>
public static class Hypervolume
{
    /// <summary>Hypervolume of <paramref name="points"/> (minimisation) bounded by <paramref name="reference"/>.</summary>
    public static double Compute(IReadOnlyList<double[]> points, IReadOnlyList<double> reference)
    {
        int d = reference.Count;
        if (d == 0) throw new ArgumentException("the reference point has no coordinates", nameof(reference));
        var inside = new List<double[]>(points.Count);
        foreach (var p in points)
        {
            if (p.Length != d) throw new ArgumentException($"a point has {p.Length} coordinates but the reference has {d}", nameof(points));
            bool ok = true;
            for (int i = 0; i < d && ok; i++) ok = p[i] < reference[i] && !double.IsNaN(p[i]);
            if (ok) inside.Add(p);
        }
        if (inside.Count == 0) return 0;
        var r = reference.ToArray();
        return d switch
        {
            1 => r[0] - inside.Min(p => p[0]),
            2 => Sweep2D(inside, r),
            3 => Sweep3D(inside, r),
            _ => Wfg(NonDominated(inside), r),
        };
    }

    /// <summary>How much <paramref name="candidate"/> would add to the hypervolume of <paramref name="points"/>.</summary>
    public static double Improvement(IReadOnlyList<double[]> points, double[] candidate, IReadOnlyList<double> reference)
    {
        for (int i = 0; i < candidate.Length; i++)
            if (!(candidate[i] < reference[i])) return 0;
        foreach (var p in points)
            if (WeaklyDominates(p, candidate)) return 0;
        var with = new List<double[]>(points.Count + 1);
        with.AddRange(points);
        with.Add(candidate);
        return Compute(with, reference) - Compute(points, reference);
    }

    private static bool WeaklyDominates(double[] a, double[] b)
    {
        for (int i = 0; i < a.Length; i++) if (a[i] > b[i]) return false;
        return true;
    }

    internal static double Sweep2D(List<double[]> pts, double[] r)
    {
        var sorted = pts.OrderBy(p => p[0]).ThenBy(p => p[1]).ToArray();
        double area = 0, bestY = r[1];
        foreach (var p in sorted)
        {
            if (p[1] >= bestY) continue; // dominated by an earlier point (smaller or equal x, smaller y)
            area += (r[0] - p[0]) * (bestY - p[1]);
            bestY = p[1];
        }
        return area;
    }

    internal static double Sweep3D(List<double[]> pts, double[] r)
    {
        // Sweep z upwards; between consecutive z values the slice is the 2-D staircase of points seen so far.
        var sorted = pts.OrderBy(p => p[2]).ToArray();
        var stairs = new List<(double X, double Y)>(); // x ascending, y strictly descending
        double volume = 0, area = 0;
        for (int i = 0; i < sorted.Length; i++)
        {
            var p = sorted[i];
            if (Insert(stairs, p[0], p[1])) area = StairArea(stairs, r[0], r[1]);
            double nextZ = i + 1 < sorted.Length ? sorted[i + 1][2] : r[2];
            volume += area * (nextZ - p[2]);
        }
        return volume;
    }

    private static bool Insert(List<(double X, double Y)> stairs, double x, double y)
    {
        // First stair with X > x; the one before it (if any) has X ≤ x and the smallest Y among those.
        int lo = 0, hi = stairs.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (stairs[mid].X <= x) lo = mid + 1; else hi = mid;
        }
        if (lo > 0 && stairs[lo - 1].Y <= y) return false; // weakly dominated
        int end = lo;
        while (end < stairs.Count && stairs[end].Y >= y) end++;
        int start = lo;
        // An equal-x predecessor with larger y is dominated by the new point too.
        if (start > 0 && stairs[start - 1].X == x) start--;
        stairs.RemoveRange(start, end - start);
        stairs.Insert(start, (x, y));
        return true;
    }

    private static double StairArea(List<(double X, double Y)> stairs, double rx, double ry)
    {
        double area = 0;
        for (int i = 0; i < stairs.Count; i++)
        {
            double right = i + 1 < stairs.Count ? stairs[i + 1].X : rx;
            area += (right - stairs[i].X) * (ry - stairs[i].Y);
        }
        return area;
    }

    private static List<double[]> NonDominated(List<double[]> pts)
    {
        var result = new List<double[]>(pts.Count);
        for (int i = 0; i < pts.Count; i++)
        {
            bool dominated = false;
            for (int j = 0; j < pts.Count && !dominated; j++)
            {
                if (i == j) continue;
                // Strict dominance, or an exact duplicate with a smaller index (keep one copy).
                dominated = NonDominatedSorting.Dominates(pts[j], pts[i]) || (j < i && pts[j].AsSpan().SequenceEqual(pts[i]));
            }
            if (!dominated) result.Add(pts[i]);
        }
        return result;
    }

    // WFG: the hypervolume of a non-dominated set is the sum of each point's exclusive contribution
    // when points are taken in order of the last objective.
    private static double Wfg(List<double[]> pts, double[] r)
    {
        int d = r.Length;
        if (d <= 3) return d == 2 ? Sweep2D(pts, r) : Sweep3D(pts, r);
        if (pts.Count == 0) return 0;
        if (pts.Count == 1) return Inclusive(pts[0], r);
        pts = pts.OrderByDescending(p => p[d - 1]).ToList();
        double total = 0;
        for (int k = 0; k < pts.Count; k++)
        {
            double incl = Inclusive(pts[k], r);
            var limited = new List<double[]>(pts.Count - k - 1);
            for (int j = k + 1; j < pts.Count; j++)
            {
                var q = new double[d];
                for (int i = 0; i < d; i++) q[i] = Math.Max(pts[k][i], pts[j][i]);
                limited.Add(q);
            }
            total += incl - Wfg(NonDominated(limited), r);
        }
        return total;
    }

    private static double Inclusive(double[] p, double[] r)
    {
        double v = 1;
        for (int i = 0; i < r.Length; i++) v *= r[i] - p[i];
        return v;
    }
}
