using Tandem.Core.Configuration;
using Tandem.Core.Objectives;
using Tandem.Core.Search.Pareto;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;

namespace Tandem.Core.Search.Strategies;

/// <summary>
/// Options of constrained Bayesian optimisation. <see cref="Initial"/> random designs come first
/// (≥ 2); each later proposal maximises the acquisition over <see cref="Candidates"/> uniform
/// samples plus the neighbours and <see cref="LocalCandidates"/> mutations of the current best
/// designs; a space of at most <see cref="EnumerateUpTo"/> designs is instead screened whole by the
/// posterior mean and the best Candidates + LocalCandidates go on to the acquisition. <see cref="McSamples"/>
/// posterior draws estimate the expected hypervolume improvement; hyperparameters are refitted
/// every <see cref="RefitEvery"/> new observations.
/// </summary>
public sealed record BayesianOptimizationOptions
{
    public int Initial { get; init; } = 10;
    public int Candidates { get; init; } = 256;
    public int LocalCandidates { get; init; } = 512;
    public int McSamples { get; init; } = 32;
    public int RefitEvery { get; init; } = 10;
    public long EnumerateUpTo { get; init; } = 20_000;

    /// <summary>
    /// Multi-objective acquisition: "front" (default: only candidates on the Pareto front predicted
    /// by the posterior means over all candidates and the observed designs are eligible, chosen among
    /// by probability of improvement), "ehvi" (expected hypervolume improvement), "pi" (probability
    /// of improvement: that the design is not dominated by the current feasible front) or
    /// "membership" (probability of being Pareto-optimal among the evaluated designs and the whole
    /// predicted candidate set: the expected number of front members an evaluation adds).
    /// </summary>
    public string Acquisition { get; init; } = "front";

    public static IReadOnlyList<string> Acquisitions { get; } = ["ehvi", "pi", "front", "membership"];

    /// <summary>"membership": the candidates nearest the predicted front (by the ε of their posterior means) that compete for membership (≥ 1).</summary>
    public int MembershipPool { get; init; } = 1000;

    /// <summary>"membership": posterior draws of the competitors per ask (≥ 1).</summary>
    public int MembershipDraws { get; init; } = 64;

    /// <summary>"membership", two objectives: the share of evaluated designs (0–1; 0 = off) that must hold exactly the same value for it to be an atom of that objective.</summary>
    public double MembershipAtoms { get; init; } = 0;

    /// <summary>"membership", three or more objectives: the best competitors drawn jointly (≥ 1).</summary>
    public int MembershipJoint { get; init; } = 300;

    /// <summary>
    /// Whether the surrogates also see the family's derived features (<see cref="StrategyContext.Features"/>,
    /// e.g. NAS-Bench-201's live form and its operation counts): "auto" (the family's default set, when
    /// the family has features; optional ones such as NAS-Bench-201's path encoding only by name, see
    /// <see cref="FeatureNames"/>), "categorical" (only the categorical ones of the default set, e.g.
    /// NAS-Bench-201's live edges without the counts) or "none" (default).
    /// </summary>
    public string Features { get; init; } = "none";

    /// <summary>
    /// With <c>features</c> given as a list: the derived features to use, each by its name or by a
    /// name prefix ending in <c>*</c> (e.g. <c>[arch.live_*]</c>: NAS-Bench-201's live form and its
    /// counts without the executed-operation counts; <c>[arch.live_*, arch.path_*]</c> adds the optional
    /// path encoding); <see cref="Features"/> is then "auto".
    /// </summary>
    public IReadOnlyList<string>? FeatureNames { get; init; }

    /// <summary>Where <c>features</c> was given, for errors found once the family's features are known.</summary>
    public string FeaturesWhere { get; init; } = "features";

    public static IReadOnlyList<string> FeatureModes { get; } = ["auto", "categorical", "none"];

    /// <summary>
    /// Output warp of the surrogates: "rank" (default: every output by its ranks, a Gaussian copula)
    /// or "log" (minimised objectives and constraint metrics by their logarithm while positive —
    /// costs keep relative differences — and maximised objectives by ranks).
    /// </summary>
    public string Warp { get; init; } = "rank";

    public static IReadOnlyList<string> Warps { get; } = ["rank", "log"];

    /// <summary>
    /// "membership": choose only among candidates that differ in at most this many parameters from
    /// an evaluated design of the feasible front (a trust region around the front; all candidates
    /// still compete for membership); 0 = anywhere. Falls back to anywhere when the region is used up.
    /// </summary>
    public int MembershipRegion { get; init; }

    /// <summary>
    /// "membership" with a region: the weight (0–1) of a candidate outside the region — 0 (default)
    /// chooses only inside it; w &gt; 0 lets an outside candidate win when its probability is more
    /// than 1/w times the best inside one.
    /// </summary>
    public double MembershipOutside { get; init; }

    /// <summary>
    /// "membership" with a region: how many non-dominated fronts of the evaluated feasible designs
    /// centre it (1, the default: the current front only; 2 adds the designs only the front dominates, …).
    /// </summary>
    public int MembershipRegionFronts { get; init; } = 1;

    /// <summary>
    /// "membership" with a region: the region's radius (parameter changes) around the evaluated front's
    /// end members — for each objective, the front design best in it — when larger than
    /// <see cref="MembershipRegion"/> (0, the default: the same radius everywhere). Extending the front
    /// past its ends can need larger moves than filling it in between its members.
    /// </summary>
    public int MembershipRegionEnds { get; init; }

    /// <summary>"membership" with a region: every k-th model-based proposal chooses anywhere, ignoring the region (0 = never), so a run whose region sits around a poor early front can leave it.</summary>
    public int MembershipGlobalEvery { get; init; }

    /// <summary>
    /// "membership" with <c>features: auto</c>: at most this many evaluations of designs whose derived
    /// features are identical — categorical ones only (in NB201: cells computing the same function), unless every pooled
    /// candidate's class is used up (0 = no cap). Such classes can be large (341 NB201 cells each for
    /// the five single-edge functions) and their front members are decided by training and measurement
    /// noise, so a surrogate cannot tell their cells apart.
    /// </summary>
    public int MembershipClassCap { get; init; }

