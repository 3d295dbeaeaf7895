using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tandem.Core.Benchmarking;

/// <summary>
/// Writes a benchmark's results: <c>summary.json</c> (per strategy, <c>hypervolume_ratio</c> and
/// <c>front_fraction</c> objects with <c>mean</c> and <c>std</c> at the final budget, per-seed values,
/// and curve checkpoints, and for a strategy that forecasts membership how its forecasts fared; the
/// exact front; the command and machine) and <c>curves.csv</c> (one row per
/// strategy and evaluation count: mean and standard deviation of both measures). Ratios are
/// fractions in [0, 1]; standard deviations are sample standard deviations over seeds.
/// </summary>
public static class BenchmarkReport
{
    /// <summary>Evaluation counts listed in the JSON curves (every count is in curves.csv).</summary>
    public static int[] Checkpoints(int budget)
    {
        var set = new SortedSet<int> { budget };
        foreach (int c in new[] { 1, 10, 25, 50, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000 }) if (c <= budget) set.Add(c);
        for (int c = 500; c < budget; c += 500) set.Add(c);
        return set.ToArray();
    }

    public static JsonObject Summary(BenchmarkResult result, JsonObject meta)
    {
        var strategies = new JsonObject();
        var checkpoints = Checkpoints(result.Budget);
        foreach (var s in result.Strategies)
        {
            var (hvMean, hvStd) = s.Curve(r => r.HypervolumeRatio);
            var (ffMean, ffStd) = s.Curve(r => r.FrontFraction);
            var found = StrategyResult.MeanStd(s.Runs.Select(r => (double)r.FrontFound).ToArray());
            var seconds = StrategyResult.MeanStd(s.Runs.Select(r => r.Seconds).ToArray());
            strategies[s.Label] = new JsonObject
            {
                ["hypervolume_ratio"] = new JsonObject
                {
                    ["mean"] = hvMean[^1], ["std"] = hvStd[^1],
                    ["per_seed"] = Array(s.Runs.Select(r => r.HypervolumeRatio[^1])),
                },
                ["front_fraction"] = new JsonObject
                {
                    ["mean"] = ffMean[^1], ["std"] = ffStd[^1],
                    ["per_seed"] = Array(s.Runs.Select(r => r.FrontFraction[^1])),
                },
                ["front_members_found"] = new JsonObject { ["mean"] = found.Mean, ["std"] = found.Std },
                ["seconds_per_run"] = new JsonObject { ["mean"] = seconds.Mean, ["std"] = seconds.Std },
                ["seeds"] = Array(s.Runs.Select(r => (double)r.Seed)),
                ["evaluations_per_run"] = Array(s.Runs.Select(r => (double)r.Evaluations)),
                ["curve"] = new JsonObject
                {
                    ["evaluations"] = Array(checkpoints.Select(c => (double)c)),
                    ["hypervolume_ratio_mean"] = Array(checkpoints.Select(c => hvMean[c - 1])),
                    ["hypervolume_ratio_std"] = Array(checkpoints.Select(c => hvStd[c - 1])),
                    ["front_fraction_mean"] = Array(checkpoints.Select(c => ffMean[c - 1])),
                    ["front_fraction_std"] = Array(checkpoints.Select(c => ffStd[c - 1])),
                },
            };
            if (Forecasts(result, s) is { } forecasts) strategies[s.Label]!["membership_forecasts"] = forecasts;
        }
        var root = new JsonObject();
        foreach (var (k, v) in meta) root[k] = v?.DeepClone();
        root["budget"] = result.Budget;
        root["exact_front"] = new JsonObject
        {
            ["size"] = result.Exact.Size,
            ["hypervolume"] = result.Exact.Hypervolume,
            ["reference_point_minimisation"] = Array(result.Exact.Nadir),
            ["members"] = new JsonArray(result.Exact.Members.Select(m => (JsonNode)JsonValue.Create(m.Key)!).ToArray()),
        };
        root["strategies"] = strategies;
        return root;
    }

    /// <summary>Upper ends of the forecast bands of <see cref="Forecasts"/> (the last band ends at 1 inclusive).</summary>
    private static readonly double[] Bands = [0.02, 0.05, 0.1, 0.2, 1];

