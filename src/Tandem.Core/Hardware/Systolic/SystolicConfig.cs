using System.Globalization;

namespace Tandem.Core.Hardware.Systolic;

/// <summary>How operands stay in the processing elements while the others stream past (SCALE-Sim's <c>os</c>, <c>ws</c>, <c>is</c>).</summary>
public enum SystolicDataflow
{
    /// <summary>Output stationary: each PE accumulates one output; ifmap rows and filter columns stream in.</summary>
    OutputStationary,
    /// <summary>Weight stationary: each PE holds one weight; ifmap pixels stream through.</summary>
    WeightStationary,
    /// <summary>Input stationary: each PE holds one ifmap element; filters stream through.</summary>
    InputStationary,
}

/// <summary>SCALE-Sim's <c>InterfaceBandwidth</c>: derive the DRAM bandwidth that never stalls (CALC) or use a fixed one (USER).</summary>
public enum SystolicBandwidthMode
{
    /// <summary>Reads never stall; DRAM counts follow SRAM capacity and reuse (SCALE-Sim <c>CALC</c>).</summary>
    Calc,
    /// <summary>Every DRAM interface moves <see cref="SystolicConfig.DramWordsPerCycle"/> words per cycle (SCALE-Sim <c>USER</c>).</summary>
    User,
}

/// <summary>
/// A systolic-array accelerator in SCALE-Sim v2's terms: a <see cref="Rows"/> × <see cref="Columns"/>
/// grid of MAC units, one <see cref="Dataflow"/>, three double-buffered scratchpads (ifmap, filter,
/// ofmap) sized in KiB, operands of <see cref="Bits"/> bits, a clock in hertz and a DRAM interface
/// mode. Invariants (checked by <see cref="Validate"/>): all sizes and the clock are positive; a word
/// is ⌈bits/8⌉ bytes, so 8-bit operands give SCALE-Sim's fixed one-byte word and identical counts.
/// </summary>
public sealed record SystolicConfig : AcceleratorConfig
{
    public required int Rows { get; init; }
    public required int Columns { get; init; }
    public SystolicDataflow Dataflow { get; init; } = SystolicDataflow.OutputStationary;
    public int IfmapSramKiB { get; init; } = 64;
    public int FilterSramKiB { get; init; } = 64;
    public int OfmapSramKiB { get; init; } = 64;

    /// <summary>Operand precision in bits (8 reproduces SCALE-Sim, whose word is one byte).</summary>
    public int Bits { get; init; } = 8;

    /// <summary>Clock frequency in hertz.</summary>
    public double ClockFrequencyHz { get; init; } = 1e9;

    public SystolicBandwidthMode BandwidthMode { get; init; } = SystolicBandwidthMode.Calc;

    /// <summary>Words per cycle on each DRAM interface in <see cref="SystolicBandwidthMode.User"/> mode (SCALE-Sim's <c>Bandwidth</c>).</summary>
    public int DramWordsPerCycle { get; init; } = 10;

    public override double ClockHz => ClockFrequencyHz;

    /// <summary>Bytes per word: ⌈<see cref="Bits"/>/8⌉.</summary>
    public int WordBytes => (Bits + 7) / 8;

    public long IfmapSramWords => IfmapSramKiB * 1024L / WordBytes;
    public long FilterSramWords => FilterSramKiB * 1024L / WordBytes;
    public long OfmapSramWords => OfmapSramKiB * 1024L / WordBytes;

    public static string DataflowCode(SystolicDataflow d) => d switch
    {
        SystolicDataflow.OutputStationary => "os",
        SystolicDataflow.WeightStationary => "ws",
        _ => "is",
    };

    /// <summary>Parses "os", "ws" or "is" (any case); null when the text is none of them.</summary>
    public static SystolicDataflow? ParseDataflow(string text) => text.Trim().ToLowerInvariant() switch
    {
        "os" => SystolicDataflow.OutputStationary,
        "ws" => SystolicDataflow.WeightStationary,
        "is" => SystolicDataflow.InputStationary,
        _ => null,
    };

    /// <summary>Throws <see cref="InputException"/> naming the first field out of range.</summary>
    public void Validate()
    {
        static void Positive(string name, double v)
        {
            if (!(v > 0) || double.IsInfinity(v)) throw new InputException($"systolic config: {name} must be a positive number (got {v.ToString(CultureInfo.InvariantCulture)})");
        }
        Positive("rows", Rows);
        Positive("columns", Columns);
        Positive("ifmap SRAM KiB", IfmapSramKiB);
        Positive("filter SRAM KiB", FilterSramKiB);
        Positive("ofmap SRAM KiB", OfmapSramKiB);
        Positive("bits", Bits);
        Positive("clock Hz", ClockFrequencyHz);
        if (BandwidthMode == SystolicBandwidthMode.User) Positive("DRAM bandwidth (words per cycle)", DramWordsPerCycle);
    }

    public override string Describe() => FormattableString.Invariant(
        $"systolic {Rows}x{Columns} {DataflowCode(Dataflow).ToUpperInvariant()}, {IfmapSramKiB}/{FilterSramKiB}/{OfmapSramKiB} KiB, {Bits}-bit, {ClockFrequencyHz / 1e6:0.###} MHz, ")
        + (BandwidthMode == SystolicBandwidthMode.Calc ? "CALC bandwidth" : FormattableString.Invariant($"USER {DramWordsPerCycle} words/cycle"));
}
