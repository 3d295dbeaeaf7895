using Tandem.Core.Spaces;

namespace Tandem.Core.Search.Strategies;

/// <summary>
/// A Gaussian-process regressor over mixed design spaces. Designs are encoded per parameter: ordered
/// kinds (ordinal, integer, float) by their position in [0, 1] (<see cref="Parameter.ToUnit"/>),
/// categorical ones by their choice index compared by overlap (same = 0, different = 1). The kernel
/// is Matérn-5/2 on the distance r² = Σ d_p² / ℓ_p² with one length scale per parameter (ARD), a
/// signal variance and a noise variance; derived features of one group (<see cref="IDesignFeatures.Group"/>)
/// share one length scale, so their squared differences are summed before it divides them. Outputs are warped by their ranks to standard-normal
/// quantiles (a Gaussian copula: robust to skewed metrics and outliers such as NAS-Bench-201's 10%
/// cells); predictions and <see cref="Warp"/> work in that space, and since the warp is monotone,
/// dominance, improvement and constraint thresholds keep their meaning there. Hyperparameters are fitted by
/// maximising the log marginal likelihood with a deterministic coordinate search in log space.
/// The noise variance is one value in the warped space (default; bounded below by a floor), or, with
/// raw-unit noise, that value scaled per observation by the squared slope of the warp (<see cref="NoiseVarianceAt"/>).
/// Not thread-safe; every call is deterministic.
/// </summary>
internal sealed class GaussianProcess
{
    private readonly bool[] _categorical; // per input the model uses: input p is x[_skip + p]
    private readonly int[] _slot; // per input, its length scale (inputs of one feature group share one)
    private readonly bool _grouped; // some length scale serves several inputs
    private readonly int _skip;
    private readonly List<double[]> _x = [];
    private readonly List<double> _y = [];
    private double[] _logLength;
    private double[] _invLength2 = [];
    private double _signal = 1;
    private double _logSignal, _logNoise;
    private double[] _warpX = [], _warpZ = [];
    private double[] _z = [];
    private double[]? _chol; // Cholesky factor L of the training covariance, row-major with stride Count (lower triangle)
    private double[]? _alpha;

    private readonly bool _logWarp;
    private readonly double _logMinNoise;
    private readonly bool _rawNoise;
    private double[] _noiseScale = [];
    private double[] _sortedY = [], _sortedZ = [];
    private double _medianSlope = 1;

    /// <param name="logWarp">
    /// Warp outputs by their logarithm, standardised, instead of their ranks (while every output is
    /// positive; otherwise by ranks). For positive costs such as latency this keeps relative
    /// differences: ranks stretch a crowd of nearly equal values (NAS-Bench-201's hundreds of cells
    /// at 0.011–0.012 ms) over a wide range of the warped scale, where the model then cannot tell
    /// them apart from real differences.
    /// </param>
    /// <param name="withParameters">
    /// Model the design's own parameters (default) as well as its derived features; false models the
    /// derived features alone (they must then be given), for families whose features determine the
    /// outputs up to noise, so designs with equal features are treated as repeated measurements.
    /// </param>
    public GaussianProcess(DesignSpace space, IDesignFeatures? features = null, bool logWarp = false, double minNoise = 1e-6, bool rawNoise = false, bool withParameters = true)
    {
        if (!withParameters && (features is null || features.Names.Count == 0))
            throw new ArgumentException("a model without the design's parameters needs derived features", nameof(withParameters));
        _logWarp = logWarp;
        _rawNoise = rawNoise;
        _logMinNoise = Math.Log(Math.Max(minNoise, 1e-6));
        _skip = withParameters ? 0 : space.Count;
        _categorical = (withParameters ? space.Parameters.Select(p => p.Kind == ParameterKind.Categorical) : [])
            .Concat(Enumerable.Range(0, features?.Names.Count ?? 0).Select(i => features!.IsCategorical(i))).ToArray();
        var groups = (withParameters ? space.Parameters.Select(_ => (string?)null) : [])
            .Concat(Enumerable.Range(0, features?.Names.Count ?? 0).Select(i => features!.Group(i))).ToArray();
        _slot = new int[_categorical.Length];
        var slotOfGroup = new Dictionary<string, int>(StringComparer.Ordinal);
        var firstOfSlot = new List<int>();
        for (int p = 0; p < _slot.Length; p++)
        {
            if (groups[p] is { } g && slotOfGroup.TryGetValue(g, out int slot)) { _slot[p] = slot; continue; }
            _slot[p] = firstOfSlot.Count;
            if (groups[p] is { } name) slotOfGroup[name] = firstOfSlot.Count;
            firstOfSlot.Add(p);
        }
        _grouped = firstOfSlot.Count < _slot.Length;
        _logLength = firstOfSlot.Select(p => Math.Log(_categorical[p] ? 1.0 : 0.5)).ToArray();
        _logSignal = 0;
        _logNoise = Math.Max(Math.Log(1e-3), _logMinNoise);
        Cache();
    }

