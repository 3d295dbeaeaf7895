using System.Collections.Immutable;
using System.Globalization;
using Tandem.Core.Workloads;

namespace Tandem.Core.Hardware.Systolic;

/// <summary>
/// One layer of the IR as the systolic array runs it: the SCALE-Sim figures of one pass, how many
/// identical passes the layer needs (the groups of a grouped convolution), and its energy in
/// picojoules. Layers that do not run on the array (pooling, element-wise) have zero passes.
/// </summary>
public readonly record struct SystolicLayerEvaluation(
    SystolicLayerResult Pass, int Passes, double EnergyPicojoules, double MacEnergyPicojoules,
    double SramEnergyPicojoules, double DramEnergyPicojoules)
{
    public bool OnArray => Passes > 0;
    public long Cycles => Pass.TotalCycles * Passes;
    public long StallCycles => Pass.StallCycles * Passes;
    public long Macs => Pass.Macs * Passes;
    public long SramReads => (Pass.SramIfmapReads + Pass.SramFilterReads) * Passes;
    public long SramWrites => Pass.SramOfmapWrites * Passes;
    public long DramReads => (Pass.DramIfmapReads + Pass.DramFilterReads) * Passes;
    public long DramWrites => Pass.DramOfmapWrites * Passes;
}

/// <summary>
/// The systolic template's cost model: <see cref="SystolicModel"/> per layer (exact against SCALE-Sim
/// v2), energy from access counts × per-access energies of a <see cref="TechnologyTable"/>, area
/// from PE count, precision and SRAM sizes. Mapping of the IR: a convolution with padding stores the
/// padding; a grouped or depthwise convolution runs as <c>groups</c> sequential convolutions of C/g
/// channels and N/g filters; a dense layer is a GEMM with M = 1 per sample; a MatMul is its GEMM;
/// pooling and element-wise layers do not use the array: they add no cycles (assumed overlapped on a
/// vector unit) but pay one SRAM read per input word, one SRAM write per output word and one add per
/// operation. Thread-safe. Per-layer results are memoised per instance (at most
/// <c>cacheCapacity</c> entries; 0 turns the memo off), because a search evaluates the same layer
/// shapes on the same arrays over and over; the memo changes no figure.
/// </summary>
public sealed class SystolicCostModel(TechnologyTable? technology = null, int cacheCapacity = 1 << 16) : ICostModel
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<LayerKey, SystolicLayerResult>? _memo =
        cacheCapacity > 0 ? new() : null;

    private readonly record struct LayerKey(SystolicLayerShape Shape, int Rows, int Columns, SystolicDataflow Dataflow,
        long IfmapWords, long FilterWords, long OfmapWords, SystolicBandwidthMode Mode, int DramWordsPerCycle);

    public TechnologyTable Technology { get; } = technology ?? TechnologyTable.Default45nm;

    /// <summary>SCALE-Sim figures of one layer on one array, memoised.</summary>
    public SystolicLayerResult Simulate(in SystolicLayerShape shape, SystolicConfig config)
    {
        if (_memo is null) return SystolicModel.Evaluate(shape, config);
        var key = new LayerKey(shape, config.Rows, config.Columns, config.Dataflow, config.IfmapSramWords, config.FilterSramWords,
            config.OfmapSramWords, config.BandwidthMode, config.BandwidthMode == SystolicBandwidthMode.User ? config.DramWordsPerCycle : 0);
        if (_memo.TryGetValue(key, out var hit)) return hit;
        var result = SystolicModel.Evaluate(shape, config);
        if (_memo.Count >= cacheCapacity) _memo.Clear();
        _memo[key] = result;
        return result;
    }

    public HardwareReport Evaluate(Workload workload, AcceleratorConfig config, CostOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(workload);
        if (config is not SystolicConfig sc)
            throw new ArgumentException($"the systolic cost model needs a {nameof(SystolicConfig)}, got {config.GetType().Name}", nameof(config));
        sc.Validate();
        options ??= CostOptions.Default;

        long cycles = 0, stalls = 0, macs = 0, sramReads = 0, sramWrites = 0, dramReads = 0, dramWrites = 0;
        double energy = 0, macEnergy = 0, sramEnergy = 0, dramEnergy = 0;
        var layers = options.PerLayer ? ImmutableArray.CreateBuilder<LayerCost>(workload.Layers.Length) : null;
        bool truncated = false;
        string? reason = null;

        foreach (var layer in workload.Layers)
        {
            var e = EvaluateLayer(layer, sc);
            cycles += e.Cycles; stalls += e.StallCycles; macs += e.Macs;
            sramReads += e.SramReads; sramWrites += e.SramWrites; dramReads += e.DramReads; dramWrites += e.DramWrites;
            energy += e.EnergyPicojoules; macEnergy += e.MacEnergyPicojoules; sramEnergy += e.SramEnergyPicojoules; dramEnergy += e.DramEnergyPicojoules;
            layers?.Add(ToLayerCost(layer, e));

            if (options.LatencyBudgetSeconds is double lat && cycles / sc.ClockHz > lat)
            {
                truncated = true;
                reason = string.Create(CultureInfo.InvariantCulture, $"latency exceeded the budget of {lat:G4} s after layer '{layer.Name}'");
                break;
            }
            if (options.EnergyBudgetPicojoules is double eb && energy > eb)
            {
                truncated = true;
                reason = string.Create(CultureInfo.InvariantCulture, $"energy exceeded the budget of {eb:G4} pJ after layer '{layer.Name}'");
                break;
            }
        }

        return new HardwareReport
        {
            Template = SystolicTemplate.TemplateName,
            Cycles = cycles,
            ClockHz = sc.ClockHz,
            EnergyPicojoules = energy,
            AreaSquareMillimetres = AreaSquareMillimetres(sc),
            Layers = layers?.ToImmutable() ?? [],
            Truncated = truncated,
            TruncationReason = reason,
            Extra = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["stall_cycles"] = stalls,
                ["util_pct"] = cycles > 0 ? macs * 100.0 / ((double)cycles * sc.Rows * sc.Columns) : 0,
                ["macs"] = macs,
                ["sram_reads_words"] = sramReads,
                ["sram_writes_words"] = sramWrites,
                ["dram_reads_words"] = dramReads,
                ["dram_writes_words"] = dramWrites,
                ["mac_energy_pj"] = macEnergy,
                ["sram_energy_pj"] = sramEnergy,
                ["dram_energy_pj"] = dramEnergy,
                ["pe_count"] = (double)sc.Rows * sc.Columns,
            },
        };
    }

    /// <summary>Silicon area: PEs at the configured precision plus the three SRAMs, in mm².</summary>
    public double AreaSquareMillimetres(SystolicConfig config) =>
        (double)config.Rows * config.Columns * Technology.PeAreaSquareMillimetres(config.Bits)
        + Technology.SramAreaSquareMillimetres(config.IfmapSramKiB + config.FilterSramKiB + config.OfmapSramKiB);

    /// <summary>Evaluates one IR layer (see the type's remarks for how each kind maps to the array).</summary>
    public SystolicLayerEvaluation EvaluateLayer(Layer layer, SystolicConfig config)
    {
        switch (layer)
        {
            case Conv2dLayer conv:
                return OnArray(SystolicLayerShape.FromConv(conv), conv.Groups, config);
            case DenseLayer dense:
                return OnArray(SystolicLayerShape.FromGemm(1, dense.OutFeatures, dense.InFeatures), 1, config);
            case MatMulLayer mm:
                return OnArray(SystolicLayerShape.FromGemm(mm.M, mm.N, mm.K), 1, config);
            default:
            {
                double reads = layer.Input.Elements * (layer is ElementwiseLayer ew ? ew.Arity : 1);
                double writes = layer.Output.Elements;
                double sram = reads * Technology.SramAccessEnergyPicojoules(config.IfmapSramKiB, config.Bits)
                              + writes * Technology.SramAccessEnergyPicojoules(config.OfmapSramKiB, config.Bits);
                double ops = layer.OtherOperations * Technology.AddEnergyPicojoules(config.Bits);
                return new SystolicLayerEvaluation(default, 0, sram + ops, ops, sram, 0);
            }
        }
    }

    /// <summary>Evaluates one SCALE-Sim layer shape run <paramref name="passes"/> times.</summary>
    public SystolicLayerEvaluation OnArray(in SystolicLayerShape shape, int passes, SystolicConfig config)
    {
        var r = Simulate(shape, config);
        var t = Technology;
        int bits = config.Bits;
        double mac = r.Macs * t.MacEnergyPicojoules(bits);
        // Every DRAM read also fills an SRAM word and every DRAM write first reads one out.
        double sram = (r.SramIfmapReads + r.DramIfmapReads) * t.SramAccessEnergyPicojoules(config.IfmapSramKiB, bits)
                      + (r.SramFilterReads + r.DramFilterReads) * t.SramAccessEnergyPicojoules(config.FilterSramKiB, bits)
                      + (r.SramOfmapWrites + r.DramOfmapWrites) * t.SramAccessEnergyPicojoules(config.OfmapSramKiB, bits);
        double dram = (r.DramIfmapReads + r.DramFilterReads + r.DramOfmapWrites) * t.DramAccessEnergyPicojoules(bits);
        return new SystolicLayerEvaluation(r, passes, (mac + sram + dram) * passes, mac * passes, sram * passes, dram * passes);
    }

    private static LayerCost ToLayerCost(Layer layer, SystolicLayerEvaluation e)
    {
        var p = e.Pass;
        var detail = ImmutableDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        detail["on_array"] = e.OnArray ? 1 : 0;
        if (e.OnArray)
        {
            detail["passes"] = e.Passes;
            detail["stall_cycles"] = e.StallCycles;
            detail["util_pct"] = p.OverallUtilPct;
            detail["mapping_eff_pct"] = p.MappingEfficiencyPct;
            detail["compute_util_pct"] = p.ComputeUtilPct;
            detail["macs"] = e.Macs;
            detail["sram_ifmap_reads_words"] = p.SramIfmapReads * (double)e.Passes;
            detail["sram_filter_reads_words"] = p.SramFilterReads * (double)e.Passes;
            detail["sram_ofmap_writes_words"] = p.SramOfmapWrites * (double)e.Passes;
            detail["dram_ifmap_reads_words"] = p.DramIfmapReads * (double)e.Passes;
            detail["dram_filter_reads_words"] = p.DramFilterReads * (double)e.Passes;
            detail["dram_ofmap_writes_words"] = p.DramOfmapWrites * (double)e.Passes;
        }
        detail["mac_energy_pj"] = e.MacEnergyPicojoules;
        detail["sram_energy_pj"] = e.SramEnergyPicojoules;
        detail["dram_energy_pj"] = e.DramEnergyPicojoules;
        return new LayerCost(layer.Name, e.Cycles, e.EnergyPicojoules) { Detail = detail.ToImmutable() };
    }
}
