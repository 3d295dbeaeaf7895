namespace Tandem.Core.Objectives;

/// <summary>
/// Names of the metrics Tandem produces. A metric's unit is part of its name where one exists
/// (<c>_ms</c>, <c>_uj</c>, <c>_mm2</c>, <c>_mw</c>); <see cref="MetricUnits"/> maps names to display units.
/// </summary>
public static class MetricNames
{
    /// <summary>Validation (search-time) accuracy in percent.</summary>
    public const string Accuracy = "accuracy";
    /// <summary>Test accuracy in percent after the final retraining (never used for selection).</summary>
    public const string TestAccuracy = "test_accuracy";
    public const string LatencyMs = "latency_ms";
    public const string EnergyMicrojoules = "energy_uj";
    public const string AreaMm2 = "area_mm2";
    public const string PowerMw = "power_mw";
    public const string Cycles = "cycles";
    public const string Macs = "macs";
    public const string Parameters = "params";
    /// <summary>Seconds spent obtaining the accuracy figure.</summary>
    public const string AccuracySeconds = "accuracy_seconds";
    /// <summary>Training epochs spent obtaining the accuracy figure (fractional for partial epochs).</summary>
    public const string AccuracyEpochs = "accuracy_epochs";
}

/// <summary>Display units of metrics, from the name (known names first, then the unit suffix).</summary>
public static class MetricUnits
{
    private static readonly Dictionary<string, string> Known = new(StringComparer.Ordinal)
    {
        [MetricNames.Accuracy] = "%",
        [MetricNames.TestAccuracy] = "%",
        [MetricNames.Cycles] = "cycles",
        [MetricNames.Macs] = "MACs",
        [MetricNames.Parameters] = "parameters",
        [MetricNames.AccuracySeconds] = "s",
        [MetricNames.AccuracyEpochs] = "epochs",
    };

    private static readonly (string Suffix, string Unit)[] Suffixes =
    [
        ("_ms", "ms"), ("_us", "µs"), ("_s", "s"), ("_seconds", "s"), ("_uj", "µJ"), ("_mj", "mJ"), ("_pj", "pJ"),
        ("_nj", "nJ"), ("_mm2", "mm²"), ("_mw", "mW"), ("_w", "W"), ("_pct", "%"), ("_acc", "%"), ("_accuracy", "%"),
        ("_kb", "KiB"), ("_bytes", "B"), ("_words", "words"), ("_cycles", "cycles"), ("_mhz", "MHz"),
    ];

    public static string Of(string metric)
    {
        if (Known.TryGetValue(metric, out var u)) return u;
        foreach (var (suffix, unit) in Suffixes)
            if (metric.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) return unit;
        return "";
    }

    /// <summary>"latency_ms [ms]" style header; bare name when the unit is unknown.</summary>
    public static string Header(string metric) => Of(metric) is { Length: > 0 } u ? $"{metric} [{u}]" : metric;
}