    /// <summary>
    /// "membership": every k-th model-based proposal (0 = never) instead takes the pooled candidate with
    /// the largest expected improvement of one objective alone (objectives in turn), anywhere, so that
    /// the ends of the front are pushed even when the designs between them and the evaluated front are
    /// dominated (a trust region, which moves only along the front, cannot reach them).
    /// </summary>
    public int MembershipExtremesEvery { get; init; }

    /// <summary>
    /// The metrics (objectives or constraint metrics) whose surrogates see only the derived features,
    /// not the design's own parameters; null: none (default), every surrogate sees both. Designs with
    /// equal features are then one input whose differences the model takes as noise — right for a
    /// metric the features determine up to noise (NAS-Bench-201 accuracy: cells computing the same
    /// function differ only by training noise), instead of fitting the noise to parameters that do not
    /// matter. <see cref="FeaturesOnlyAll"/>: every metric.
    /// </summary>
    public IReadOnlyList<string>? FeaturesOnly { get; init; }

    /// <summary>
    /// "membership": scale each objective surrogate's predictive standard deviation by how far off its
    /// own predictions have been — the root mean square of the standardised errors (observed − predicted
    /// mean) / predicted standard deviation, warped scale, of the last <see cref="CalibrationWindow"/>
    /// designs it chose and then saw evaluated (from 10 on; factor kept within 0.5–5). A model whose
    /// errors are larger than it believes otherwise concentrates its membership probabilities on too
    /// few designs.
    /// </summary>
    public bool Calibrate { get; init; }

    /// <summary>Predictions whose errors set the <see cref="Calibrate"/> factor (the most recent ones).</summary>
    public const int CalibrationWindow = 50;

    /// <summary><c>features_only: true</c>: every surrogate sees only the derived features.</summary>
    public bool FeaturesOnlyAll { get; init; }

    /// <summary>Where <c>features_only</c> was given (for error messages).</summary>
    public string FeaturesOnlyWhere { get; init; } = "features_only";

    /// <summary>Lower bound of every surrogate's fitted noise variance, in the warped output scale (default 1e-6: effectively none).</summary>
    public double NoiseFloor { get; init; } = 1e-6;

    /// <summary>
    /// Where observation noise is homoscedastic: "warped" (default: the same variance everywhere in
    /// the warped scale) or "raw" (the same size in the metric's own units, so larger where a rank warp
    /// stretches nearly equal values; see <see cref="GaussianProcess.NoiseVarianceAt"/>).
    /// </summary>
    public string Noise { get; init; } = "warped";

    public static IReadOnlyList<string> NoiseModes { get; } = ["warped", "raw"];

    public static BayesianOptimizationOptions Bind(ConfigMap options)
    {
        options.CheckKeys(StrategyModifiers.AcceptedKeys("initial", "candidates", "local_candidates", "mc_samples", "refit_every", "enumerate_up_to", "acquisition",
            "membership_pool", "membership_draws", "membership_joint", "membership_atoms", "features", "warp", "membership_region", "membership_outside", "membership_region_fronts", "noise_floor", "noise", "membership_global_every", "membership_class_cap", "membership_extremes_every", "membership_region_ends", "features_only", "calibrate"));
        // "features" and "features_only" are a mode (a single value) or a list of names; unlike
        // ConfigMap.GetStringList, a single value is not a one-name list, and names must not be empty.
        static IReadOnlyList<string>? NameList(ConfigMap options, string key, string expected, string empty)
        {
            if (options[key] is not ConfigList list) return null;
            var names = list.Items.Select(i => i is ConfigScalar { Value: { Length: > 0 } v } ? v : throw i.Error(expected)).ToArray();
            return names.Length > 0 ? names : throw list.Error(empty);
        }
        var featureNames = NameList(options, "features", "expected a derived feature's name, or a name prefix ending in '*'",
            "an empty list selects no derived feature; give feature names (or prefixes ending in '*'), or one of auto, categorical, none");
        var featuresOnly = NameList(options, "features_only", "expected the name of an objective or constraint metric",
            "an empty list names no metric; give metric names, or true / false");
        var bound = new BayesianOptimizationOptions
        {
            FeatureNames = featureNames,
            FeaturesWhere = options["features"]?.Where ?? "features",
            Initial = options.GetInt("initial", 10, 2, 100_000),
            Candidates = options.GetInt("candidates", 256, 0, 1_000_000),
            LocalCandidates = options.GetInt("local_candidates", 512, 0, 1_000_000),
            McSamples = options.GetInt("mc_samples", 32, 1, 10_000),
            RefitEvery = options.GetInt("refit_every", 10, 1, 100_000),
            EnumerateUpTo = options.GetLong("enumerate_up_to", 20_000, 0, 10_000_000),
            Acquisition = options.GetChoice("acquisition", "front", Acquisitions),
            MembershipPool = options.GetInt("membership_pool", 1000, 1, 100_000),
            MembershipJoint = options.GetInt("membership_joint", 300, 1, 5_000),
            MembershipDraws = options.GetInt("membership_draws", 64, 1, 100_000),
            MembershipAtoms = options.GetDouble("membership_atoms", 0, 0, 1),
            Features = featureNames is null ? options.GetChoice("features", "none", FeatureModes) : "auto",
            Warp = options.GetChoice("warp", "rank", Warps),
            MembershipRegion = options.GetInt("membership_region", 0, 0, 1_000),
            MembershipOutside = options.GetDouble("membership_outside", 0, 0, 1),
            MembershipRegionFronts = options.GetInt("membership_region_fronts", 1, 1, 1_000),
            MembershipRegionEnds = options.GetInt("membership_region_ends", 0, 0, 1_000),
            MembershipGlobalEvery = options.GetInt("membership_global_every", 0, 0, 1_000_000),
            NoiseFloor = options.GetDouble("noise_floor", 1e-6, 1e-6, 1),
            Noise = options.GetChoice("noise", "warped", NoiseModes),
            MembershipClassCap = options.GetInt("membership_class_cap", 0, 0, 1_000_000),
            MembershipExtremesEvery = options.GetInt("membership_extremes_every", 0, 0, 1_000_000),
            FeaturesOnly = featuresOnly,
            Calibrate = options.GetBool("calibrate", false),
            FeaturesOnlyAll = featuresOnly is null && options.GetBool("features_only", false),
            FeaturesOnlyWhere = options["features_only"]?.Where ?? "features_only",
        };
        if ((bound.FeaturesOnlyAll || bound.FeaturesOnly is not null) && bound.Features == "none")
            throw new ConfigException($"{bound.FeaturesOnlyWhere}: features_only needs derived features to model (features: auto, categorical or a list of names)");
        if (bound.MembershipClassCap > 0 && bound.Features == "none")
            throw new ConfigException($"{options.Location}: membership_class_cap needs features: auto or categorical (classes are designs with identical categorical derived features)");
        return bound;
    }
}