    /// <summary>Largest number of parameters for which an all-categorical kernel is tabulated by mismatch pattern.</summary>
    private const int MaxTabulated = 12;

    private double[]? _byMismatch;

    private void Cache()
    {
        _kernelVersion++; // kernel rows kept by PredictMeanCached are stale from here on
        _invLength2 = _logLength.Select(l => Math.Exp(-2 * l)).ToArray();
        _signal = Math.Exp(_logSignal);
        // With only categorical parameters the kernel depends on which parameters differ and nothing
        // else, so it is tabulated once per hyperparameter setting: scoring a whole space then costs
        // comparisons and a lookup per pair instead of a square root and an exponential.
        int d = _categorical.Length;
        _byMismatch = null;
        if (d == 0 || d > MaxTabulated || !_categorical.All(c => c)) return;
        var table = new double[1 << d];
        for (int mask = 0; mask < table.Length; mask++)
        {
            double r2 = 0;
            for (int p = 0; p < d; p++) if ((mask & (1 << p)) != 0) r2 += _invLength2[_slot[p]];
            double r = Math.Sqrt(5 * r2);
            table[mask] = _signal * (1 + r + r * r / 3) * Math.Exp(-r);
        }
        _byMismatch = table;
    }

    public int Count => _x.Count;

    /// <summary>The GP input of a design: its parameters (categorical as choice indices, ordered kinds in [0, 1]), then the derived <paramref name="features"/> if any (category indices, or numbers in [0, 1] for ordered features). A model without parameters skips the first part.</summary>
    public static double[] Encode(Design d, IDesignFeatures? features = null)
    {
        var space = d.Space;
        int extra = features?.Names.Count ?? 0;
        var v = new double[space.Count + extra];
        for (int i = 0; i < space.Count; i++)
            v[i] = space[i].Kind == ParameterKind.Categorical ? d[i] : space[i].ToUnit(d[i]);
        if (extra > 0) features!.Compute(d, v.AsSpan(space.Count));
        return v;
    }

    public void Add(double[] x, double y)
    {
        _x.Add(x);
        _y.Add(y);
        _chol = null;
    }

    public void RemoveLast(int n)
    {
        _x.RemoveRange(_x.Count - n, n);
        _y.RemoveRange(_y.Count - n, n);
        _chol = null;
        _truncatedTo.Add(_x.Count);
    }

    // PredictMeanCached: per input array (by reference), its kernel values against the first Length
    // training inputs, computed under hyperparameters _kernelVersion == Version and valid up to the
    // truncations (RemoveLast) recorded from index Truncations on.
    private sealed class KernelRow(double[] values)
    {
        public double[] Values = values;
        public int Length, Version, Truncations;
    }

