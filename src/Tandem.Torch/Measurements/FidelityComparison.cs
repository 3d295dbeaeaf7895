using System.Diagnostics;
using Tandem.Core.Accuracy;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;

namespace Tandem.Torch.Measurements;

/// <summary>
/// What <see cref="FidelityComparison"/> measures: <see cref="Designs"/> distinct random designs of
/// <see cref="Family"/> (seeded), each scored by every fidelity of <see cref="Fidelities"/> with its
/// default options, and by the reference: standalone training for <see cref="ReferenceEpochs"/> epochs
/// of <see cref="ReferenceTrainSamples"/> images (no time limit).
/// </summary>
public sealed record FidelityComparisonOptions
{
    public required INetworkFamily Family { get; init; }
    public int Designs { get; init; } = 30;
    public int Seed { get; init; } = 1;
    public string Dataset { get; init; } = "fashion-mnist";
    public string? DataDirectory { get; init; }
    public IReadOnlyList<string> Fidelities { get; init; } = ["synflow", "naswot", "grad_norm", "snip", "supernet", "train"];
    public double ReferenceEpochs { get; init; } = 3;
    public int ReferenceTrainSamples { get; init; } = 16_000;
    /// <summary>Training-file images held out for validation, the same for every fidelity.</summary>
    public int ValidationSamples { get; init; } = 5_000;
    /// <summary>Extra options for one fidelity's evaluator (e.g. "supernet" → epochs), merged over the defaults.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<(string Key, object? Value)>> Overrides { get; init; } =
        new Dictionary<string, IReadOnlyList<(string, object?)>>();
}

/// <summary>One design scored by one fidelity (reused rows of an earlier run are not reported to <c>onRow</c> again): the score (NaN when the evaluation failed, with the reason), wall seconds and epochs.</summary>
public sealed record FidelityRow(int Design, string DesignKey, long Macs, long Parameters, string Fidelity, double Score, double Seconds, double Epochs, string? Failure)
{
    /// <summary>Cost paid once for all designs by the evaluation of this row (the supernet's training), in seconds; 0 otherwise.</summary>
    public double OneOffSeconds { get; init; }
}

/// <summary>
/// How well one fidelity ranks the designs against the reference: Kendall's τ-b and Spearman's ρ over
/// the designs both scored, the mean wall seconds per design, and the amortised seconds per design
/// (for the supernet: its one-off training spread over the designs).
/// </summary>
public sealed record FidelitySummary(string Fidelity, int Designs, double KendallTau, double SpearmanRho, double SecondsPerDesign, double AmortisedSecondsPerDesign, double OneOffSeconds);

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

    public static async Task<(IReadOnlyList<FidelityRow> Rows, IReadOnlyList<FidelitySummary> Summary)> RunAsync(
        FidelityComparisonOptions options, Action<FidelityRow>? onRow, IProgress<string>? log, CancellationToken ct,
        IReadOnlyList<FidelityRow>? previous = null)
    {
        // Rows of an earlier, interrupted run (same fidelity and design key) are reused, not recomputed.
        var done = (previous ?? []).Where(r => r.Failure is null).GroupBy(r => (r.Fidelity, r.DesignKey)).ToDictionary(g => g.Key, g => g.First());
        var registry = TorchComponents.Register(new AccuracyEvaluatorRegistry());
        var environment = new AccuracyEnvironment { Family = options.Family, DataDirectory = options.DataDirectory, Seed = options.Seed };
        var designs = SampleDesigns(options.Family, options.Designs, options.Seed);
        var rows = new List<FidelityRow>();
        var plan = options.Fidelities.Select(f => (Name: f, Evaluator: f)).Append((Name: Reference, Evaluator: "train")).ToList();
        foreach (var (name, evaluatorName) in plan)
        {
            if (designs.All(d => done.ContainsKey((name, d.Key))))
            {
                for (int i = 0; i < designs.Count; i++)
                {
                    rows.Add(done[(name, designs[i].Key)] with { Design = i });
                }
                log?.Report($"{name}: reused {designs.Count} earlier results");
                continue;
            }
            var pairs = new List<(string Key, object? Value)> { ("dataset", options.Dataset), ("validation_samples", options.ValidationSamples) };
            if (name == Reference)
            {
                pairs.Add(("epochs", options.ReferenceEpochs));
                pairs.Add(("train_samples", options.ReferenceTrainSamples));
            }
            if (options.Overrides.TryGetValue(name, out var extra)) pairs.AddRange(extra);
            var evaluator = registry.Create(evaluatorName, ConfigPairs.Map($"fidelity '{name}'", pairs), environment);
            var task = evaluator.Task;
            string metric = evaluator.MetricNames[0];
            log?.Report($"{name}: {designs.Count} designs");
            for (int i = 0; i < designs.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                if (done.TryGetValue((name, designs[i].Key), out var earlier) && name != "supernet")
                {
                    rows.Add(earlier with { Design = i });
                    continue;
                }
                var network = options.Family.Lower(designs[i], task.Input, task.NumClasses);
                var request = new AccuracyRequest { Design = designs[i], Network = network, Seed = options.Seed * 1000 + i };
                FidelityRow row;
                double once = 0;
                long start = Stopwatch.GetTimestamp();
                try
                {
                    var r = await evaluator.EvaluateAsync(request, ct).ConfigureAwait(false);
                    if (r.Attributes.TryGetValue("supernet_trained_in_this_trial", out var here) && here == "yes"
                        && double.TryParse(r.Attributes["supernet_train_seconds"], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var ts))
                    {
                        once = ts;
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
            (evaluator as IDisposable)?.Dispose();
        }
        return (rows, Summarise(rows, designs.Count));
    }

    public static IReadOnlyList<FidelitySummary> Summarise(IReadOnlyList<FidelityRow> rows, int designs)
    {
        var oneOff = rows.GroupBy(r => r.Fidelity).ToDictionary(g => g.Key, g => g.Max(r => r.OneOffSeconds));
        var reference = rows.Where(r => r.Fidelity == Reference).ToDictionary(r => r.Design);
        var result = new List<FidelitySummary>();
        foreach (var group in rows.GroupBy(r => r.Fidelity))
        {
            var both = group.Where(r => double.IsFinite(r.Score) && reference.TryGetValue(r.Design, out var rf) && double.IsFinite(rf.Score)).ToList();
            var x = both.Select(r => r.Score).ToArray();
            var y = both.Select(r => reference[r.Design].Score).ToArray();
            double tau = both.Count >= 2 ? RankCorrelation.KendallTau(x, y) : double.NaN;
            double rho = both.Count >= 2 ? RankCorrelation.SpearmanRho(x, y) : double.NaN;
            double mean = group.Average(r => r.Seconds);
            double once = oneOff[group.Key];
            result.Add(new FidelitySummary(group.Key, both.Count, tau, rho, mean, mean + once / Math.Max(1, designs), once));
        }
        return result;
    }
}
