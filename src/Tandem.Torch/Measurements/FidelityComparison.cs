using System.Diagnostics;
using System.Globalization;
using Tandem.Core.Accuracy;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;

namespace Tandem.Torch.Measurements;

/// <summary>
/// What <see cref="FidelityComparison"/> measures: <see cref="Designs"/> distinct random designs of
/// <see cref="Family"/> (seeded), each scored by every fidelity of <see cref="Fidelities"/> with its
/// default options (plus <see cref="Overrides"/>), and by the reference: standalone training for
/// <see cref="ReferenceEpochs"/> epochs of <see cref="ReferenceTrainSamples"/> images (no time limit),
/// repeated with <see cref="ReferenceSeeds"/> weight/data-order seeds. Fidelities are ranked against the
/// per-design mean over those seeds; the seeds ranked against each other give the ceiling that seed
/// noise puts on any fidelity.
/// </summary>
public sealed record FidelityComparisonOptions
{
    public required INetworkFamily Family { get; init; }
    public int Designs { get; init; } = 30;
    public int Seed { get; init; } = 1;
    public string Dataset { get; init; } = "fashion-mnist";
    public string? DataDirectory { get; init; }
    /// <summary>
    /// Fidelities to rank: an evaluator name ("supernet"), or "label:evaluator" to rank one evaluator
    /// twice under different <see cref="Overrides"/> (e.g. "supernet-ft:supernet"); "/metric" after either
    /// scores by another of the evaluator's metrics (e.g. "supernet-ll:supernet/log_likelihood"). Labels
    /// must be distinct and must not start with <see cref="Reference"/>.
    /// </summary>
    public IReadOnlyList<string> Fidelities { get; init; } = ["synflow", "naswot", "grad_norm", "snip", "supernet", "train"];
    public double ReferenceEpochs { get; init; } = 3;
    public int ReferenceTrainSamples { get; init; } = 16_000;
    /// <summary>
    /// Independent reference trainings per design (≥ 1), differing only in the seed of weights and data
    /// order; replicate 1 uses the seed a single-seed run uses, so earlier rows stay valid.
    /// </summary>
    public int ReferenceSeeds { get; init; } = 3;
    /// <summary>Training-file images held out for validation, the same for every fidelity.</summary>
    public int ValidationSamples { get; init; } = 5_000;
    /// <summary>Extra options for one fidelity (by label; e.g. "supernet" → epochs) or for every reference replicate ("reference"), merged over the defaults.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<(string Key, object? Value)>> Overrides { get; init; } =
        new Dictionary<string, IReadOnlyList<(string, object?)>>();
}

/// <summary>One design scored by one fidelity (reused rows of an earlier run are not reported to <c>onRow</c> again): the score (NaN when the evaluation failed, with the reason), wall seconds and epochs.</summary>
public sealed record FidelityRow(int Design, string DesignKey, long Macs, long Parameters, string Fidelity, double Score, double Seconds, double Epochs, string? Failure)
{
    /// <summary>Cost paid once for all designs that this row's evaluation rests on (the supernet's training, also when loaded from the cache), in seconds; 0 otherwise.</summary>
    public double OneOffSeconds { get; init; }
}

/// <summary>
/// How well one fidelity ranks the designs against the reference (the mean over reference seeds):
/// Kendall's τ-b and Spearman's ρ over the designs both scored, the mean wall seconds per design, and
/// the amortised seconds per design (for the supernet: its one-off training spread over the designs).
/// A reference replicate is ranked against the mean of the <em>other</em> replicates (with one seed,
/// against itself: 1), so its τ is what one more reference training would achieve.
/// </summary>
public sealed record FidelitySummary(string Fidelity, int Designs, double KendallTau, double SpearmanRho, double SecondsPerDesign, double AmortisedSecondsPerDesign, double OneOffSeconds);

/// <summary>
/// Where a fidelity misjudges one parameter value (<see cref="FidelityComparison.BiasByParameter"/>): over the
/// <see cref="Designs"/> designs with that value, the mean of the fidelity's standardised scores and of the
/// reference's (each standardised over all designs both scored). <see cref="Gap"/> = reference − fidelity:
/// positive where the fidelity under-rates designs with this value, negative where it over-rates them.
/// </summary>
public sealed record ParameterBias(string Parameter, string Value, int Designs, double FidelityZ, double ReferenceZ)
{
    public double Gap => ReferenceZ - FidelityZ;
}