    private readonly Dictionary<double[], KernelRow> _rows = new(ReferenceEqualityComparer.Instance);
    private readonly List<int> _truncatedTo = [];
    private int _kernelVersion;
    private long _cachedValues;

    /// <summary>Most kernel values <see cref="PredictMeanCached"/> keeps per model (32 Mi doubles, 256 MiB); inputs beyond it are predicted uncached.</summary>
    private const long MaxCachedValues = 1L << 25;

    /// <summary>
    /// <see cref="PredictMean"/> for an input that is predicted again and again while the model grows
    /// (e.g. every design of an enumerated space, at every ask): its kernel values against the training
    /// inputs are kept, keyed by the array's identity, and only those against newly added inputs are
    /// computed, until the hyperparameters change (a fit) or inputs are removed. The same sums in the
    /// same order as <see cref="PredictMean"/>, so the same doubles. The caller must not change
    /// <paramref name="x"/>'s contents after the first call.
    /// </summary>
    public double PredictMeanCached(double[] x)
    {
        int n = _x.Count;
        if (n == 0) return 0;
        if (_chol is null) Factor();
        if (!_rows.TryGetValue(x, out var row))
        {
            if (_cachedValues + n > MaxCachedValues) return PredictMean(x);
            row = new KernelRow(new double[Math.Max(n, 16)]);
            _cachedValues += row.Values.Length;
            _rows.Add(x, row);
        }
        int valid = 0;
        if (row.Version == _kernelVersion)
        {
            valid = row.Length;
            for (int k = row.Truncations; k < _truncatedTo.Count; k++) valid = Math.Min(valid, _truncatedTo[k]);
        }
        if (row.Values.Length < n)
        {
            int grown = Math.Max(n, 2 * row.Values.Length);
            if (_cachedValues + grown - row.Values.Length > MaxCachedValues) return PredictMean(x);
            var values = new double[grown];
            Array.Copy(row.Values, values, valid);
            _cachedValues += grown - row.Values.Length;
            row.Values = values;
        }
        var kx = row.Values;
        for (int i = valid; i < n; i++) kx[i] = Kernel(x, _x[i]);
        row.Length = n;
        row.Version = _kernelVersion;
        row.Truncations = _truncatedTo.Count;
        double mu = 0;
        for (int i = 0; i < n; i++) mu += kx[i] * _alpha![i];
        return mu;
    }

    /// <summary>Fits hyperparameters by maximising the log marginal likelihood (coordinate search, log space).</summary>
    public void Fit()
    {
        if (_x.Count < 2) { Factor(); return; }
        Standardise();
        _pairwise = Pairwise();
        int d = _logLength.Length;
        var theta = _logLength.Append(_logSignal).Append(_logNoise).ToArray();
        var lower = Enumerable.Repeat(Math.Log(0.03), d).Append(Math.Log(0.05)).Append(_logMinNoise).ToArray();
        var upper = Enumerable.Repeat(Math.Log(30.0), d).Append(Math.Log(20.0)).Append(Math.Max(Math.Log(0.5), _logMinNoise)).ToArray();
        double best = LogLikelihood(theta);
        double step = 1.0;
        for (int sweep = 0; sweep < 10 && step > 0.1; sweep++)
        {
            bool improved = false;
            for (int k = 0; k < theta.Length; k++)
            {
                foreach (double dir in new[] { step, -step })
                {
                    var trial = (double[])theta.Clone();
                    trial[k] = Math.Clamp(trial[k] + dir, lower[k], upper[k]);
                    if (trial[k] == theta[k]) continue;
                    double ll = LogLikelihood(trial);
                    if (ll > best + 1e-9) { best = ll; theta = trial; improved = true; break; }
                }
            }
            if (!improved) step /= 2;
        }
        _pairwise = null;
        Apply(theta);
        Factor();
    }

    private double[]? _pairwise;

