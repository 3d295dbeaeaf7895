using System.Collections.Immutable;
using Tandem.Core.Objectives;

namespace Tandem.Core.Hardware;

/// <summary>
/// Cost of one layer on one accelerator. <see cref="Detail"/> holds template-specific figures whose
/// names carry their unit (e.g. "dram_reads_words", "util_pct").
/// </summary>
public sealed record LayerCost(string Name, long Cycles, double EnergyPicojoules)
{
    public IReadOnlyDictionary<string, double> Detail { get; init; } = ImmutableDictionary<string, double>.Empty;
}

/// <summary>
/// Modelled cost of a whole workload on one accelerator configuration: latency in cycles at a clock,
/// energy per inference in picojoules, silicon area in mm², and (optionally) the per-layer breakdown.
/// When <see cref="Truncated"/> is set, evaluation stopped early at a budget and the totals are lower bounds.
/// </summary>
public sealed record HardwareReport
{
    public required string Template { get; init; }
    public required long Cycles { get; init; }
    public required double ClockHz { get; init; }
    public required double EnergyPicojoules { get; init; }
    public required double AreaSquareMillimetres { get; init; }
    public ImmutableArray<LayerCost> Layers { get; init; } = [];
    public bool Truncated { get; init; }
    public string? TruncationReason { get; init; }

    /// <summary>Template-specific totals; each name carries its unit.</summary>
    public IReadOnlyDictionary<string, double> Extra { get; init; } = ImmutableDictionary<string, double>.Empty;

    public double LatencySeconds => Cycles / ClockHz;

    /// <summary>Average power over one inference, in watts.</summary>
    public double AveragePowerWatts => LatencySeconds > 0 ? EnergyPicojoules * 1e-12 / LatencySeconds : 0;

    /// <summary>The standard metrics (see <see cref="MetricNames"/>) plus <see cref="Extra"/>.</summary>
    public Dictionary<string, double> ToMetrics()
    {
        var m = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [MetricNames.LatencyMs] = LatencySeconds * 1e3,
            [MetricNames.EnergyMicrojoules] = EnergyPicojoules * 1e-6,
            [MetricNames.AreaMm2] = AreaSquareMillimetres,
            [MetricNames.PowerMw] = AveragePowerWatts * 1e3,
            [MetricNames.Cycles] = Cycles,
        };
        foreach (var (k, v) in Extra) m[k] = v;
        return m;
    }
}