/// <summary>
/// <see cref="FidelityComparison.BiasByParameter"/>'s result: per parameter value its standing, and the
/// Pearson correlation of each design's gap (reference z − fidelity z) with its log MACs and log parameters
/// (NaN when sizes are missing or constant), i.e. whether the fidelity favours size.
/// </summary>
public sealed record FidelityBias(string Fidelity, int Designs, IReadOnlyList<ParameterBias> Values, double GapVsLogMacs, double GapVsLogParameters);

/// <summary>Rank agreement of two reference replicates (different seeds) over the designs both scored: the ceiling on any fidelity's τ against one seed.</summary>
public sealed record ReferenceAgreement(string A, string B, int Designs, double KendallTau, double SpearmanRho);

/// <summary>Everything one comparison measured: the per-design rows, the per-fidelity summary and the agreement between reference seeds.</summary>
public sealed record FidelityComparisonResult(IReadOnlyList<FidelityRow> Rows, IReadOnlyList<FidelitySummary> Summary, IReadOnlyList<ReferenceAgreement> ReferenceAgreement);

/// <summary>
/// Measures how well cheap fidelities (zero-cost proxies, the supernet, short training) rank designs
/// compared with longer standalone training, and what each costs per design. Used by
/// <c>tandem fidelity</c>; results are quoted in docs/accuracy.md.
/// </summary>
public static class FidelityComparison
{
    public const string Reference = "reference";

    public static IReadOnlyList<Design> SampleDesigns(INetworkFamily family, int count, int seed)
    {
        var space = new DesignSpace(family.Parameters);
        var rng = new Random(seed);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var designs = new List<Design>();
        for (int attempts = 0; designs.Count < count && attempts < count * 1000; attempts++)
        {
            var d = family.Canonicalize(space.Sample(rng));
            if (seen.Add(d.Key)) designs.Add(d);
        }
        return designs;
    }

    /// <summary>Row label of reference replicate <paramref name="replicate"/> (0-based): "reference", "reference_seed2", …</summary>
    public static string ReferenceLabel(int replicate) => replicate == 0 ? Reference : $"{Reference}_seed{replicate + 1}";

    /// <summary>True for the rows of any reference replicate.</summary>
    public static bool IsReference(string fidelity) =>
        fidelity == Reference || (fidelity.StartsWith(Reference + "_seed", StringComparison.Ordinal) && int.TryParse(fidelity.AsSpan(Reference.Length + 5), out _));

    /// <summary>
    /// The request seed of design <paramref name="design"/> for fidelity replicate <paramref name="replicate"/>:
    /// replicate 0 keeps the historical <c>seed·1000 + design</c>; later replicates are offset by 100 003 each
    /// (a prime, so they never collide with another design's seed for fewer than 100 000 designs).
    /// </summary>
    public static int RequestSeed(int seed, int design, int replicate) => unchecked(seed * 1000 + design + replicate * 100_003);