/// <summary>
/// Constrained Bayesian optimisation over mixed spaces (after Shi et al.'s constrained BO for
/// hardware/software co-design). One <see cref="GaussianProcess"/> per objective and one per
/// constraint metric, modelled separately. Acquisition: expected improvement (one objective); with
/// several objectives, by default, only the candidates on the front predicted by the posterior means
/// are eligible and the one most likely not to be dominated by the feasible front found so far is
/// chosen ("front"); alternatives are that probability of improvement over all candidates ("pi",
/// exact for two objectives, Monte Carlo above) and the expected hypervolume improvement ("ehvi",
/// exact sweep per Monte-Carlo draw with common random numbers; reference point 10% beyond the
/// observed feasible nadir); each is multiplied by the probability of
/// feasibility Π Φ((bound − μ)/σ) over the constraints. Before any feasible design is known it
/// maximises the probability of feasibility alone. Batches come from the kriging believer: each
/// chosen design is added to the models with its predicted mean before choosing the next.
/// Pruned trials still teach the constraint models through the hardware metrics they carry.
/// </summary>
internal sealed class BayesianOptimization : IStrategy, IFrontForecast
{
    private readonly StrategyContext _context;
    private readonly BayesianOptimizationOptions _options;
    private readonly Random _rng;
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly GaussianProcess[] _objectiveModels;
    private readonly GaussianProcess[] _constraintModels;
    private readonly List<Individual> _told = [];
    private int _sinceFit = int.MaxValue / 2;
    private int _pending;
    private long _modelProposals, _extremeTurns;
    private Design[]? _all;
    // An enumerated space's GP inputs, encoded once: the same arrays at every ask, so the GPs keep
    // their kernel values against the training inputs (GaussianProcess.PredictMeanCached).
    private double[][]? _allEncoded;
    private readonly IDesignFeatures? _features;
    // membership_class_cap: evaluations told per class of identical categorical derived features.
    private readonly Dictionary<string, int> _classCount = new(StringComparer.Ordinal);
    // calibrate: per chosen design, each objective's predicted (warped mean, standard deviation), and
    // per objective the standardised errors of those predictions once the design was evaluated.
    private readonly Dictionary<string, (double Mean, double Std)[]> _predicted = new(StringComparer.Ordinal);
    private List<double>[] _errors = [];
    // "membership": per proposed design, the probability it was chosen with (IFrontForecast): of
    // membership of the whole space's front when the space is scored whole (enumerate_up_to), else of
    // the front of the scored candidates and the evaluated designs, which can only be larger.
    private readonly Dictionary<string, double> _forecasts = new(StringComparer.Ordinal);

    public double? FrontProbability(string designKey) => _forecasts.TryGetValue(designKey, out double p) ? p : null;

    private static SelectedFeatures Named(IDesignFeatures? all, IReadOnlyList<string> names, string where)
    {
        if (all is null)
            throw new ConfigException($"{where}: this design space has no derived features to select; use features: none");
        try { return SelectedFeatures.Named(all, names); }
        catch (ArgumentException e) { throw new ConfigException($"{where}: {e.Message}"); }
    }

    public BayesianOptimization(StrategyContext context, BayesianOptimizationOptions options)
    {
        _context = context;
        _options = options;
        _rng = new Random(context.Seed);
        _features = options.Features switch
        {
            "none" => null,
            "categorical" when context.Features is { } all => SelectedFeatures.Categorical(all),
            _ when options.FeatureNames is { } names => Named(context.Features, names, options.FeaturesWhere),
            _ => context.Features is { } all ? SelectedFeatures.Default(all) : null,
        };
        bool log = options.Warp == "log";
        var metrics = context.Objectives.Select(o => o.Metric).Concat(context.Constraints.Select(c => c.Metric)).ToList();
        foreach (var name in options.FeaturesOnly ?? [])
            if (!metrics.Contains(name))
                throw new ConfigException($"{options.FeaturesOnlyWhere}: '{name}' is not an objective or constraint metric of this study; accepted: {string.Join(", ", metrics.Distinct())}");
        bool WithParameters(string metric) => !options.FeaturesOnlyAll && !(options.FeaturesOnly?.Contains(metric) ?? false);
        _objectiveModels = context.Objectives.Select(o => new GaussianProcess(context.Space, _features, log && o.Direction == Direction.Minimize, options.NoiseFloor, options.Noise == "raw", WithParameters(o.Metric))).ToArray();
        _constraintModels = context.Constraints.Select(c => new GaussianProcess(context.Space, _features, log, options.NoiseFloor, options.Noise == "raw", WithParameters(c.Metric))).ToArray();
    }

    public string Name => "bo";

