namespace Tandem.Core.Search.Pareto;

/// <summary>
/// NSGA-II's crowding distance (Deb et al. 2002) of the members of one front: for each objective,
/// the gap between a member's two neighbours in that objective divided by the objective's range,
/// summed over objectives. The extreme members of every objective with a non-zero range get
/// +∞ so they are always kept. Objectives whose range is zero add nothing. Result order = input order.
/// </summary>
public static class CrowdingDistance
{
    public static double[] Compute(IReadOnlyList<double[]> front)
    {
        int n = front.Count;
        var distance = new double[n];
        if (n == 0) return distance;
        if (n <= 2)
        {
            Array.Fill(distance, double.PositiveInfinity);
            return distance;
        }
        int m = front[0].Length;
        var order = new int[n];
        for (int k = 0; k < m; k++)
        {
            for (int i = 0; i < n; i++) order[i] = i;
            // Ties broken by index so the result does not depend on the sort's stability.
            Array.Sort(order, (a, b) => front[a][k] != front[b][k] ? front[a][k].CompareTo(front[b][k]) : a.CompareTo(b));
            double min = front[order[0]][k], max = front[order[n - 1]][k];
            double range = max - min;
            if (!(range > 0) || !double.IsFinite(range)) continue;
            distance[order[0]] = double.PositiveInfinity;
            distance[order[n - 1]] = double.PositiveInfinity;
            for (int i = 1; i < n - 1; i++)
                distance[order[i]] += (front[order[i + 1]][k] - front[order[i - 1]][k]) / range;
        }
        return distance;
    }
}
