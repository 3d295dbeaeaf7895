namespace Tandem.Core.Search.Pareto;

/// <summary>
/// Deb's constrained domination (2002): a feasible point (violation 0) beats an infeasible one; of
/// two infeasible points the one with the smaller total violation wins; of two feasible points
/// Pareto dominance decides. <see cref="Rank"/> gives every point its front number under this
/// relation (0 = best) and <see cref="Order"/> a total order (rank, then larger crowding distance,
/// then index), which is what NSGA-II's environmental selection and tournaments use. A point without
/// objective values (null) is treated as infeasible with infinite violation.
/// </summary>
public static class ConstrainedRanking
{
    /// <summary>Front number of every point (feasible fronts first, then infeasible by increasing violation).</summary>
    public static int[] Rank(IReadOnlyList<double[]?> objectives, IReadOnlyList<double> violations)
    {
        int n = objectives.Count;
        var rank = new int[n];
        var feasible = new List<int>();
        var infeasible = new List<int>();
        for (int i = 0; i < n; i++)
        {
            if (objectives[i] is not null && violations[i] == 0) feasible.Add(i);
            else infeasible.Add(i);
        }
        int next = 0;
        if (feasible.Count > 0)
        {
            var fronts = NonDominatedSorting.Sort(feasible.Select(i => objectives[i]!).ToArray());
            foreach (var f in fronts)
            {
                foreach (int j in f) rank[feasible[j]] = next;
                next++;
            }
        }
        var byViolation = infeasible.OrderBy(i => Key(objectives[i], violations[i])).ThenBy(i => i).ToList();
        double? last = null;
        foreach (int i in byViolation)
        {
            double v = Key(objectives[i], violations[i]);
            if (last is double l && v != l) next++;
            rank[i] = next;
            last = v;
        }
        return rank;
    }

    private static double Key(double[]? objectives, double violation) =>
        objectives is null || double.IsNaN(violation) ? double.PositiveInfinity : violation;

    /// <summary>Crowding distance of every point within its own rank (infeasible ranks get 0).</summary>
    public static double[] Crowding(IReadOnlyList<double[]?> objectives, IReadOnlyList<double> violations, int[] rank)
    {
        var crowd = new double[objectives.Count];
        foreach (var group in Enumerable.Range(0, objectives.Count).GroupBy(i => rank[i]))
        {
            var members = group.ToArray();
            if (members.Any(i => objectives[i] is null || violations[i] != 0)) continue;
            var d = CrowdingDistance.Compute(members.Select(i => objectives[i]!).ToArray());
            for (int k = 0; k < members.Length; k++) crowd[members[k]] = d[k];
        }
        return crowd;
    }

    /// <summary>Indices from best to worst: rank ascending, crowding distance descending, index ascending.</summary>
    public static int[] Order(IReadOnlyList<double[]?> objectives, IReadOnlyList<double> violations)
    {
        var rank = Rank(objectives, violations);
        var crowd = Crowding(objectives, violations, rank);
        return Enumerable.Range(0, objectives.Count)
            .OrderBy(i => rank[i]).ThenByDescending(i => crowd[i]).ThenBy(i => i).ToArray();
    }

    /// <summary>True when point a beats point b under constrained domination.</summary>
    public static bool Dominates(double[]? a, double va, double[]? b, double vb)
    {
        bool fa = a is not null && va == 0, fb = b is not null && vb == 0;
        if (fa && !fb) return true;
        if (!fa && fb) return false;
        if (!fa) return Key(a, va) < Key(b, vb);
        return NonDominatedSorting.Dominates(a, b);
    }
}