    /// <summary>
    /// Per-length-scale squared distances of all training pairs (lower triangle, pair (i, j ≤ i) at
    /// (i(i+1)/2 + j)·d for d length scales; a group's inputs summed in input order), reused by every
    /// likelihood evaluation of a fit.
    /// </summary>
    private double[] Pairwise()
    {
        int n = _x.Count, inputs = _categorical.Length, d = _logLength.Length;
        var pw = new double[(long)n * (n + 1) / 2 * d];
        long at = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++, at += d)
                for (int p = 0; p < inputs; p++)
                {
                    double a = _x[i][_skip + p], b = _x[j][_skip + p];
                    double diff = _categorical[p] ? (a == b ? 0 : 1) : a - b;
                    pw[at + _slot[p]] += diff * diff;
                }
        return pw;
    }

    /// <summary>Posterior mean only (O(n), no variance), in the warped output space.</summary>
    public double PredictMean(double[] x)
    {
        if (_x.Count == 0) return 0;
        if (_chol is null) Factor();
        double mu = 0;
        for (int i = 0; i < _x.Count; i++) mu += Kernel(x, _x[i]) * _alpha![i];
        return mu;
    }

    /// <summary>Posterior mean and standard deviation in the warped output space (see <see cref="Warp"/>).</summary>
    public (double Mean, double Std) Predict(double[] x)
    {
        if (_x.Count == 0) return (0, 1);
        if (_chol is null) Factor();
        int n = _x.Count;
        var k = new double[n];
        for (int i = 0; i < n; i++) k[i] = Kernel(x, _x[i]);
        double mu = 0;
        for (int i = 0; i < n; i++) mu += k[i] * _alpha![i];
        // v = L⁻¹ k; variance = σ² − vᵀv
        ForwardSubstitute(_chol!, k);
        double vv = 0;
        for (int i = 0; i < n; i++) vv += k[i] * k[i];
        double var = Math.Max(_signal - vv, 1e-12);
        return (mu, Math.Sqrt(var));
    }

    /// <summary>The fitted noise variance (warped space): the part of an output the kernel does not explain.</summary>
    public double NoiseVariance => Math.Exp(_logNoise);

    /// <summary>
    /// Joint posterior of the latent function at several points, in the warped output space: the means
    /// and the covariance matrix (symmetric, positive semi-definite up to rounding; without the noise
    /// variance). O(M·n² + M²·n) for M points and n observations; with no observations, the prior.
    /// </summary>
    public (double[] Mean, double[,] Covariance) PredictJoint(IReadOnlyList<double[]> xs)
    {
        int m = xs.Count, n = _x.Count;
        var mean = new double[m];
        var cov = new double[m, m];
        if (n > 0 && _chol is null) Factor();
        // v_a = L⁻¹ k(X, x_a), stored per point so that the covariance is a dot product of rows.
        var v = new double[m][];
        for (int a = 0; a < m; a++)
        {
            var k = new double[n];
            for (int i = 0; i < n; i++) k[i] = Kernel(xs[a], _x[i]);
            double mu = 0;
            for (int i = 0; i < n; i++) mu += k[i] * _alpha![i];
            mean[a] = mu;
            if (n > 0) ForwardSubstitute(_chol!, k);
            v[a] = k;
        }
        for (int a = 0; a < m; a++)
            for (int b = 0; b <= a; b++)
            {
                double c = (a == b ? _signal : Kernel(xs[a], xs[b])) - Dot(v[a], v[b]);
                cov[a, b] = c;
                cov[b, a] = c;
            }
        return (mean, cov);
    }

    private static double Dot(double[] a, double[] b)
    {
        var va = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(a.AsSpan());
        var vb = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(b.AsSpan());
        var acc = System.Numerics.Vector<double>.Zero;
        for (int i = 0; i < va.Length; i++) acc += va[i] * vb[i];
        double s = System.Numerics.Vector.Sum(acc);
        for (int i = va.Length * System.Numerics.Vector<double>.Count; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    private void Apply(double[] theta)
    {
        int d = _logLength.Length;
        _logLength = theta.Take(d).ToArray();
        _logSignal = theta[d];
        _logNoise = theta[d + 1];
        Cache();
    }

    /// <summary>Builds the rank warp: sorted distinct outputs ↦ normal quantiles of their mean rank.</summary>
    private void Standardise()
    {
        if (_logWarp && _y.Count >= 2 && _y.All(v => v > 0)) { StandardiseLog(); return; }
        int n = _y.Count;
        var order = Enumerable.Range(0, n).OrderBy(i => _y[i]).ToArray();
        var xs = new List<double>();
        var zs = new List<double>();
        _z = new double[n];
        for (int a = 0; a < n;)
        {
            int b = a;
            while (b + 1 < n && _y[order[b + 1]] == _y[order[a]]) b++;
            double rank = (a + b) / 2.0 + 1; // 1-based mean rank of the ties
            double z = NormalQuantile((rank - 0.5) / n);
            for (int k = a; k <= b; k++) _z[order[k]] = z;
            xs.Add(_y[order[a]]);
            zs.Add(z);
            a = b + 1;
        }
        _warpX = xs.ToArray();
        _warpZ = zs.ToArray();
        NoiseScales(order);
    }

    /// <summary>
    /// With raw-unit noise: each observation's noise variance is the fitted one times the squared slope
    /// of the warp at its value, relative to the median slope, so that noise of constant size in the
    /// metric's own units (e.g. training noise of ±0.2 accuracy points) is as large in the warped scale
    /// as the warp makes it — larger in a stretched tail, where a rank warp spreads nearly equal values.
    /// The slope is the warp's secant over ±k ranks (k = max(3, n/20)); factors are kept within 1/100 … 100.
    /// </summary>
    private void NoiseScales(int[] order)
    {
        int n = _y.Count;
        if (!_rawNoise || n < 4) { UniformNoise(); return; }
        _noiseScale = new double[n];
        _sortedY = order.Select(i => _y[i]).ToArray();
        _sortedZ = order.Select(i => _z[i]).ToArray();
        var slopes = new double[n];
        for (int r = 0; r < n; r++) slopes[r] = SecantAt(r);
        var finite = slopes.Where(double.IsFinite).Order().ToArray();
        _medianSlope = finite.Length > 0 && finite[finite.Length / 2] > 0 ? finite[finite.Length / 2] : 1;
        for (int r = 0; r < n; r++) _noiseScale[order[r]] = ScaleOf(slopes[r]);
    }

    /// <summary>The same noise variance for every observation (warped-scale noise, the log warp, or too few observations for slopes).</summary>
    private void UniformNoise()
    {
        _noiseScale = new double[_y.Count];
        Array.Fill(_noiseScale, 1.0);
        _sortedY = [];
    }

    private double SecantAt(int rank)
    {
        int n = _sortedY.Length, k = Math.Max(3, n / 20);
        int lo = Math.Max(0, rank - k), hi = Math.Min(n - 1, rank + k);
        double dy = _sortedY[hi] - _sortedY[lo];
        return dy > 0 ? (_sortedZ[hi] - _sortedZ[lo]) / dy : double.PositiveInfinity;
    }

    private double ScaleOf(double slope)
    {
        double ratio = slope / _medianSlope;
        return Math.Clamp(ratio * ratio, 0.01, 100);
    }

    /// <summary>
    /// The noise variance of a new observation whose warped value is about <paramref name="warpedMean"/>:
    /// <see cref="NoiseVariance"/>, scaled by the warp's slope there when noise is in raw units.
    /// </summary>
    public double NoiseVarianceAt(double warpedMean)
    {
        double noise = Math.Exp(_logNoise);
        if (!_rawNoise || _sortedY.Length < 4) return noise;
        int rank = Array.BinarySearch(_sortedY, Unwarp(warpedMean));
        rank = rank >= 0 ? rank : Math.Min(~rank, _sortedY.Length - 1);
        return noise * ScaleOf(SecantAt(rank));
    }

    /// <summary>The log warp: distinct outputs ↦ (ln y − mean) / std of the observed ln y.</summary>
    private void StandardiseLog()
    {
        int n = _y.Count;
        var logs = _y.Select(v => Math.Log(v)).ToArray();
        double mean = logs.Average();
        double std = Math.Sqrt(logs.Sum(v => (v - mean) * (v - mean)) / n);
        if (!(std > 0)) std = 1;
        _z = logs.Select(v => (v - mean) / std).ToArray();
        var distinct = _y.Distinct().Order().ToArray();
        UniformNoise();
        _warpX = distinct;
        _warpZ = distinct.Select(v => (Math.Log(v) - mean) / std).ToArray();
    }

    /// <summary>The warped value of an output (piecewise linear between observed outputs, linear beyond them).</summary>
    public double Warp(double y)
    {
        if (_warpX.Length == 0) return y;
        if (_warpX.Length == 1) return y > _warpX[0] ? 1 : y < _warpX[0] ? -1 : 0;
        int k = Array.BinarySearch(_warpX, y);
        if (k >= 0) return _warpZ[k];
        k = ~k;
        int lo = Math.Clamp(k - 1, 0, _warpX.Length - 2), hi = lo + 1;
        double t = (y - _warpX[lo]) / (_warpX[hi] - _warpX[lo]);
        return _warpZ[lo] + t * (_warpZ[hi] - _warpZ[lo]);
    }

    /// <summary>Inverse of <see cref="Warp"/>.</summary>
    public double Unwarp(double z)
    {
        if (_warpX.Length == 0) return z;
        if (_warpX.Length == 1) return _warpX[0];
        int k = Array.BinarySearch(_warpZ, z);
        if (k >= 0) return _warpX[k];
        k = ~k;
        int lo = Math.Clamp(k - 1, 0, _warpZ.Length - 2), hi = lo + 1;
        double t = (z - _warpZ[lo]) / (_warpZ[hi] - _warpZ[lo]);
        return _warpX[lo] + t * (_warpX[hi] - _warpX[lo]);
    }

    /// <summary>Standard normal quantile (Acklam's rational approximation, relative error about 1e-9).</summary>
    internal static double NormalQuantile(double p)
    {
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155922803e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        p = Math.Clamp(p, 1e-12, 1 - 1e-12);
        if (p < 0.02425)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - 0.02425)
        {
            double q = Math.Sqrt(-2 * Math.Log(1 - p));
            return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        double r = p - 0.5, s = r * r;
        return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1);
    }

    private double LogLikelihood(double[] theta)
    {
        var saved = (_logLength, _logSignal, _logNoise);
        Apply(theta);
        double ll;
        try
        {
            if (!TryFactor(out var L, out var alpha, out var z)) return double.NegativeInfinity;
            double logDet = 0;
            for (int i = 0; i < z.Length; i++) logDet += Math.Log(L[i * z.Length + i]);
            double fit = 0;
            for (int i = 0; i < z.Length; i++) fit += z[i] * alpha[i];
            ll = -0.5 * fit - logDet - 0.5 * z.Length * Math.Log(2 * Math.PI);
        }
        finally { (_logLength, _logSignal, _logNoise) = saved; Cache(); }
        return ll;
    }

    private void Factor()
    {
        if (_x.Count == 0) return;
        Standardise();
        for (int attempt = 0; attempt < 8; attempt++)
        {
            if (TryFactor(out var L, out var alpha, out _)) { _chol = L; _alpha = alpha; return; }
            _logNoise += Math.Log(10); // jitter until positive definite
        }
        throw new InvalidOperationException("the GP covariance is not positive definite even with large jitter");
    }

    /// <summary>
    /// Cholesky factor L (row-major, stride n) of the training covariance plus noise, and α = K⁻¹z.
    /// Every sum runs over k = 0, 1, … in order, so the doubles do not depend on how L is stored.
    /// </summary>
    private bool TryFactor(out double[] L, out double[] alpha, out double[] z)
    {
        int n = _x.Count;
        z = new double[n];
        for (int i = 0; i < n; i++) z[i] = _z[i];
        L = new double[n * n];
        alpha = new double[n];
        double noise = Math.Exp(_logNoise);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = (_pairwise is null ? Kernel(_x[i], _x[j]) : KernelFromPairwise(i, j)) + (i == j ? noise * NoiseScale(i) + 1e-10 : 0);
                var li = L.AsSpan(i * n, j);
                var lj = L.AsSpan(j * n, j);
                for (int k = 0; k < li.Length; k++) s -= li[k] * lj[k];
                if (i == j)
                {
                    if (s <= 0 || double.IsNaN(s)) return false;
                    L[i * n + i] = Math.Sqrt(s);
                }
                else L[i * n + j] = s / L[j * n + j];
            }
        }
        // alpha = K⁻¹ z via L Lᵀ
        var t = (double[])z.Clone();
        ForwardSubstitute(L, t);
        for (int i = n - 1; i >= 0; i--)
        {
            double s = t[i];
            for (int k = i + 1; k < n; k++) s -= L[k * n + i] * alpha[k];
            alpha[i] = s / L[i * n + i];
        }
        return true;
    }

    /// <summary>Solves L v' = v in place (L lower triangular, row-major with stride v.Length), summing in index order.</summary>
    private static void ForwardSubstitute(double[] L, Span<double> v)
    {
        int n = v.Length;
        for (int i = 0; i < n; i++)
        {
            double s = v[i];
            var row = L.AsSpan(i * n, i);
            for (int j = 0; j < row.Length; j++) s -= row[j] * v[j];
            v[i] = s / L[i * n + i];
        }
    }

    private double NoiseScale(int i) => i < _noiseScale.Length ? _noiseScale[i] : 1;

    private double KernelFromPairwise(int i, int j)
    {
        double r2 = 0;
        int d = _invLength2.Length;
        var pw = _pairwise.AsSpan((i * (i + 1) / 2 + j) * d, d);
        for (int p = 0; p < pw.Length; p++) r2 += pw[p] * _invLength2[p];
        double r = Math.Sqrt(5 * r2);
        return _signal * (1 + r + r * r / 3) * Math.Exp(-r);
    }

    private double Kernel(double[] a, double[] b)
    {
        if (_byMismatch is { } table)
        {
            int mask = 0;
            for (int p = 0; p < _categorical.Length; p++) if (a[_skip + p] != b[_skip + p]) mask |= 1 << p;
            return table[mask];
        }
        double r2 = 0;
        if (_grouped)
        {
            // Each group's squared differences are summed first, in input order, as Pairwise sums them.
            Span<double> bySlot = stackalloc double[_invLength2.Length];
            for (int p = 0; p < _categorical.Length; p++)
            {
                double d = _categorical[p] ? (a[_skip + p] == b[_skip + p] ? 0 : 1) : a[_skip + p] - b[_skip + p];
                if (d != 0) bySlot[_slot[p]] += d * d;
            }
            for (int s = 0; s < bySlot.Length; s++) r2 += bySlot[s] * _invLength2[s];
        }
        else
            for (int p = 0; p < _categorical.Length; p++)
            {
                double d = _categorical[p] ? (a[_skip + p] == b[_skip + p] ? 0 : 1) : a[_skip + p] - b[_skip + p];
                if (d == 0) continue;
                r2 += d * d * _invLength2[p];
            }
        double r = Math.Sqrt(5 * r2);
        return _signal * (1 + r + r * r / 3) * Math.Exp(-r);
    }
}
