using Tandem.Core.Hardware;
using Tandem.Core.Hardware.Systolic;
using Tandem.Core.Spaces;
using Tandem.Core.Workloads;

namespace Tandem.Core.Tests.Hardware.Systolic;

public sealed class SystolicCostModelTests
{
    private static readonly SystolicConfig Edge = new()
    {
        Rows = 16, Columns = 16, Dataflow = SystolicDataflow.WeightStationary,
        IfmapSramKiB = 32, FilterSramKiB = 32, OfmapSramKiB = 32, ClockFrequencyHz = 400e6,
    };

    private static Workload SmallCnn() => new("small", new TensorShape(1, 28, 28),
    [
        new Conv2dLayer { Name = "c1", Input = new(1, 28, 28), OutChannels = 8, KernelHeight = 3, KernelWidth = 3, PadHeight = 1, PadWidth = 1 },
        new Conv2dLayer { Name = "dw", Input = new(8, 28, 28), OutChannels = 8, KernelHeight = 3, KernelWidth = 3, PadHeight = 1, PadWidth = 1, Groups = 8 },
        new PoolLayer { Name = "pool", Input = new(8, 28, 28), Kind = PoolKind.Max },
        new DenseLayer { Name = "fc", Input = new(8, 14, 14), OutFeatures = 10 },
    ]);

    [Fact]
    public void ReportSumsLayersAndChargesEveryAccess()
    {
        var model = new SystolicCostModel();
        var w = SmallCnn();
        var report = model.Evaluate(w, Edge);
        Assert.Equal("systolic", report.Template);
        Assert.Equal(4, report.Layers.Length);
        Assert.Equal(report.Layers.Sum(l => l.Cycles), report.Cycles);
        Assert.Equal(report.Layers.Sum(l => l.EnergyPicojoules), report.EnergyPicojoules, 6);
        Assert.Equal(w.TotalMacs, (long)report.Extra["macs"]);
        Assert.Equal(0, report.Layers[2].Cycles);
        Assert.True(report.Layers[2].EnergyPicojoules > 0, "pooling still reads and writes SRAM");
        Assert.Equal(400e6, report.ClockHz);
        Assert.True(report.AreaSquareMillimetres > 0);
        Assert.False(report.Truncated);
    }

    [Fact]
    public void DepthwiseRunsAsOnePassPerGroup()
    {
        var model = new SystolicCostModel();
        var dw = (Conv2dLayer)SmallCnn().Layers[1];
        var e = model.EvaluateLayer(dw, Edge);
        Assert.Equal(8, e.Passes);
        Assert.Equal(28L * 28 * 9, e.Pass.Macs); // one channel, one filter per pass
        Assert.Equal(dw.Macs, e.Macs);
        var single = SystolicModel.Evaluate(new SystolicLayerShape(30, 30, 3, 3, 1, 1, 1, 1, 28, 28), Edge);
        Assert.Equal(single.TotalCycles * 8, e.Cycles);
    }

    [Fact]
    public void DenseIsAGemmWithOneRowPerSample()
    {
        var e = new SystolicCostModel().EvaluateLayer(SmallCnn().Layers[3], Edge);
        var gemm = SystolicModel.Evaluate(SystolicLayerShape.FromGemm(1, 10, 8 * 14 * 14), Edge);
        Assert.Equal(gemm, e.Pass);
        Assert.Equal(1, e.Passes);
        Assert.Equal(10L * 8 * 14 * 14, e.Macs);
    }