    public IReadOnlyList<Design> Ask(int count)
    {
        var result = new List<Design>(count);
        if (_told.Count + _pending < _options.Initial || _objectiveModels[0].Count + _constraintModels.Sum(m => m.Count) < 2)
        {
            for (int i = 0; i < count && !Operators.Exhausted(_context.Space, _seen); i++)
            {
                var d = Operators.Fresh(() => _context.Space.Sample(_rng), _seen);
                _seen.Add(d.Key);
                result.Add(d);
            }
            _pending += result.Count;
            return result;
        }

        if (_sinceFit >= _options.RefitEvery)
        {
            foreach (var m in _objectiveModels.Concat(_constraintModels)) m.Fit();
            _sinceFit = 0;
        }

        var (candidates, encoded) = Candidates();
        var front = FeasibleFront();
        bool membership = _options.Acquisition == "membership" && _objectiveModels.Length > 1 && front.Count > 0;
        if (membership) { }
        else if (_options.Acquisition == "front" && _objectiveModels.Length > 1) PredictedFront(candidates, encoded, front);
        else Screen(candidates, encoded, front);
        int fantasies = 0;
        var fantasized = new int[_constraintModels.Length];
        var batchClasses = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int b = 0; b < count && candidates.Count > 0; b++)
        {
            _modelProposals++;
            bool global = _options.MembershipGlobalEvery > 0 && _modelProposals % _options.MembershipGlobalEvery == 0;
            int extreme = membership && _options.MembershipExtremesEvery > 0 && _modelProposals % _options.MembershipExtremesEvery == 0
                ? (int)(_extremeTurns++ % _objectiveModels.Length) : -1;
            double forecast = double.NaN;
            int best = membership ? MembershipChoice(encoded, front, global || extreme >= 0 ? null : InRegion(candidates), ClassOpen(encoded, batchClasses), extreme, out forecast) : Choose(encoded, front);
            if (ClassKey(encoded[best]) is { } chosenClass) batchClasses[chosenClass] = batchClasses.GetValueOrDefault(chosenClass) + 1;
            var chosen = candidates[best];
            if (!double.IsNaN(forecast)) _forecasts[chosen.Key] = forecast;
            if (_options.Calibrate && membership)
                _predicted[chosen.Key] = _objectiveModels.Select(g => PredictWithNoise(g, encoded[best])).ToArray();
            result.Add(chosen);
            _seen.Add(chosen.Key);
            if (b + 1 < count)
            {
                // Kriging believer: pretend the chosen design returned its predicted means.
                var x = encoded[best];
                var means = _objectiveModels.Select(m => m.Unwarp(m.Predict(x).Mean)).ToArray();
                var cons = _constraintModels.Select(m => m.Count == 0 ? double.NaN : m.Unwarp(m.Predict(x).Mean)).ToArray();
                foreach (var (m, i) in _objectiveModels.Select((m, i) => (m, i))) m.Add(x, means[i]);
                foreach (var (m, i) in _constraintModels.Select((m, i) => (m, i))) if (!double.IsNaN(cons[i])) { m.Add(x, cons[i]); fantasized[i]++; }
                fantasies++;
                if (_context.Constraints.Select((c, i) => double.IsNaN(cons[i]) || c.IsSatisfied(cons[i])).All(ok => ok))
                    front = NonDominated(front.Append(means).ToList());
            }
            candidates.RemoveAt(best);
            encoded.RemoveAt(best);
        }
        if (fantasies > 0)
        {
            foreach (var m in _objectiveModels) m.RemoveLast(fantasies);
            for (int i = 0; i < _constraintModels.Length; i++) if (fantasized[i] > 0) _constraintModels[i].RemoveLast(fantasized[i]);
        }
        _pending += result.Count;
        return result;
    }

    public void Tell(Design design, TrialOutcome outcome)
    {
        _seen.Add(design.Key);
        if (_pending > 0) _pending--;
        var ind = Individual.From(_context, design, outcome);
        _told.Add(ind);
        var x = GaussianProcess.Encode(design, _features);
        if (ClassKey(x) is { } key) _classCount[key] = _classCount.GetValueOrDefault(key) + 1;
        if (ind.Objectives is { } obj)
        {
            if (_predicted.Remove(design.Key, out var predicted))
            {
                if (_errors.Length == 0) _errors = obj.Select(_ => new List<double>()).ToArray();
                for (int i = 0; i < obj.Length; i++)
                    if (predicted[i].Std > 0) _errors[i].Add((_objectiveModels[i].Warp(obj[i]) - predicted[i].Mean) / predicted[i].Std);
            }
            for (int i = 0; i < obj.Length; i++) _objectiveModels[i].Add(x, obj[i]);
        }
        for (int i = 0; i < _context.Constraints.Count; i++)
            if (outcome.Metrics.TryGetValue(_context.Constraints[i].Metric, out double v) && double.IsFinite(v))
                _constraintModels[i].Add(x, v);
        _sinceFit++;
    }

    /// <summary>
    /// Keeps the <c>Candidates + LocalCandidates</c> most promising of a large candidate set by their
    /// posterior means (cheap: no variance): the additive ε by which the front dominates the mean
    /// vector (negative = the mean would extend the front), in the warped spaces; single objective:
    /// the mean itself. Candidates predicted infeasible by the constraint means go last.
    /// </summary>
    private void Screen(List<Design> candidates, List<double[]> encoded, List<double[]> front)
    {
        int keep = Math.Max(1, _options.Candidates + _options.LocalCandidates);
        if (candidates.Count <= keep) return;
        int m = _objectiveModels.Length;
        var warpedFront = front.Select(p => p.Select((v, k) => _objectiveModels[k].Warp(v)).ToArray()).ToList();
        var score = new double[candidates.Count];
        for (int c = 0; c < candidates.Count; c++)
        {
            var mu = _objectiveModels.Select(g => Mean(g, encoded[c])).ToArray();
            double eps = m == 1 || warpedFront.Count == 0 ? mu.Sum() : Epsilon(mu, warpedFront);
            for (int i = 0; i < _constraintModels.Length; i++)
            {
                var g = _constraintModels[i];
                if (g.Count == 0) continue;
                var con = _context.Constraints[i];
                double mean = Mean(g, encoded[c]), bound = g.Warp(con.Bound);
                if (con.Op == ConstraintOp.LessOrEqual ? mean > bound : mean < bound) eps += 1e6;
            }
            score[c] = eps;
        }
        var order = Enumerable.Range(0, candidates.Count).OrderBy(i => score[i]).ThenBy(i => i).Take(keep).ToArray();
        var keptD = order.Select(i => candidates[i]).ToList();
        var keptX = order.Select(i => encoded[i]).ToList();
        candidates.Clear(); candidates.AddRange(keptD);
        encoded.Clear(); encoded.AddRange(keptX);
    }

    /// <summary>
    /// Keeps the candidates whose posterior-mean vectors lie on the Pareto front of all candidates'
    /// means together with the observed feasible designs' true values (in the warped spaces), i.e. the
    /// designs the model currently believes to be Pareto-optimal; candidates predicted infeasible are
    /// left out. Means cost O(n) per candidate, so whole spaces of tens of thousands are affordable.
    /// </summary>
    private void PredictedFront(List<Design> candidates, List<double[]> encoded, List<double[]> front)
    {
        int m = _objectiveModels.Length;
        var points = new List<(string Key, double[] Vector)>();
        for (int c = 0; c < candidates.Count; c++)
        {
            bool feasible = true;
            for (int i = 0; i < _constraintModels.Length && feasible; i++)
            {
                var g = _constraintModels[i];
                if (g.Count == 0) continue;
                var con = _context.Constraints[i];
                double mean = Mean(g, encoded[c]), bound = g.Warp(con.Bound);
                feasible = con.Op == ConstraintOp.LessOrEqual ? mean <= bound : mean >= bound;
            }
            if (feasible) points.Add((c.ToString(System.Globalization.CultureInfo.InvariantCulture), _objectiveModels.Select(g => Mean(g, encoded[c])).ToArray()));
        }
        foreach (var p in front) points.Add(("observed", p.Select((v, k) => _objectiveModels[k].Warp(v)).ToArray()));
        var onFront = Benchmarking.ExactFront.FrontOf(points).Where(p => p.Key != "observed")
            .Select(p => int.Parse(p.Key, System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray();
        if (onFront.Length == 0) { Screen(candidates, encoded, front); return; }
        var keptD = onFront.Select(i => candidates[i]).ToList();
        var keptX = onFront.Select(i => encoded[i]).ToList();
        candidates.Clear(); candidates.AddRange(keptD);
        encoded.Clear(); encoded.AddRange(keptX);
    }

    /// <summary>
    /// The "membership" acquisition: the index of the candidate most likely to be a member of the
    /// Pareto front of the whole candidate set (a small space: the whole space) together with the
    /// evaluated designs, so that each evaluation maximises the expected number of true front members
    /// found. Posterior means of every candidate predicted feasible come first (O(n) each); the
    /// <c>MembershipPool</c> with the smallest additive ε by which the front of (evaluated values ∪ all
    /// means) dominates their mean are the competitors, with predictive standard deviations (noise
    /// included: a table or a measurement holds a value, not its smooth trend). Two objectives: each
    /// competitor's probability of being non-dominated by the evaluated front and by every other
    /// competitor, designs independent, from <c>MembershipDraws</c> Rao–Blackwellised draws
    /// (<see cref="ParetoMembership.Conditional2D"/>); more: joint posterior draws of the best
    /// <c>MembershipJoint</c> competitors (<see cref="ParetoMembership.Estimate"/>). Cost per ask:
    /// O(candidates · n) for the means plus O(pool · n²) for the variances, n observations.
    /// Multiplied by the probability of feasibility; ties (e.g. all zero) go to the smaller ε.
    /// </summary>
    private int MembershipChoice(List<double[]> encoded, List<double[]> front, Func<int, bool>? choosable, Func<int, bool>? classOpen, int extreme, out double forecast)
    {
        forecast = double.NaN;
        int m = _objectiveModels.Length, n = encoded.Count;
        var known = front.Select(p => p.Select((v, k) => _objectiveModels[k].Warp(v)).ToArray()).ToList();
        var mean = new double[n][];
        var eligible = new List<int>(n);
        for (int c = 0; c < n; c++)
        {
            if (!PredictedFeasible(encoded[c])) continue;
            mean[c] = _objectiveModels.Select(g => Mean(g, encoded[c])).ToArray();
            eligible.Add(c);
        }
        if (eligible.Count == 0)
            for (int c = 0; c < n; c++) { mean[c] = _objectiveModels.Select(g => Mean(g, encoded[c])).ToArray(); eligible.Add(c); }
        var meanFront = NonDominated(known.Concat(eligible.Select(c => mean[c])).ToList());
        var eps = new Dictionary<int, double>(eligible.Count);
        foreach (int c in eligible) eps[c] = Epsilon(mean[c], meanFront);
        var pool = eligible.OrderBy(c => eps[c]).ThenBy(c => c).Take(_options.MembershipPool).ToArray();
        var spread = Enumerable.Range(0, m).Select(Spread).ToArray();
        var poolMean = new double[pool.Length][];
        var poolStd = new double[pool.Length][];
        for (int a = 0; a < pool.Length; a++)
        {
            poolMean[a] = new double[m];
            poolStd[a] = new double[m];
            for (int k = 0; k < m; k++)
            {
                var (mu, sd) = PredictWithNoise(_objectiveModels[k], encoded[pool[a]]);
                poolMean[a][k] = mu;
                poolStd[a][k] = sd * spread[k];
            }
        }
        // With a class cap: whether each pooled candidate's class is still open, asked once per candidate
        // (null: no cap, or every pooled class used up, when any candidate may be chosen).
        bool[]? open = classOpen is null ? null : Array.ConvertAll(pool, c => classOpen(c));
        if (open is not null && !Array.Exists(open, o => o)) open = null;
        if (extreme >= 0)
        {
            // Expected improvement of objective `extreme` alone over its best evaluated feasible value.
            double bestValue = known.Min(p => p[extreme]);
            int pick = pool[0];
            double top = double.NegativeInfinity;
            for (int a = 0; a < pool.Length; a++)
            {
                if (open is not null && !open[a]) continue;
                double score = ExpectedImprovement(bestValue, poolMean[a][extreme], poolStd[a][extreme]) * ProbabilityOfFeasibility(encoded[pool[a]]);
                if (score > top) { top = score; pick = pool[a]; }
            }
            return pick;
        }
        double[] probability;
        if (m == 2) probability = ParetoMembership.Conditional2D(known, poolMean, poolStd, _options.MembershipDraws, _rng, Atoms());
        else
        {
            int joint = Math.Min(pool.Length, _options.MembershipJoint);
            var xs = pool.Take(joint).Select(c => encoded[c]).ToList();
            var means = new double[m][];
            var covariances = new double[m][,];
            for (int k = 0; k < m; k++)
            {
                var (mu, cov) = _objectiveModels[k].PredictJoint(xs);
                for (int a = 0; a < joint; a++) cov[a, a] += _objectiveModels[k].NoiseVarianceAt(mu[a]);
                double spread2 = spread[k] * spread[k];
                if (spread2 != 1)
                    for (int a = 0; a < joint; a++)
                        for (int b = 0; b < joint; b++) cov[a, b] *= spread2;
                means[k] = mu;
                covariances[k] = cov;
            }
            probability = ParetoMembership.Estimate(known, means, covariances, _options.MembershipDraws, _rng);
        }
        int best = pool[0];
        double bestScore = double.NegativeInfinity;
        // the region counts only candidates the class cap leaves open
        bool anyChoosable = choosable is not null && Enumerable.Range(0, pool.Length).Any(a => (open is null || open[a]) && choosable(pool[a]));
        for (int a = 0; a < probability.Length; a++)
        {
            if (open is not null && !open[a]) continue;
            double weight = anyChoosable && !choosable!(pool[a]) ? _options.MembershipOutside : 1;
            if (weight <= 0) continue;
            double pof = ProbabilityOfFeasibility(encoded[pool[a]]);
            double score = weight * probability[a] * pof;
            if (score > bestScore) { bestScore = score; best = pool[a]; forecast = probability[a] * pof; } // pool is in ε order: ties keep the smaller ε
        }
        return best;
    }

    /// <summary>
    /// Per objective, the atoms of the observed outputs (<see cref="ParetoMembership.Atoms.Detect"/>):
    /// values shared exactly by at least <c>MembershipAtoms</c> of the evaluated designs, such as the
    /// chance accuracy of networks that did not train, with windows of two noise standard deviations
    /// in the warped scale. A Gaussian noise model cannot represent such ties; without them, every
    /// unevaluated design predicted at the atom looks like a coin flip to beat the evaluated one.
    /// </summary>
    private ParetoMembership.Atoms[]? Atoms()
    {
        if (_options.MembershipAtoms <= 0) return null;
        var observed = _told.Where(t => t.Objectives is not null).ToList();
        return _objectiveModels.Select((g, k) =>
        {
            var values = observed.Select(t => t.Objectives![k]).ToList();
            return ParetoMembership.Atoms.Detect(values, values.Select(g.Warp).ToList(), _options.MembershipAtoms, 2 * Math.Sqrt(g.NoiseVariance));
        }).ToArray();
    }

    /// <summary>The additive ε by which <paramref name="reference"/> dominates <paramref name="y"/> (negative: y is beyond all of it; +∞ for an empty reference).</summary>
    private static double Epsilon(double[] y, IReadOnlyList<double[]> reference)
    {
        double eps = reference.Count == 0 ? double.NegativeInfinity : double.PositiveInfinity;
        foreach (var r in reference)
        {
            double worst = double.NegativeInfinity;
            for (int k = 0; k < y.Length; k++) worst = Math.Max(worst, y[k] - r[k]);
            eps = Math.Min(eps, worst);
        }
        return eps;
    }

    /// <summary>A surrogate's posterior mean at a candidate; for an enumerated space's kept inputs, with the GP's kernel rows kept between asks.</summary>
    private double Mean(GaussianProcess g, double[] x) => _allEncoded is not null ? g.PredictMeanCached(x) : g.PredictMean(x);

    /// <summary>Whether every constraint model's mean at a candidate (an input of this ask's candidate list) satisfies its bound.</summary>
    private bool PredictedFeasible(double[] x)
    {
        for (int i = 0; i < _constraintModels.Length; i++)
        {
            var g = _constraintModels[i];
            if (g.Count == 0) continue;
            var con = _context.Constraints[i];
            double mean = Mean(g, x), bound = g.Warp(con.Bound);
            if (con.Op == ConstraintOp.LessOrEqual ? mean > bound : mean < bound) return false;
        }
        return true;
    }

    /// <summary>
    /// With <c>MembershipRegion</c> r &gt; 0: whether candidate c differs in at most r parameters from an
    /// evaluated feasible design of the first <c>MembershipRegionFronts</c> non-dominated fronts, or in at
    /// most <c>MembershipRegionEnds</c> from one of the first front's end members; else null.
    /// </summary>
    private Func<int, bool>? InRegion(List<Design> candidates)
    {
        int r = _options.MembershipRegion;
        if (r <= 0) return null;
        var feasible = _told.Where(t => t.Feasible).ToList();
        var vectors = feasible.Select(t => t.Objectives!).ToList();
        var fronts = NonDominatedSorting.Sort(vectors);
        var centres = fronts.Take(_options.MembershipRegionFronts).SelectMany(f => f).Select(i => feasible[i].Design).ToList();
        int endRadius = _options.MembershipRegionEnds;
        var ends = endRadius > r && fronts.Count > 0
            ? Enumerable.Range(0, _objectiveModels.Length).Select(k => fronts[0].MinBy(i => vectors[i][k])).Distinct().Select(i => feasible[i].Design).ToList()
            : [];
        static bool Within(Design d, Design centre, int radius)
        {
            int differ = 0;
            for (int p = 0; p < d.Space.Count && differ <= radius; p++) if (d[p] != centre[p]) differ++;
            return differ <= radius;
        }
        return c =>
        {
            var d = candidates[c];
            foreach (var centre in centres) if (Within(d, centre, r)) return true;
            foreach (var end in ends) if (Within(d, end, endRadius)) return true;
            return false;
        };
    }

    /// <summary>With <c>MembershipClassCap</c>: the class of an encoded design, its categorical derived features as text (ordered ones, e.g. counts, do not define classes); else null.</summary>
    private string? ClassKey(double[] x)
    {
        if (_options.MembershipClassCap <= 0 || _features is null) return null;
        int from = _context.Space.Count;
        return string.Join(',', Enumerable.Range(0, _features.Names.Count).Where(_features.IsCategorical)
            .Select(i => x[from + i].ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>With <c>MembershipClassCap</c>: whether candidate c's class has fewer evaluations (told, or chosen earlier in this batch) than the cap; else null.</summary>
    private Func<int, bool>? ClassOpen(List<double[]> encoded, Dictionary<string, int> batch)
    {
        if (_options.MembershipClassCap <= 0 || _features is null) return null;
        return c =>
        {
            string key = ClassKey(encoded[c])!;
            return _classCount.GetValueOrDefault(key) + batch.GetValueOrDefault(key) < _options.MembershipClassCap;
        };
    }

    /// <summary>A surrogate's posterior mean at x and the standard deviation of a new measurement there (model and fitted noise), warped scale.</summary>
    private static (double Mean, double Std) PredictWithNoise(GaussianProcess g, double[] x)
    {
        var (mu, sd) = g.Predict(x);
        return (mu, Math.Sqrt(sd * sd + g.NoiseVarianceAt(mu)));
    }

    /// <summary>With <c>calibrate</c>: per objective, how many evaluated predictions the factor has seen (for tests).</summary>
    internal int[] CalibrationErrorCounts => _errors.Select(e => e.Count).ToArray();

    /// <summary>
    /// With <c>calibrate</c>: objective k's factor on predictive standard deviations, the root mean square
    /// of its last <see cref="BayesianOptimizationOptions.CalibrationWindow"/> standardised errors (1 before 10), within 0.5–5.
    /// </summary>
    private double Spread(int k) =>
        !_options.Calibrate || k >= _errors.Length ? 1 : CalibrationFactor(_errors[k]);

    /// <summary>The root mean square of the last <see cref="BayesianOptimizationOptions.CalibrationWindow"/> standardised errors, within 0.5–5; 1 with fewer than 10.</summary>
    internal static double CalibrationFactor(IReadOnlyList<double> errors)
    {
        if (errors.Count < 10) return 1;
        int from = Math.Max(0, errors.Count - BayesianOptimizationOptions.CalibrationWindow);
        double sum = 0;
        for (int i = from; i < errors.Count; i++) sum += errors[i] * errors[i];
        return Math.Clamp(Math.Sqrt(sum / (errors.Count - from)), 0.5, 5);
    }

    private List<double[]> FeasibleFront() =>
        NonDominated(_told.Where(t => t.Feasible).Select(t => t.Objectives!).ToList());

    private static List<double[]> NonDominated(List<double[]> points)
    {
        var idx = NonDominatedSorting.FirstFront(points);
        return idx.Select(i => points[i]).ToList();
    }

    /// <summary>The designs to score at this ask, unseen and distinct, with their GP inputs (for an enumerated space, the arrays kept in <see cref="_allEncoded"/>).</summary>
    private (List<Design> Designs, List<double[]> Encoded) Candidates()
    {
        var space = _context.Space;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<Design>();
        void Offer(Design d)
        {
            if (!_seen.Contains(d.Key) && keys.Add(d.Key)) list.Add(d);
        }
        if (space.Size is { } size && size <= _options.EnumerateUpTo)
        {
            // A small space is enumerated (and encoded) once and kept: it is scored whole at every ask.
            _all ??= space.Enumerate().ToArray();
            _allEncoded ??= _all.Select(d => GaussianProcess.Encode(d, _features)).ToArray();
            var encoded = new List<double[]>();
            for (int i = 0; i < _all.Length; i++)
                if (!_seen.Contains(_all[i].Key)) { list.Add(_all[i]); encoded.Add(_allEncoded[i]); }
            return (list, encoded);
        }
        for (int i = 0; i < _options.Candidates; i++) Offer(space.Sample(_rng));
        // Local candidates: every one-parameter neighbour of the best designs found so far (the front
        // usually continues next to itself), then random one- or two-parameter mutations of them.
        var elites = Elites();
        foreach (var e in elites)
            foreach (var nb in Neighbours(e)) Offer(nb);
        if (elites.Count > 0)
            for (int i = 0; i < _options.LocalCandidates; i++)
            {
                var parent = elites[i % elites.Count];
                var child = Operators.Mutate(parent, _rng, 0);
                if (_rng.Next(3) == 0) child = Operators.Mutate(child, _rng, 0);
                Offer(child);
            }
        if (list.Count == 0) Offer(Operators.Fresh(() => space.Sample(_rng), _seen, 1024));
        return (list, list.Select(d => GaussianProcess.Encode(d, _features)).ToList());
    }

    private IEnumerable<Design> Neighbours(Design d)
    {
        var space = d.Space;
        for (int i = 0; i < space.Count; i++)
        {
            var p = space[i];
            if (!p.IsDiscrete)
            {
                for (int k = 0; k < 4; k++) yield return d.With(i, Operators.MutateValue(p, d[i], _rng));
                continue;
            }
            int at = p.IndexOf(d[i]);
            IEnumerable<int> positions = p.Kind == ParameterKind.Categorical && p.Cardinality <= 16
                ? Enumerable.Range(0, p.Cardinality)
                : new[] { at - 2, at - 1, at + 1, at + 2 }.Concat(Enumerable.Range(0, 3).Select(_ => _rng.Next(p.Cardinality)));
            foreach (int k in positions.Where(k => k >= 0 && k < p.Cardinality && k != at).Distinct())
                yield return d.With(i, p.ValueAt(k));
        }
    }

    private List<Design> Elites()
    {
        if (_told.Count == 0) return [];
        var objs = _told.Select(t => t.Objectives).ToArray();
        var viol = _told.Select(t => t.Violation).ToArray();
        var rank = ConstrainedRanking.Rank(objs, viol);
        int cut = Math.Max(rank.Min(), 0);
        var elites = _told.Where((t, i) => rank[i] <= cut).Select(t => t.Design).ToList();
        // Too few elites makes local search myopic: add the next ranks up to a handful.
        for (int r = cut + 1; elites.Count < 5 && r <= rank.Max(); r++)
            elites.AddRange(_told.Where((t, i) => rank[i] == r).Select(t => t.Design));
        return elites;
    }

    private int Choose(List<double[]> encoded, List<double[]> front)
    {
        int m = _objectiveModels.Length;
        int n = encoded.Count;
        var pof = new double[n];
        var mean = new double[n][];
        var std = new double[n][];
        for (int c = 0; c < n; c++)
        {
            pof[c] = ProbabilityOfFeasibility(encoded[c]);
            mean[c] = new double[m];
            std[c] = new double[m];
            for (int k = 0; k < m; k++)
            {
                if (_objectiveModels[k].Count == 0) { mean[c][k] = 0; std[c][k] = 1; continue; }
                (mean[c][k], std[c][k]) = _objectiveModels[k].Predict(encoded[c]);
            }
        }

        // Models predict in their warped spaces; the warps are monotone, so the front is compared there.
        front = front.Select(p => p.Select((v, k) => _objectiveModels[k].Warp(v)).ToArray()).ToList();
        var score = new double[n];
        if (front.Count == 0 || _objectiveModels[0].Count == 0)
        {
            // Nothing feasible known yet: find feasibility first.
            for (int c = 0; c < n; c++) score[c] = pof[c];
        }
        else if (m == 1)
        {
            double best = front.Min(p => p[0]);
            for (int c = 0; c < n; c++) score[c] = ExpectedImprovement(best, mean[c][0], std[c][0]) * pof[c];
        }
        else if (_options.Acquisition is "pi" or "front")
        {
            var z = Draws(m);
            var sorted = front.OrderBy(p => p[0]).ThenBy(p => p[1]).ToArray();
            for (int c = 0; c < n; c++)
                score[c] = pof[c] < 1e-6 ? 0 : pof[c] * (m == 2 ? NonDominatedProbability2D(sorted, mean[c], std[c]) : NonDominatedProbabilityMc(front, mean[c], std[c], z));
        }
        else
        {
            var reference = Reference(front);
            double baseHv = Hypervolume.Compute(front, reference);
            var z = Draws(m);
            var with = new List<double[]>(front.Count + 1);
            with.AddRange(front);
            with.Add(new double[m]);
            for (int c = 0; c < n; c++)
            {
                if (pof[c] < 1e-6) continue;
                double total = 0;
                for (int s = 0; s < _options.McSamples; s++)
                {
                    var y = new double[m];
                    for (int k = 0; k < m; k++) y[k] = mean[c][k] + std[c][k] * z[s, k];
                    with[^1] = y;
                    total += Math.Max(0, Hypervolume.Compute(with, reference) - baseHv);
                }
                score[c] = total / _options.McSamples * pof[c];
            }
        }

        int bestIndex = 0;
        for (int c = 1; c < n; c++) if (score[c] > score[bestIndex]) bestIndex = c;
        if (score[bestIndex] <= 0)
        {
            // No candidate is expected to improve: take the most uncertain likely-feasible one.
            double bestU = double.NegativeInfinity;
            for (int c = 0; c < n; c++)
            {
                double u = std[c].Sum() * pof[c];
                if (u > bestU) { bestU = u; bestIndex = c; }
            }
        }
        return bestIndex;
    }

    private double[,] Draws(int m)
    {
        var z = new double[_options.McSamples, m];
        for (int s = 0; s < _options.McSamples; s++)
            for (int k = 0; k < m; k++) z[s, k] = Operators.Gaussian(_rng);
        return z;
    }

    /// <summary>
    /// P(y not dominated by the front) for independent Gaussian y in two objectives. With the front
    /// sorted by the first objective (second strictly decreasing), y escapes domination iff y₁ lies
    /// below the first point's, or between points k and k+1 and y₂ below point k's second objective.
    /// </summary>
    internal static double NonDominatedProbability2D(double[][] sortedFront, double[] mean, double[] std)
    {
        double F1(double x) => NormalCdf((x - mean[0]) / Math.Max(std[0], 1e-12));
        double F2(double x) => NormalCdf((x - mean[1]) / Math.Max(std[1], 1e-12));
        var stairs = new List<double[]>();
        foreach (var p in sortedFront)
            if (stairs.Count == 0 || p[1] < stairs[^1][1]) stairs.Add(p);
        double prob = F1(stairs[0][0]);
        for (int k = 0; k < stairs.Count; k++)
        {
            double upper = k + 1 < stairs.Count ? F1(stairs[k + 1][0]) : 1;
            prob += (upper - F1(stairs[k][0])) * F2(stairs[k][1]);
        }
        return Math.Clamp(prob, 0, 1);
    }

    private static double NonDominatedProbabilityMc(List<double[]> front, double[] mean, double[] std, double[,] z)
    {
        int samples = z.GetLength(0), m = mean.Length, hits = 0;
        var y = new double[m];
        for (int s = 0; s < samples; s++)
        {
            for (int k = 0; k < m; k++) y[k] = mean[k] + std[k] * z[s, k];
            bool dominated = false;
            foreach (var p in front)
            {
                bool weak = true;
                for (int k = 0; k < m && weak; k++) weak = p[k] <= y[k];
                if (weak) { dominated = true; break; }
            }
            if (!dominated) hits++;
        }
        return (double)hits / samples;
    }

    private double[] Reference(List<double[]> front)
    {
        int m = front[0].Length;
        var r = new double[m];
        for (int k = 0; k < m; k++)
        {
            double max = double.NegativeInfinity, min = double.PositiveInfinity;
            foreach (var t in _told.Where(t => t.Feasible))
            {
                double w = _objectiveModels[k].Warp(t.Objectives![k]);
                max = Math.Max(max, w);
                min = Math.Min(min, w);
            }
            double range = max - min;
            r[k] = max + 0.1 * (range > 0 ? range : Math.Max(1e-9, Math.Abs(max)));
        }
        return r;
    }

    private double ProbabilityOfFeasibility(double[] x)
    {
        double p = 1;
        for (int i = 0; i < _constraintModels.Length; i++)
        {
            var model = _constraintModels[i];
            if (model.Count == 0) continue;
            var (mu, sigma) = model.Predict(x);
            var c = _context.Constraints[i];
            double bound = model.Warp(c.Bound);
            double margin = c.Op == ConstraintOp.LessOrEqual ? bound - mu : mu - bound;
            p *= NormalCdf(margin / Math.Max(sigma, 1e-12));
        }
        return p;
    }

    internal static double ExpectedImprovement(double best, double mu, double sigma)
    {
        if (sigma < 1e-12) return Math.Max(0, best - mu);
        double z = (best - mu) / sigma;
        return (best - mu) * NormalCdf(z) + sigma * Math.Exp(-0.5 * z * z) / Math.Sqrt(2 * Math.PI);
    }

    /// <summary>Standard normal CDF via a complementary error function accurate to about 1e-7.</summary>
    internal static double NormalCdf(double x) => 0.5 * Erfc(-x / Math.Sqrt(2));

    private static double Erfc(double x)
    {
        // Numerical Recipes' erfcc (Chebyshev fit), fractional error < 1.2e-7 everywhere.
        double z = Math.Abs(x);
        double t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
            t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