    /// <summary>Text identifying an evaluation: evaluator, its settings (sorted by key) and the replicate.</summary>
    private static string EvaluationKey(string evaluator, IEnumerable<(string Key, object? Value)> pairs, int replicate)
    {
        static string Text(object? v) => v switch
        {
            null => "",
            string t => t,
            System.Collections.IEnumerable list => "[" + string.Join(",", list.Cast<object?>().Select(Text)) + "]",
            IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
            _ => v.ToString() ?? "",
        };
        return $"{evaluator}|{replicate}|" + string.Join("|", pairs.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + Text(p.Value)));
    }

    /// <summary>
    /// Parses a <see cref="FidelityComparisonOptions.Fidelities"/> entry — <c>evaluator</c>, <c>label:evaluator</c>,
    /// or either followed by <c>/metric</c> to score by another metric of the evaluator than its first (e.g.
    /// <c>supernet-ll:supernet/log_likelihood</c>) — into its label, evaluator name and metric (null: the first).
    /// </summary>
    public static (string Label, string Evaluator, string? Metric) ParseFidelity(string entry)
    {
        int colon = entry.IndexOf(':', StringComparison.Ordinal);
        var (label, evaluator) = colon < 0 ? (entry.Trim(), entry.Trim()) : (entry[..colon].Trim(), entry[(colon + 1)..].Trim());
        string? metric = null;
        int slash = evaluator.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            metric = evaluator[(slash + 1)..].Trim();
            evaluator = evaluator[..slash].Trim();
            if (colon < 0) label = entry.Trim();
            if (metric.Length == 0)
                throw new Tandem.Core.Configuration.ConfigException($"fidelity '{entry}': expected a metric name after '/'");
        }
        if (label.Length == 0 || evaluator.Length == 0)
            throw new Tandem.Core.Configuration.ConfigException($"fidelity '{entry}': expected an evaluator name or label:evaluator, optionally followed by /metric");
        if (label.StartsWith(Reference, StringComparison.Ordinal))
            throw new Tandem.Core.Configuration.ConfigException($"fidelity '{entry}': labels starting with '{Reference}' are reserved for the reference trainings");
        return (label, evaluator, metric);
    }

    public static async Task<FidelityComparisonResult> RunAsync(
        FidelityComparisonOptions options, Action<FidelityRow>? onRow, IProgress<string>? log, CancellationToken ct,
        IReadOnlyList<FidelityRow>? previous = null)
    {
        if (options.ReferenceSeeds < 1) throw new Tandem.Core.Configuration.ConfigException($"reference seeds must be ≥ 1 (got {options.ReferenceSeeds})");
        var plan = options.Fidelities.Select(f => { var (label, evaluator, metric) = ParseFidelity(f); return (Name: label, Evaluator: evaluator, Metric: metric, Replicate: 0); }).ToList();
        var duplicate = plan.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null) throw new Tandem.Core.Configuration.ConfigException($"fidelity label '{duplicate.Key}' is given twice; name variants label:evaluator");
        for (int r = 0; r < options.ReferenceSeeds; r++) plan.Add((ReferenceLabel(r), "train", null, r));

        // Rows of an earlier, interrupted run (same fidelity and design key) are reused, not recomputed.
        var done = (previous ?? []).Where(r => r.Failure is null).GroupBy(r => (r.Fidelity, r.DesignKey)).ToDictionary(g => g.Key, g => g.First());
        var registry = TorchComponents.Register(new AccuracyEvaluatorRegistry());
        var environment = new AccuracyEnvironment { Family = options.Family, DataDirectory = options.DataDirectory, Seed = options.Seed };
        var designs = SampleDesigns(options.Family, options.Designs, options.Seed);
        var rows = new List<FidelityRow>();
        // Results per evaluator, settings and replicate: labels that differ only in the metric they rank
        // (label:evaluator/metric) share one evaluation of each design.
        var evaluated = new Dictionary<string, AccuracyResult?[]>(StringComparer.Ordinal);
        foreach (var (name, evaluatorName, metricName, replicate) in plan)
        {
            // A supernet's evaluation is cheap once it is trained (or cached) and its recipe may have
            // changed since the earlier run, so its rows are always recomputed.
            bool reuse = evaluatorName != "supernet";
            if (reuse && designs.All(d => done.ContainsKey((name, d.Key))))
            {
                for (int i = 0; i < designs.Count; i++)
                {
                    rows.Add(done[(name, designs[i].Key)] with { Design = i });
                }
                log?.Report($"{name}: reused {designs.Count} earlier results");
                continue;
            }
            var pairs = new List<(string Key, object? Value)> { ("dataset", options.Dataset), ("validation_samples", options.ValidationSamples) };
            if (IsReference(name))
            {
                pairs.Add(("epochs", options.ReferenceEpochs));
                pairs.Add(("train_samples", options.ReferenceTrainSamples));
            }
            if (options.Overrides.TryGetValue(IsReference(name) ? Reference : name, out var extra))
            {
                // Later pairs win: an override replaces a default key instead of duplicating it.
                pairs.RemoveAll(p => extra.Any(e => e.Key == p.Key));
                pairs.AddRange(extra);
            }
            string setting = EvaluationKey(evaluatorName, pairs, replicate);
            if (!evaluated.TryGetValue(setting, out var memo)) evaluated[setting] = memo = new AccuracyResult?[designs.Count];
            var evaluator = registry.Create(evaluatorName, ConfigPairs.Map($"fidelity '{name}'", pairs), environment);
            try
            {
                var task = evaluator.Task;
                string metric = metricName ?? evaluator.MetricNames[0];
                if (!evaluator.MetricNames.Contains(metric))
                    throw new Tandem.Core.Configuration.ConfigException(
                        $"fidelity '{name}': the {evaluatorName} evaluator has no metric '{metric}'; accepted: {string.Join(", ", evaluator.MetricNames)}");
                log?.Report($"{name}: {designs.Count} designs");
                for (int i = 0; i < designs.Count; i++)
                {
                    ct.ThrowIfCancellationRequested();
                    if (reuse && done.TryGetValue((name, designs[i].Key), out var earlier))
                    {
                        rows.Add(earlier with { Design = i });
                        continue;
                    }
                    var network = options.Family.Lower(designs[i], task.Input, task.NumClasses);
                    var request = new AccuracyRequest { Design = designs[i], Network = network, Seed = RequestSeed(options.Seed, i, replicate), Log = log is null ? null : new PrefixedProgress(log, $"{name} design {i + 1}/{designs.Count}: ") };
                    FidelityRow row;
                    double once = 0;
                    long start = Stopwatch.GetTimestamp();
                    try
                    {
                        var r = memo[i] ?? await evaluator.EvaluateAsync(request, ct).ConfigureAwait(false);
                        memo[i] = r;
                        // The supernet's training is the one-off cost its evaluations rest on, also when it was
                        // loaded from the cache; it is taken out of the design's seconds only where it was paid.
                        if (r.Attributes.TryGetValue("supernet_train_seconds", out var text)
                            && double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var ts))
                        {
                            once = ts;
                            if (r.Attributes.TryGetValue("supernet_trained_in_this_trial", out var here) && here == "yes")
                                r = r with { Seconds = Math.Max(0, r.Seconds - ts) };
                        }
                        row = new FidelityRow(i, designs[i].Key, network.TotalMacs, network.TotalParameters, name, r.Metrics[metric], r.Seconds, r.Epochs, null) { OneOffSeconds = once };
                    }
                    catch (AccuracyEvaluationException e)
                    {
                        row = new FidelityRow(i, designs[i].Key, network.TotalMacs, network.TotalParameters, name, double.NaN, Stopwatch.GetElapsedTime(start).TotalSeconds, 0, e.Message);
                    }
                    rows.Add(row);
                    onRow?.Invoke(row);
                    log?.Report($"{name} design {i + 1}/{designs.Count}: {row.Score:G5} in {row.Seconds:F1} s");
                }
            }
            finally { (evaluator as IDisposable)?.Dispose(); }
        }
        return new FidelityComparisonResult(rows, Summarise(rows, designs.Count), AgreeReferences(rows));
    }

    /// <summary>
    /// Per-fidelity τ, ρ and costs against the per-design mean of every reference replicate present
    /// (designs where some replicate failed are left out); replicates against the mean of the others.
    /// </summary>
    public static IReadOnlyList<FidelitySummary> Summarise(IReadOnlyList<FidelityRow> rows, int designs)
    {
        var replicates = ReplicateScores(rows, r => r.Design);
        var all = MeanReference(replicates.Values.ToList());
        return rows.GroupBy(r => r.Fidelity).Select(group =>
        {
            var reference = IsReference(group.Key) && replicates.Count > 1
                ? MeanReference(replicates.Where(p => p.Key != group.Key).Select(p => p.Value).ToList()) : all;
            return Summary(group, designs, r => reference.TryGetValue(r.Design, out var v) ? v : null);
        }).ToList();
    }

    /// <summary>
    /// Per-fidelity τ, ρ and costs of every label in <paramref name="rows"/> — its own reference
    /// replicates included, ranked like any other fidelity — against an outside reference, for
    /// example a longer training of the same designs in another run: <paramref name="reference"/> gives
    /// a score per design key (see <see cref="MeanReferenceByKey"/>). Designs it lacks are left out.
    /// </summary>
    public static IReadOnlyList<FidelitySummary> SummariseAgainst(IReadOnlyList<FidelityRow> rows, IReadOnlyDictionary<string, double> reference)
    {
        int designs = rows.Select(r => r.DesignKey).Distinct(StringComparer.Ordinal).Count();
        return rows.GroupBy(r => r.Fidelity).Select(group =>
            Summary(group, designs, r => reference.TryGetValue(r.DesignKey, out var v) ? v : null)).ToList();
    }

    /// <summary>
    /// Which design choices a fidelity misjudges: its scores and the reference's, each standardised (mean 0,
    /// population standard deviation 1) over the designs both scored, are averaged per value of every
    /// parameter of the design keys (<c>name=value;…</c>). A value whose designs the reference ranks higher
    /// than the fidelity does gets a positive gap. Values are listed per parameter in numeric order when
    /// every value is a number, else in text order. Needs at least two designs with finite scores on both sides.
    /// </summary>
    public static FidelityBias BiasByParameter(IReadOnlyList<FidelityRow> rows, string fidelity, IReadOnlyDictionary<string, double> reference)
    {
        var both = rows.Where(r => r.Fidelity == fidelity && double.IsFinite(r.Score) && reference.ContainsKey(r.DesignKey))
            .GroupBy(r => r.DesignKey, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        if (both.Count < 2)
            throw new ArgumentException($"fidelity '{fidelity}' has {both.Count} design(s) with a finite score and a reference score; at least 2 are needed");
        var fz = Standardise(both.Select(r => r.Score).ToArray());
        var rz = Standardise(both.Select(r => reference[r.DesignKey]).ToArray());
        var gap = fz.Select((f, i) => rz[i] - f).ToArray();
        var byValue = new Dictionary<(string Parameter, string Value), List<int>>();
        var parameters = new List<string>();
        for (int i = 0; i < both.Count; i++)
            foreach (var (name, value) in ParseKey(both[i].DesignKey))
            {
                if (!parameters.Contains(name)) parameters.Add(name);
                if (!byValue.TryGetValue((name, value), out var list)) byValue[(name, value)] = list = [];
                list.Add(i);
            }
        var result = new List<ParameterBias>();
        foreach (var name in parameters)
        {
            var values = byValue.Keys.Where(k => k.Parameter == name).Select(k => k.Value).ToList();
            bool numeric = values.All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
            var ordered = numeric ? values.OrderBy(v => double.Parse(v, CultureInfo.InvariantCulture)) : values.OrderBy(v => v, StringComparer.Ordinal);
            foreach (var v in ordered)
            {
                var members = byValue[(name, v)];
                result.Add(new ParameterBias(name, v, members.Count, members.Average(i => fz[i]), members.Average(i => rz[i])));
            }
        }
        double SizeCorrelation(Func<FidelityRow, long> size)
        {
            if (both.Any(r => size(r) <= 0)) return double.NaN;
            return RankCorrelation.PearsonR(both.Select(r => Math.Log(size(r))).ToArray(), gap);
        }
        return new FidelityBias(fidelity, both.Count, result, SizeCorrelation(r => r.Macs), SizeCorrelation(r => r.Parameters));
    }

    private static double[] Standardise(double[] values)
    {
        double mean = values.Average();
        double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
        return values.Select(v => sd > 0 ? (v - mean) / sd : 0).ToArray();
    }

    /// <summary>The <c>name=value</c> pairs of a design key (<c>;</c>-separated); parts without '=' are skipped.</summary>
    private static IEnumerable<(string Name, string Value)> ParseKey(string key)
    {
        foreach (var part in key.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0) yield return (part[..eq], part[(eq + 1)..]);
        }
    }

    /// <summary>
    /// One fidelity's finite scores by design key (the first row of a design counts), to rank the other
    /// fidelities against it as if it were the reference — how alike two cheap fidelities rank, say.
    /// </summary>
    public static Dictionary<string, double> ScoresByKey(IReadOnlyList<FidelityRow> rows, string fidelity) =>
        rows.Where(r => r.Fidelity == fidelity && double.IsFinite(r.Score)).GroupBy(r => r.DesignKey, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Score, StringComparer.Ordinal);

    /// <summary>Per design key, the mean score over the reference replicates of <paramref name="rows"/>, for designs every replicate scored with a finite value.</summary>
    public static Dictionary<string, double> MeanReferenceByKey(IReadOnlyList<FidelityRow> rows) =>
        MeanReference(ReplicateScores(rows, r => r.DesignKey).Values.ToList());

    /// <summary>Per reference replicate, each design's score (the first row of a design counts).</summary>
    private static Dictionary<string, Dictionary<TKey, double>> ReplicateScores<TKey>(IReadOnlyList<FidelityRow> rows, Func<FidelityRow, TKey> key) where TKey : notnull =>
        rows.Where(r => IsReference(r.Fidelity)).GroupBy(r => r.Fidelity)
            .ToDictionary(g => g.Key, g => g.GroupBy(key).ToDictionary(d => d.Key, d => d.First().Score));

    /// <summary>τ and ρ of one fidelity's finite scores against the reference score of each row's design (null: left out), with its costs.</summary>
    private static FidelitySummary Summary(IGrouping<string, FidelityRow> group, int designs, Func<FidelityRow, double?> referenceOf)
    {
        var both = group.Where(r => double.IsFinite(r.Score) && referenceOf(r) is not null).ToList();
        var x = both.Select(r => r.Score).ToArray();
        var y = both.Select(r => referenceOf(r)!.Value).ToArray();
        double tau = both.Count >= 2 ? RankCorrelation.KendallTau(x, y) : double.NaN;
        double rho = both.Count >= 2 ? RankCorrelation.SpearmanRho(x, y) : double.NaN;
        double mean = group.Average(r => r.Seconds);
        double once = group.Max(r => r.OneOffSeconds);
        return new FidelitySummary(group.Key, both.Count, tau, rho, mean, mean + once / Math.Max(1, designs), once);
    }

    /// <summary>τ and ρ between every pair of reference replicates, over the designs both scored.</summary>
    public static IReadOnlyList<ReferenceAgreement> AgreeReferences(IReadOnlyList<FidelityRow> rows)
    {
        var replicates = rows.Where(r => IsReference(r.Fidelity) && double.IsFinite(r.Score)).GroupBy(r => r.Fidelity)
            .OrderBy(g => g.Key == Reference ? 0 : 1).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Scores: g.GroupBy(r => r.Design).ToDictionary(d => d.Key, d => d.First().Score))).ToList();
        var result = new List<ReferenceAgreement>();
        for (int a = 0; a < replicates.Count; a++)
            for (int b = a + 1; b < replicates.Count; b++)
            {
                var common = replicates[a].Scores.Keys.Where(replicates[b].Scores.ContainsKey).Order().ToArray();
                var x = common.Select(d => replicates[a].Scores[d]).ToArray();
                var y = common.Select(d => replicates[b].Scores[d]).ToArray();
                result.Add(new ReferenceAgreement(replicates[a].Name, replicates[b].Name, common.Length,
                    common.Length >= 2 ? RankCorrelation.KendallTau(x, y) : double.NaN, common.Length >= 2 ? RankCorrelation.SpearmanRho(x, y) : double.NaN));
            }
        return result;
    }

    /// <summary>Per design, the mean score over <paramref name="replicates"/>, for designs every replicate scored with a finite value.</summary>
    private static Dictionary<TKey, double> MeanReference<TKey>(IReadOnlyList<Dictionary<TKey, double>> replicates) where TKey : notnull
    {
        var mean = new Dictionary<TKey, double>();
        if (replicates.Count == 0) return mean;
        foreach (var design in replicates[0].Keys)
        {
            double sum = 0;
            bool all = true;
            foreach (var r in replicates)
            {
                if (r.TryGetValue(design, out var v) && double.IsFinite(v)) sum += v;
                else { all = false; break; }
            }
            if (all) mean[design] = sum / replicates.Count;
        }
        return mean;
    }
}

/// <summary>Passes an evaluator's progress lines on with a prefix naming the fidelity and design (e.g. a supernet's training epochs).</summary>
internal sealed class PrefixedProgress(IProgress<string> inner, string prefix) : IProgress<string>
{
    public void Report(string value) => inner.Report(prefix + value);
}
