using Tandem.Core.Search.Pareto;

namespace Tandem.Core.Benchmarking;

/// <summary>
/// The exact Pareto front of a finite set of designs (minimisation vectors, feasible designs only),
/// its nadir (the worst value of each objective over the front) used as the hypervolume reference
/// point, and its hypervolume. Members are identified by key; designs with equal vectors are all members.
/// </summary>
public sealed class ExactFront
{
    public ExactFront(IReadOnlyList<(string Key, double[] Vector)> feasible)
    {
        if (feasible.Count == 0) throw new InputException("no design meets the constraints, so there is no Pareto front to compare against");
        var members = FrontOf(feasible);
        Members = members;
        Keys = members.Select(m => m.Key).ToHashSet(StringComparer.Ordinal);
        int d = members[0].Vector.Length;
        Nadir = Enumerable.Range(0, d).Select(k => members.Max(m => m.Vector[k])).ToArray();
        Hypervolume = Search.Pareto.Hypervolume.Compute(members.Select(m => m.Vector).ToArray(), Nadir);
        Size = members.Count;
    }

    public IReadOnlyList<(string Key, double[] Vector)> Members { get; }
    public IReadOnlySet<string> Keys { get; }
    public double[] Nadir { get; }
    public double Hypervolume { get; }
    public int Size { get; }

    /// <summary>
    /// Non-dominated members in O(n·|front|): after a lexicographic sort no point can be dominated by
    /// a later one, so each point is checked against the front built so far only.
    /// </summary>
    public static List<(string Key, double[] Vector)> FrontOf(IReadOnlyList<(string Key, double[] Vector)> points)
    {
        var sorted = points.OrderBy(p => p.Vector, LexicographicComparer.Instance).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
        var front = new List<(string Key, double[] Vector)>();
        foreach (var p in sorted)
            if (!front.Any(f => NonDominatedSorting.Dominates(f.Vector, p.Vector))) front.Add(p);
        return front;
    }

    private sealed class LexicographicComparer : IComparer<double[]>
    {
        public static readonly LexicographicComparer Instance = new();

        public int Compare(double[]? a, double[]? b)
        {
            for (int i = 0; i < a!.Length; i++)
            {
                int c = a[i].CompareTo(b![i]);
                if (c != 0) return c;
            }
            return 0;
        }
    }
}

/// <summary>
/// Follows one search run trial by trial: the hypervolume of the feasible designs found so far
/// (with the exact front's nadir as reference) divided by the exact front's, and the fraction of
/// exact-front members found. Both are non-decreasing in the number of evaluations.
/// </summary>
public sealed class ParetoTracker(ExactFront exact)
{
    private readonly List<double[]> _front = [];
    private readonly HashSet<string> _found = new(StringComparer.Ordinal);
    private double _hv;

    public double HypervolumeRatio => exact.Hypervolume > 0 ? _hv / exact.Hypervolume : 1;
    public double FrontFraction => (double)_found.Count / exact.Size;
    public int FrontFound => _found.Count;

    /// <summary>Records one evaluated design (vector null or infeasible designs only count as spent budget).</summary>
    public void Add(string key, double[]? vector, bool feasible)
    {
        if (vector is null || !feasible) return;
        if (exact.Keys.Contains(key)) _found.Add(key);
        if (_front.Any(f => Dominated(vector, f))) return;
        _front.RemoveAll(f => NonDominatedSorting.Dominates(vector, f));
        _front.Add(vector);
        _hv = Hypervolume.Compute(_front, exact.Nadir);
    }

    private static bool Dominated(double[] v, double[] by) => NonDominatedSorting.Dominates(by, v) || by.AsSpan().SequenceEqual(v);
}
