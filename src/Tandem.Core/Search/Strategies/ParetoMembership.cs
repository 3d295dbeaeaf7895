namespace Tandem.Core.Search.Strategies;

/// <summary>
/// The probability that each of M unevaluated designs is Pareto-optimal in the set made of those
/// designs and the evaluated ones (minimisation; evaluated designs fixed at their values), for BO's
/// "membership" acquisition. <see cref="Conditional2D"/> (two objectives, designs independent,
/// Rao–Blackwellised draws) is what the strategy uses; <see cref="Independent2D"/> computes the same
/// integral by quadrature, O(M²·nodes²), as the reference it is tested against; <see cref="Estimate"/>
/// (any number of objectives) samples the designs jointly, correlated within an objective through
/// the given covariances, and counts the draws in which nothing — evaluated or sampled — dominates
/// each. Invariants: one probability in [0, 1] per design, in input order; results depend only on
/// the inputs and the state of the given generator (deterministic given the seed).
/// </summary>
internal static class ParetoMembership
{
    /// <summary>
    /// Two objectives, designs independent: the probability that each design is Pareto-optimal in
    /// the set of all the given designs together with <paramref name="known"/> (evaluated, fixed
    /// values). Design i's value y is Gaussian with means[i] and stds[i] per objective (independent
    /// objectives); it is optimal when no known point weakly dominates y and no other design j lands
    /// in the quadrant below y, which has probability F_j1(y₁)·F_j2(y₂) (the marginal CDFs). So
    /// P_i = ∫ φ_i(y) · 1[y not dominated by known] · Π_{j≠i} (1 − F_j1(y₁) F_j2(y₂)) dy, integrated by a
    /// product midpoint rule at the <paramref name="nodes"/> × <paramref name="nodes"/> quantiles
    /// (k + ½)/nodes of design i's two marginals (exact as nodes → ∞). Factors with
    /// F_j1 F_j2 &lt; 1e-9 at design i's highest node are skipped, and a design whose survival is below
    /// e⁻²⁵ at every node is given 0. O(N² + N·J·nodes²) for J designs that can matter to each (put
    /// the likeliest dominators first: the scan of a hopeless design stops early). Invariants: one probability in [0, 1] per design, in input order;
    /// deterministic; a design with zero standard deviations is a point.
    /// </summary>
    /// <param name="known">Minimisation vectors (2-D) of the evaluated designs.</param>
    /// <param name="means">Per design, its two posterior means (minimisation).</param>
    /// <param name="stds">Per design, its two predictive standard deviations (≥ 0).</param>
    public static double[] Independent2D(IReadOnlyList<double[]> known, IReadOnlyList<double[]> means, IReadOnlyList<double[]> stds, int nodes = 10)
    {
        int n = means.Count;
        var result = new double[n];
        if (n == 0) return result;
        nodes = Math.Max(1, nodes);
        // Staircase of the known points: sorted by the first objective, second strictly decreasing.
        var stairs = new List<double[]>();
        foreach (var p in known.OrderBy(p => p[0]).ThenBy(p => p[1]))
            if (stairs.Count == 0 || p[1] < stairs[^1][1]) stairs.Add(p);
        var s1 = stairs.Select(p => p[0]).ToArray();
        var s2 = stairs.Select(p => p[1]).ToArray();
        // Smallest second objective among known points with first objective ≤ y1 (+∞ if none).
        double Ceiling(double y1)
        {
            int k = Array.BinarySearch(s1, y1);
            k = k >= 0 ? k : ~k - 1;
            // k = last index with s1 ≤ y1 (ties: BinarySearch may land on any equal one; s1 is strictly increasing).
            return k < 0 ? double.PositiveInfinity : s2[k];
        }
        var z = Enumerable.Range(0, nodes).Select(k => nodes == 1 ? 0 : GaussianProcess.NormalQuantile((k + 0.5) / nodes)).ToArray();
        var y1 = new double[nodes];
        var y2 = new double[nodes];
        var f1 = new double[nodes];
        var f2 = new double[nodes];
        var logSurvive = new double[nodes, nodes];
        // Competitors are scanned in input order (callers put the strongest first), skipping those whose
        // low corner (mean − 8σ) is beyond design i's highest node in either objective; once every
        // node's survival is below e⁻²⁵ the design cannot be a member and the scan stops.
        var low1 = Enumerable.Range(0, n).Select(j => means[j][0] - 8 * stds[j][0]).ToArray();
        var low2 = Enumerable.Range(0, n).Select(j => means[j][1] - 8 * stds[j][1]).ToArray();
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < nodes; k++)
            {
                y1[k] = means[i][0] + stds[i][0] * z[k];
                y2[k] = means[i][1] + stds[i][1] * z[k];
            }
            // Quick exit: if even the lowest node pair is dominated by a known point, so is every node.
            if (Ceiling(y1[0]) <= y2[0]) { result[i] = 0; continue; }
            Array.Clear(logSurvive);
            double top1 = y1[nodes - 1], top2 = y2[nodes - 1];
            bool hopeless = false;
            int counted = 0;
            for (int j = 0; j < n && !hopeless; j++)
            {
                if (j == i || low1[j] > top1 || low2[j] > top2) continue;
                double c1 = Cdf(top1, means[j][0], stds[j][0]);
                double c2 = Cdf(top2, means[j][1], stds[j][1]);
                if (c1 * c2 < 1e-9) continue;
                for (int k = 0; k < nodes; k++)
                {
                    f1[k] = Cdf(y1[k], means[j][0], stds[j][0]);
                    f2[k] = Cdf(y2[k], means[j][1], stds[j][1]);
                }
                for (int a = 0; a < nodes; a++)
                {
                    if (f1[a] == 0) continue;
                    for (int b = 0; b < nodes; b++)
                        logSurvive[a, b] += Math.Log(Math.Max(1 - f1[a] * f2[b], 1e-300));
                }
                if (++counted % 8 == 0)
                {
                    double most = double.NegativeInfinity;
                    foreach (double v in logSurvive) most = Math.Max(most, v);
                    hopeless = most < -25;
                }
            }
            if (hopeless) { result[i] = 0; continue; }
            double total = 0;
            for (int a = 0; a < nodes; a++)
            {
                double ceiling = Ceiling(y1[a]);
                for (int b = 0; b < nodes; b++)
                    if (y2[b] < ceiling) total += Math.Exp(logSurvive[a, b]);
            }
            result[i] = Math.Clamp(total / (nodes * nodes), 0, 1);
        }
        return result;
    }

    /// <summary>
    /// The same probabilities as <see cref="Independent2D"/> (two objectives, designs independent),
    /// estimated by Rao–Blackwellised Monte Carlo: each of <paramref name="draws"/> draws samples
    /// every design's value, and each design i is credited with the exact probability that its own
    /// value escapes the staircase of the known points and the other designs' samples
    /// (a sum over the stairs of F_i1 differences times F_i2, <see cref="BayesianOptimization.NonDominatedProbability2D"/>'s
    /// formula restricted to the stairs within ±8σ). Unbiased for every design, with far less variance
    /// than counting hits, and O(draws · (N log N + F·N)) for a front of F — cheap enough for a
    /// thousand designs at every ask. Deterministic given the state of <paramref name="rng"/>.
    /// </summary>
    /// <param name="atoms">Optional, per objective: values the outputs take exactly and repeatedly (e.g. the chance
    /// accuracy of every diverged network), each with a half-width η: a value drawn within η of an
    /// atom is that atom, so ties with evaluated designs are ties (weakly dominated), not coin flips.</param>
    public static double[] Conditional2D(IReadOnlyList<double[]> known, IReadOnlyList<double[]> means, IReadOnlyList<double[]> stds, int draws, Random rng,
        Atoms[]? atoms = null)
    {
        atoms ??= [Atoms.None, Atoms.None];
        int n = means.Count;
        var result = new double[n];
        if (n == 0) return result;
        var knownStairs = NonDominated(known).OrderBy(p => p[0]).ThenBy(p => p[1]).ToList();
        int total = knownStairs.Count + n;
        // Points of one draw: known first (index < K), then the designs' samples.
        var x1 = new double[total];
        var x2 = new double[total];
        for (int k = 0; k < knownStairs.Count; k++) { x1[k] = knownStairs[k][0]; x2[k] = knownStairs[k][1]; }
        int K = knownStairs.Count;
        var order = new int[total];
        var keys = new double[total];
        var stairX = new List<double>(64);
        var stairY = new List<double>(64);
        var stairOwner = new List<int>(64);
        var altX = new List<double>(64);
        var altY = new List<double>(64);
        var onFront = new bool[n];
        for (int t = 0; t < draws; t++)
        {
            for (int i = 0; i < n; i++)
            {
                x1[K + i] = atoms[0].Snap(means[i][0] + stds[i][0] * Operators.Gaussian(rng));
                x2[K + i] = atoms[1].Snap(means[i][1] + stds[i][1] * Operators.Gaussian(rng));
            }
            for (int a = 0; a < total; a++) order[a] = a;
            // Sort by the first objective, then the second (a stable lexicographic order).
            Array.Sort(order, (a, b) => x1[a] != x1[b] ? x1[a].CompareTo(x1[b]) : x2[a] != x2[b] ? x2[a].CompareTo(x2[b]) : a.CompareTo(b));
            Staircase(order, x1, x2, -1, stairX, stairY, stairOwner);
            Array.Clear(onFront);
            foreach (int o in stairOwner) if (o >= K) onFront[o - K] = true;
            for (int i = 0; i < n; i++)
            {
                if (onFront[i])
                {
                    // The staircase without design i's own sample.
                    Staircase(order, x1, x2, K + i, altX, altY, null);
                    result[i] += EscapeProbability(altX, altY, means[i], stds[i], atoms);
                }
                else result[i] += EscapeProbability(stairX, stairY, means[i], stds[i], atoms);
            }
        }
        for (int i = 0; i < n; i++) result[i] = Math.Clamp(result[i] / draws, 0, 1);
        return result;
    }

    /// <summary>The non-dominated staircase of the points in lexicographic <paramref name="order"/>, skipping <paramref name="skip"/>: first objective increasing, second strictly decreasing.</summary>
    private static void Staircase(int[] order, double[] x1, double[] x2, int skip, List<double> sx, List<double> sy, List<int>? owner)
    {
        sx.Clear(); sy.Clear(); owner?.Clear();
        double best = double.PositiveInfinity;
        foreach (int a in order)
        {
            if (a == skip || !(x2[a] < best)) continue;
            best = x2[a];
            sx.Add(x1[a]); sy.Add(x2[a]); owner?.Add(a);
        }
    }

    /// <summary>
    /// P(y not weakly dominated by a staircase) for independent Gaussian y (snapped to the atoms): y
    /// escapes iff y₁ &lt; the first stair's, or y₁ ∈ [stair k, stair k+1) and y₂ &lt; stair k's second
    /// objective — strict inequalities, so the CDFs are left limits P(Y &lt; y), which matters only at
    /// atoms. Stairs more than 8σ away in the first objective add nothing.
    /// </summary>
    private static double EscapeProbability(List<double> sx, List<double> sy, double[] mean, double[] std, Atoms[] atoms)
    {
        int f = sx.Count;
        if (f == 0) return 1;
        double lo = mean[0] - 8 * std[0] - atoms[0].Eta, hi = mean[0] + 8 * std[0];
        // First stair whose successor begins at or above lo (earlier stairs' first-objective intervals carry no mass).
        int start = sx.BinarySearch(lo);
        start = start >= 0 ? start : ~start;
        start = Math.Max(0, start - 1);
        double prob = start == 0 ? atoms[0].CdfBelow(sx[0], mean[0], std[0]) : 0;
        for (int k = start; k < f; k++)
        {
            if (sx[k] > hi + atoms[0].Eta) break;
            double lower = atoms[0].CdfBelow(sx[k], mean[0], std[0]);
            double upper = k + 1 < f ? atoms[0].CdfBelow(sx[k + 1], mean[0], std[0]) : 1;
            if (upper > lower) prob += (upper - lower) * atoms[1].CdfBelow(sy[k], mean[1], std[1]);
        }
        return prob;
    }

    /// <summary>
    /// Atoms of one objective's output distribution: sorted values (non-overlapping windows of
    /// half-width <see cref="Eta"/>) that a draw falling within the window is snapped to.
    /// </summary>
    internal sealed class Atoms(double[] values, double eta)
    {
        public static readonly Atoms None = new([], 0);
        public double Eta { get; } = values.Length == 0 ? 0 : eta;
        private readonly double[] _values = values.Order().ToArray();

        /// <summary>The atom whose window holds y, else y.</summary>
        public double Snap(double y)
        {
            foreach (double a in _values) if (Math.Abs(y - a) <= Eta) return a;
            return y;
        }

        /// <summary>P(Snap(Y) &lt; y) for Y ~ N(mean, std²).</summary>
        public double CdfBelow(double y, double mean, double std)
        {
            double p = Cdf(y, mean, std);
            foreach (double a in _values)
            {
                double wlo = a - Eta, whi = a + Eta;
                if (y <= wlo) break;
                // remove the window's mass below y, then add the whole window if its atom is below y
                p -= Cdf(Math.Min(y, whi), mean, std) - Cdf(wlo, mean, std);
                if (a < y) p += Cdf(whi, mean, std) - Cdf(wlo, mean, std);
            }
            return Math.Clamp(p, 0, 1);
        }

        /// <summary>
        /// The atoms of a sample: values shared exactly by at least <paramref name="minShare"/> of the
        /// values (and by at least 3), in the given (warped) scale, with half-width <paramref name="eta"/>;
        /// windows that would overlap keep the more frequent atom.
        /// </summary>
        public static Atoms Detect(IReadOnlyList<double> observed, IReadOnlyList<double> scaled, double minShare, double eta)
        {
            int need = Math.Max(3, (int)Math.Ceiling(minShare * observed.Count));
            var groups = observed.Select((v, i) => (v, s: scaled[i])).GroupBy(t => t.v).Where(g => g.Count() >= need)
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key).Select(g => g.First().s).ToList();
            var kept = new List<double>();
            foreach (double a in groups) if (kept.All(b => Math.Abs(a - b) > 2 * eta)) kept.Add(a);
            if (kept.Count == 0) return None;
            // A posterior mean at an atom is an interpolation that misses it by a little, and with a
            // small noise that miss decides whether the design ties the atom or beats it. The
            // window therefore reaches at least halfway to the nearest other observed value: no
            // observation says anything lies between.
            var distinct = scaled.Distinct().Order().ToArray();
            double half = double.PositiveInfinity;
            foreach (double a in kept)
                foreach (double v in distinct)
                    if (v != a) half = Math.Min(half, Math.Abs(v - a) / 2);
            if (double.IsFinite(half)) eta = Math.Max(eta, half * 0.999);
            return new Atoms(kept.ToArray(), eta);
        }
    }

    /// <summary>P(Y ≤ y) for Y ~ N(mean, std²); a point mass when std is 0.</summary>
    private static double Cdf(double y, double mean, double std) =>
        std > 0 ? BayesianOptimization.NormalCdf((y - mean) / std) : (y >= mean ? 1 : 0);

    /// <param name="known">Minimisation vectors of the evaluated designs (any subset that contains their non-dominated ones).</param>
    /// <param name="means">Per objective, the posterior means of the M designs.</param>
    /// <param name="covariances">Per objective, the M×M predictive covariance of the designs' values (noise included).</param>
    /// <param name="draws">Number of joint posterior draws (≥ 1).</param>
    public static double[] Estimate(IReadOnlyList<double[]> known, double[][] means, double[][,] covariances, int draws, Random rng)
    {
        int objectives = means.Length, m = means[0].Length;
        var counts = new int[m];
        if (m == 0) return [];
        var factors = covariances.Select(Cholesky).ToArray();
        var knownFront = NonDominated(known);
        var y = new double[m][];
        for (int a = 0; a < m; a++) y[a] = new double[objectives];
        var z = new double[m];
        var order = new int[m];
        var kept = new List<int>(64);
        var comparer = Comparer<int>.Create((a, b) =>
        {
            for (int k = 0; k < objectives; k++)
            {
                int c = y[a][k].CompareTo(y[b][k]);
                if (c != 0) return c;
            }
            return a.CompareTo(b);
        });
        for (int t = 0; t < draws; t++)
        {
            for (int k = 0; k < objectives; k++)
            {
                for (int a = 0; a < m; a++) z[a] = Operators.Gaussian(rng);
                var L = factors[k];
                var mu = means[k];
                for (int a = 0; a < m; a++)
                {
                    double s = mu[a];
                    for (int b = 0; b <= a; b++) s += L[a, b] * z[b];
                    y[a][k] = s;
                }
            }
            // After a lexicographic sort nothing can be dominated by a later point, and whatever
            // dominates a point is dominated by (or is) a non-dominated one: so each sampled design is
            // checked against the known front and the sampled members kept so far only.
            for (int a = 0; a < m; a++) order[a] = a;
            Array.Sort(order, comparer);
            kept.Clear();
            foreach (int a in order)
            {
                bool dominated = false;
                foreach (var p in knownFront)
                    if (Pareto.NonDominatedSorting.Dominates(p, y[a])) { dominated = true; break; }
                if (!dominated)
                    foreach (int b in kept)
                        if (Pareto.NonDominatedSorting.Dominates(y[b], y[a])) { dominated = true; break; }
                if (dominated) continue;
                kept.Add(a);
                counts[a]++;
            }
        }
        return counts.Select(c => (double)c / draws).ToArray();
    }

    private static List<double[]> NonDominated(IReadOnlyList<double[]> points) =>
        Pareto.NonDominatedSorting.FirstFront(points).Select(i => points[i]).ToList();

    /// <summary>Lower Cholesky factor of a covariance matrix, with diagonal jitter grown until it factors.</summary>
    internal static double[,] Cholesky(double[,] a)
    {
        int n = a.GetLength(0);
        double scale = 0;
        for (int i = 0; i < n; i++) scale += Math.Abs(a[i, i]);
        scale = n > 0 ? Math.Max(scale / n, 1e-12) : 1;
        for (double jitter = 1e-10 * scale; ; jitter *= 10)
        {
            var L = new double[n, n];
            bool ok = true;
            for (int i = 0; i < n && ok; i++)
                for (int j = 0; j <= i; j++)
                {
                    double s = a[i, j] + (i == j ? jitter : 0);
                    for (int k = 0; k < j; k++) s -= L[i, k] * L[j, k];
                    if (i == j)
                    {
                        if (!(s > 0)) { ok = false; break; }
                        L[i, i] = Math.Sqrt(s);
                    }
                    else L[i, j] = s / L[j, j];
                }
            if (ok) return L;
            if (jitter > scale) throw new InvalidOperationException("a posterior covariance is not positive definite even with large jitter");
        }
    }
}