    [Fact]
    public void EnergyIsAccessCountsTimesTableEnergies()
    {
        var t = TechnologyTable.Default45nm;
        var e = new SystolicCostModel(t).EvaluateLayer(SmallCnn().Layers[0], Edge);
        var p = e.Pass;
        double sram = (p.SramIfmapReads + p.DramIfmapReads + p.SramFilterReads + p.DramFilterReads + p.SramOfmapWrites + p.DramOfmapWrites)
                      * t.SramAccessEnergyPicojoules(32, 8);
        double dram = (p.DramIfmapReads + p.DramFilterReads + p.DramOfmapWrites) * t.DramAccessEnergyPicojoules(8);
        Assert.Equal(p.Macs * t.MacEnergyPicojoules(8) + sram + dram, e.EnergyPicojoules, 6);
        var cheaperDram = new SystolicCostModel(t with { DramEnergyPicojoulesPer64Bits = 0 }).EvaluateLayer(SmallCnn().Layers[0], Edge);
        Assert.Equal(e.EnergyPicojoules - dram, cheaperDram.EnergyPicojoules, 6);
    }

    [Fact]
    public void LatencyBudgetStopsEarlyAndMarksTruncated()
    {
        var model = new SystolicCostModel();
        var full = model.Evaluate(SmallCnn(), Edge);
        double firstLayerSeconds = full.Layers[0].Cycles / Edge.ClockHz;
        var cut = model.Evaluate(SmallCnn(), Edge, new CostOptions { LatencyBudgetSeconds = firstLayerSeconds * 0.5 });
        Assert.True(cut.Truncated);
        Assert.Single(cut.Layers);
        Assert.Contains("latency", cut.TruncationReason);
        var energyCut = model.Evaluate(SmallCnn(), Edge, new CostOptions { EnergyBudgetPicojoules = 1, PerLayer = false });
        Assert.True(energyCut.Truncated);
        Assert.Empty(energyCut.Layers);
    }

    [Fact]
    public void LargerArraysCostMoreArea()
    {
        var model = new SystolicCostModel();
        Assert.True(model.AreaSquareMillimetres(Edge with { Rows = 32 }) > model.AreaSquareMillimetres(Edge));
        Assert.True(model.AreaSquareMillimetres(Edge with { Bits = 16 }) > model.AreaSquareMillimetres(Edge));
    }

    [Fact]
    public void TemplateExposesHwParametersAndDecodes()
    {
        var template = new SystolicTemplate(new SystolicTemplateOptions { Bits = [8, 16] });
        var names = template.Parameters.Select(p => p.Name).ToList();
        Assert.Equal(["hw.rows", "hw.cols", "hw.dataflow", "hw.ifmap_sram_kb", "hw.filter_sram_kb", "hw.ofmap_sram_kb", "hw.clock_mhz", "hw.bits"], names);
        var space = new DesignSpace(template.Parameters);
        var design = space.Parse(new Dictionary<string, string>
        {
            ["hw.rows"] = "8", ["hw.cols"] = "32", ["hw.dataflow"] = "is", ["hw.ifmap_sram_kb"] = "16",
            ["hw.filter_sram_kb"] = "8", ["hw.ofmap_sram_kb"] = "128", ["hw.clock_mhz"] = "400", ["hw.bits"] = "16",
        });
        var config = Assert.IsType<SystolicConfig>(template.Decode(design));
        Assert.Equal((8, 32, SystolicDataflow.InputStationary, 16, 8, 128, 400e6, 16),
            (config.Rows, config.Columns, config.Dataflow, config.IfmapSramKiB, config.FilterSramKiB, config.OfmapSramKiB, config.ClockHz, config.Bits));
        Assert.True(template.CostModel.Evaluate(SmallCnn(), config).Cycles > 0);
        Assert.DoesNotContain("hw.bits", new SystolicTemplate().Parameters.Select(p => p.Name));
    }

    [Fact]
    public void BadTemplateOptionsAreInputErrors()
    {
        Assert.Contains("hw.dataflow", Assert.Throws<InputException>(() => new SystolicTemplate(new SystolicTemplateOptions { Dataflows = ["os", "rs"] })).Message);
        Assert.Contains("hw.rows", Assert.Throws<InputException>(() => new SystolicTemplate(new SystolicTemplateOptions { Rows = [0, 8] })).Message);
        Assert.Contains("hw.clock_mhz", Assert.Throws<InputException>(() => new SystolicTemplate(new SystolicTemplateOptions { ClockMHz = [] })).Message);
    }
}
