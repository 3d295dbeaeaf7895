using Tandem.Core.Spaces;

namespace Tandem.Core.Search.Strategies;

/// <summary>
/// A Gaussian-process regressor over mixed design spaces. Designs are encoded per parameter: ordered
/// kinds (ordinal, integer, float) by their position in [0, 1] (<see cref="Parameter.ToUnit"/>),
/// categorical ones by their choice index compared by overlap (same = 0, different = 1). The kernel
/// is Matérn-5/2 on the distance r² = Σ d_p² / ℓ_p² with one length scale per parameter (ARD), a
/// signal variance and a noise variance; outputs are standardised. Hyperparameters are fitted by
/// maximising the log marginal likelihood with a deterministic coordinate search in log space.
/// Not thread-safe; every call is deterministic.
/// </summary>
internal sealed class GaussianProcess
{
    private readonly bool[] _categorical;
    private readonly List<double[]> _x = [];
    private readonly List<double> _y = [];
    private double[] _logLength;
    private double[] _invLength2 = [];
    private double _signal = 1;
    private double _logSignal, _logNoise;
    private double _mean, _scale = 1;
    private double[,]? _chol;
    private double[]? _alpha;

    public GaussianProcess(DesignSpace space)
    {
        _categorical = space.Parameters.Select(p => p.Kind == ParameterKind.Categorical).ToArray();
        _logLength = _categorical.Select(c => Math.Log(c ? 1.0 : 0.5)).ToArray();
        _logSignal = 0;
        _logNoise = Math.Log(1e-3);
        Cache();
    }

    private void Cache()
    {
        _invLength2 = _logLength.Select(l => Math.Exp(-2 * l)).ToArray();
        _signal = Math.Exp(_logSignal);
    }

    public int Count => _x.Count;

    public static double[] Encode(Design d)
    {
        var space = d.Space;
        var v = new double[space.Count];
        for (int i = 0; i < space.Count; i++)
            v[i] = space[i].Kind == ParameterKind.Categorical ? d[i] : space[i].ToUnit(d[i]);
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
    }

    /// <summary>Fits hyperparameters by maximising the log marginal likelihood (coordinate search, log space).</summary>
    public void Fit()
    {
        if (_x.Count < 2) { Factor(); return; }
        Standardise();
        int d = _logLength.Length;
        var theta = _logLength.Append(_logSignal).Append(_logNoise).ToArray();
        var lower = Enumerable.Repeat(Math.Log(0.03), d).Append(Math.Log(0.05)).Append(Math.Log(1e-6)).ToArray();
        var upper = Enumerable.Repeat(Math.Log(30.0), d).Append(Math.Log(20.0)).Append(Math.Log(0.5)).ToArray();
        double best = LogLikelihood(theta);
        double step = 1.0;
        for (int sweep = 0; sweep < 12 && step > 0.05; sweep++)
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
        Apply(theta);
        Factor();
    }

    /// <summary>Posterior mean and standard deviation in the original output units.</summary>
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
        var L = _chol!;
        double vv = 0;
        for (int i = 0; i < n; i++)
        {
            double s = k[i];
            for (int j = 0; j < i; j++) s -= L[i, j] * k[j];
            k[i] = s / L[i, i];
            vv += k[i] * k[i];
        }
        double var = Math.Max(_signal - vv, 1e-12);
        return (_mean + _scale * mu, _scale * Math.Sqrt(var));
    }

    private void Apply(double[] theta)
    {
        int d = _logLength.Length;
        _logLength = theta.Take(d).ToArray();
        _logSignal = theta[d];
        _logNoise = theta[d + 1];
        Cache();
    }

    private void Standardise()
    {
        _mean = _y.Average();
        double var = _y.Sum(v => (v - _mean) * (v - _mean)) / Math.Max(1, _y.Count);
        _scale = var > 1e-24 ? Math.Sqrt(var) : 1;
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
            for (int i = 0; i < z.Length; i++) logDet += Math.Log(L[i, i]);
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

    private bool TryFactor(out double[,] L, out double[] alpha, out double[] z)
    {
        int n = _x.Count;
        z = new double[n];
        for (int i = 0; i < n; i++) z[i] = (_y[i] - _mean) / _scale;
        L = new double[n, n];
        alpha = new double[n];
        double noise = Math.Exp(_logNoise);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = Kernel(_x[i], _x[j]) + (i == j ? noise + 1e-10 : 0);
                for (int k = 0; k < j; k++) s -= L[i, k] * L[j, k];
                if (i == j)
                {
                    if (s <= 0 || double.IsNaN(s)) return false;
                    L[i, i] = Math.Sqrt(s);
                }
                else L[i, j] = s / L[j, j];
            }
        }
        // alpha = K⁻¹ z via L Lᵀ
        var t = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s = z[i];
            for (int k = 0; k < i; k++) s -= L[i, k] * t[k];
            t[i] = s / L[i, i];
        }
        for (int i = n - 1; i >= 0; i--)
        {
            double s = t[i];
            for (int k = i + 1; k < n; k++) s -= L[k, i] * alpha[k];
            alpha[i] = s / L[i, i];
        }
        return true;
    }

    private double Kernel(double[] a, double[] b)
    {
        double r2 = 0;
        for (int p = 0; p < a.Length; p++)
        {
            double d = _categorical[p] ? (a[p] == b[p] ? 0 : 1) : a[p] - b[p];
            if (d == 0) continue;
            r2 += d * d * _invLength2[p];
        }
        double r = Math.Sqrt(5 * r2);
        return _signal * (1 + r + r * r / 3) * Math.Exp(-r);
    }
}
