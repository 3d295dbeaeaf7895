using Tandem.Core.Spaces;

namespace Tandem.Core.Hardware.Systolic;

/// <summary>
/// Domains of the systolic template's <c>hw.*</c> parameters. Defaults suit a small edge accelerator
/// searched together with CNNs for 28×28 grey images. Every list must be non-empty; sizes are
/// positive (rows, columns, SRAM KiB, clock MHz, bits); dataflows are "os", "ws" or "is".
/// </summary>
public sealed record SystolicTemplateOptions
{
    public IReadOnlyList<int> Rows { get; init; } = [4, 8, 16, 32, 64];
    public IReadOnlyList<int> Columns { get; init; } = [4, 8, 16, 32, 64];
    public IReadOnlyList<string> Dataflows { get; init; } = ["os", "ws", "is"];
    public IReadOnlyList<int> IfmapSramKiB { get; init; } = [8, 16, 32, 64, 128];
    public IReadOnlyList<int> FilterSramKiB { get; init; } = [8, 16, 32, 64, 128];
    public IReadOnlyList<int> OfmapSramKiB { get; init; } = [8, 16, 32, 64, 128];
    public IReadOnlyList<int> ClockMHz { get; init; } = [200, 400, 800];

    /// <summary>Operand precisions to search; a single value fixes the precision and adds no <c>hw.bits</c> parameter.</summary>
    public IReadOnlyList<int> Bits { get; init; } = [8];

    /// <summary>CALC (SCALE-Sim's stall-free DRAM) or USER with <see cref="DramWordsPerCycle"/>.</summary>
    public SystolicBandwidthMode BandwidthMode { get; init; } = SystolicBandwidthMode.Calc;
    public int DramWordsPerCycle { get; init; } = 10;

    /// <summary>Energy and area constants; null means <see cref="TechnologyTable.Default45nm"/>.</summary>
    public TechnologyTable? Technology { get; init; }
}

/// <summary>
/// The systolic-array accelerator template: parameters <c>hw.rows</c>, <c>hw.cols</c>,
/// <c>hw.dataflow</c> (os/ws/is), <c>hw.ifmap_sram_kb</c>, <c>hw.filter_sram_kb</c>,
/// <c>hw.ofmap_sram_kb</c>, <c>hw.clock_mhz</c> and, when more than one precision is offered,
/// <c>hw.bits</c>; a design decodes into a <see cref="SystolicConfig"/> evaluated by
/// <see cref="SystolicCostModel"/>.
/// </summary>
public sealed class SystolicTemplate : IAcceleratorTemplate
{
    public const string TemplateName = "systolic";

    private readonly SystolicTemplateOptions _options;

    public SystolicTemplate(SystolicTemplateOptions? options = null)
    {
        _options = options ?? new SystolicTemplateOptions();
        Validate(_options);
        var parameters = new List<Parameter>
        {
            new OrdinalParameter("hw.rows", _options.Rows.Select(v => (double)v)),
            new OrdinalParameter("hw.cols", _options.Columns.Select(v => (double)v)),
            new CategoricalParameter("hw.dataflow", _options.Dataflows.Select(d => d.Trim().ToLowerInvariant())),
            new OrdinalParameter("hw.ifmap_sram_kb", _options.IfmapSramKiB.Select(v => (double)v)),
            new OrdinalParameter("hw.filter_sram_kb", _options.FilterSramKiB.Select(v => (double)v)),
            new OrdinalParameter("hw.ofmap_sram_kb", _options.OfmapSramKiB.Select(v => (double)v)),
            new OrdinalParameter("hw.clock_mhz", _options.ClockMHz.Select(v => (double)v)),
        };
        if (_options.Bits.Distinct().Count() > 1) parameters.Add(new OrdinalParameter("hw.bits", _options.Bits.Select(v => (double)v)));
        Parameters = parameters;
        CostModel = new SystolicCostModel(_options.Technology);
    }

    public string Name => TemplateName;
    public IReadOnlyList<Parameter> Parameters { get; }
    public ICostModel CostModel { get; }

    public AcceleratorConfig Decode(Design design)
    {
        ArgumentNullException.ThrowIfNull(design);
        var config = new SystolicConfig
        {
            Rows = design.GetInt("hw.rows"),
            Columns = design.GetInt("hw.cols"),
            Dataflow = SystolicConfig.ParseDataflow(design.GetString("hw.dataflow"))
                       ?? throw new InputException($"hw.dataflow: '{design.GetString("hw.dataflow")}' is not os, ws or is"),
            IfmapSramKiB = design.GetInt("hw.ifmap_sram_kb"),
            FilterSramKiB = design.GetInt("hw.filter_sram_kb"),
            OfmapSramKiB = design.GetInt("hw.ofmap_sram_kb"),
            ClockFrequencyHz = design.GetDouble("hw.clock_mhz") * 1e6,
            Bits = design.Space.Contains("hw.bits") ? design.GetInt("hw.bits") : _options.Bits[0],
            BandwidthMode = _options.BandwidthMode,
            DramWordsPerCycle = _options.DramWordsPerCycle,
        };
        config.Validate();
        return config;
    }

    private static void Validate(SystolicTemplateOptions o)
    {
        static void Positive(string name, IReadOnlyList<int> values)
        {
            if (values is null || values.Count == 0) throw new InputException($"{name}: give at least one value");
            if (values.Any(v => v < 1)) throw new InputException($"{name}: every value must be ≥ 1 (got {string.Join(", ", values)})");
        }
        Positive("hw.rows", o.Rows);
        Positive("hw.cols", o.Columns);
        Positive("hw.ifmap_sram_kb", o.IfmapSramKiB);
        Positive("hw.filter_sram_kb", o.FilterSramKiB);
        Positive("hw.ofmap_sram_kb", o.OfmapSramKiB);
        Positive("hw.clock_mhz", o.ClockMHz);
        Positive("hw.bits", o.Bits);
        if (o.Dataflows is null || o.Dataflows.Count == 0) throw new InputException("hw.dataflow: give at least one of os, ws, is");
        foreach (var d in o.Dataflows)
            if (SystolicConfig.ParseDataflow(d) is null) throw new InputException($"hw.dataflow: unknown dataflow '{d}'; accepted: os, ws, is");
        if (o.BandwidthMode == SystolicBandwidthMode.User && o.DramWordsPerCycle < 1)
            throw new InputException($"DRAM bandwidth must be ≥ 1 word per cycle in USER mode (got {o.DramWordsPerCycle})");
    }
}