    /// <summary>
    /// For a strategy whose runs forecast membership (<see cref="Search.IFrontForecast"/>): over all its
    /// forecast evaluations, their count, the sum of the forecasts (members expected) and the exact
    /// front members among them (members found), and the same per forecast band — how well calibrated
    /// the forecasts were. Null when the strategy made none.
    /// </summary>
    private static JsonObject? Forecasts(BenchmarkResult result, StrategyResult s)
    {
        var pairs = s.Runs.SelectMany(r => r.Keys.Select((k, i) => (Key: k, P: r.ForecastAt(i))))
            .Where(x => x.P is not null).Select(x => (x.P!.Value, Member: result.Exact.Keys.Contains(x.Key))).ToList();
        if (pairs.Count == 0) return null;
        var bands = new JsonArray();
        double lo = 0;
        foreach (double hi in Bands)
        {
            var inBand = pairs.Where(x => x.Value >= lo && (x.Value < hi || hi == 1)).ToList();
            bands.Add(new JsonObject
            {
                ["from"] = lo, ["to"] = hi, ["evaluations"] = inBand.Count,
                ["mean_forecast"] = inBand.Count == 0 ? null : inBand.Average(x => x.Value),
                ["member_share"] = inBand.Count == 0 ? null : inBand.Count(x => x.Member) / (double)inBand.Count,
            });
            lo = hi;
        }
        return new JsonObject
        {
            ["evaluations"] = pairs.Count,
            ["members_expected"] = pairs.Sum(x => x.Value),
            ["members_found"] = pairs.Count(x => x.Member),
            ["bands"] = bands,
        };
    }

    public static string CurvesCsv(BenchmarkResult result)
    {
        var sb = new StringBuilder("strategy,evaluations,hypervolume_ratio_mean,hypervolume_ratio_std,front_fraction_mean,front_fraction_std\n");
        foreach (var s in result.Strategies)
        {
            var (hvMean, hvStd) = s.Curve(r => r.HypervolumeRatio);
            var (ffMean, ffStd) = s.Curve(r => r.FrontFraction);
            for (int k = 0; k < hvMean.Length; k++)
                sb.Append(CultureInfo.InvariantCulture, $"{s.Label},{k + 1},{hvMean[k]:R},{hvStd[k]:R},{ffMean[k]:R},{ffStd[k]:R}\n");
        }
        return sb.ToString();
    }

    /// <summary>One row per evaluation of every run that recorded its designs: strategy, seed, evaluation number, design key, whether it is an exact front member, and the probability of membership the strategy predicted when it proposed the design (empty when it made no such forecast).</summary>
    public static string EvaluationsCsv(BenchmarkResult result)
    {
        var sb = new StringBuilder("strategy,seed,evaluation,design,exact_front_member,predicted_member_probability\n");
        foreach (var s in result.Strategies)
            foreach (var r in s.Runs)
                for (int k = 0; k < r.Keys.Count; k++)
                    sb.Append(CultureInfo.InvariantCulture, $"{Csv(s.Label)},{r.Seed},{k + 1},{Csv(r.Keys[k])},{(result.Exact.Keys.Contains(r.Keys[k]) ? 1 : 0)},{(r.ForecastAt(k) is double p ? p.ToString("R", CultureInfo.InvariantCulture) : "")}\n");
        return sb.ToString();
    }

    private static string Csv(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static async Task WriteAsync(BenchmarkResult result, JsonObject meta, string directory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        var json = Summary(result, meta).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        await File.WriteAllTextAsync(Path.Combine(directory, "summary.json"), json + "\n", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "curves.csv"), CurvesCsv(result), cancellationToken);
        if (result.Strategies.Any(s => s.Runs.Any(r => r.Keys.Count > 0)))
            await File.WriteAllTextAsync(Path.Combine(directory, "evaluations.csv"), EvaluationsCsv(result), cancellationToken);
    }

    private static JsonArray Array(IEnumerable<double> xs) => new(xs.Select(x => (JsonNode)JsonValue.Create(x)).ToArray());
}
