using Tandem.Core.Hardware.Systolic;
using Tandem.Core.Workloads.ScaleSim;
using Tandem.Testing;

namespace Tandem.Core.Tests.Workloads.ScaleSim;

public sealed class ScaleSimConfigReaderTests
{
    private const string Good = """
        [general]
        run_name = edge_os

        [architecture_presets]
        ArrayHeight:    16
        ArrayWidth:     8
        IfmapSramSzkB:   32
        FilterSramSzkB:  16
        OfmapSramSzkB:   8
        IfmapOffset:    0
        FilterOffset:   10000000
        OfmapOffset:    20000000
        Bandwidth : 4
        Dataflow : ws
        MemoryBanks:   1

        [run_presets]
        InterfaceBandwidth: USER
        """;

    private static ScaleSimConfig Parse(string text) => ScaleSimConfigReader.Parse("arr.cfg", text.Split('\n'));

    [Fact]
    public void ReadsEveryField()
    {
        var c = Parse(Good);
        Assert.Equal("edge_os", c.RunName);
        Assert.Equal(16, c.Config.Rows);
        Assert.Equal(8, c.Config.Columns);
        Assert.Equal(32, c.Config.IfmapSramKiB);
        Assert.Equal(16, c.Config.FilterSramKiB);
        Assert.Equal(8, c.Config.OfmapSramKiB);
        Assert.Equal(SystolicDataflow.WeightStationary, c.Config.Dataflow);
        Assert.Equal(SystolicBandwidthMode.User, c.Config.BandwidthMode);
        Assert.Equal(4, c.Config.DramWordsPerCycle);
    }

    [Fact]
    public void ReadsTheReferenceConfigs()
    {
        string dir = ReferenceData.Require("scalesim/configs");
        foreach (var file in Directory.GetFiles(dir, "*.cfg"))
        {
            var c = ScaleSimConfigReader.Read(file);
            Assert.Equal(file.Contains("_userbw") ? SystolicBandwidthMode.User : SystolicBandwidthMode.Calc, c.Config.BandwidthMode);
            Assert.Equal(64, c.Config.IfmapSramKiB);
        }
    }

    [Theory]
    [InlineData("ArrayHeight:    16", "ArrayHeight:    0", "arr.cfg:5: field 'ArrayHeight' must be positive")]
    [InlineData("ArrayHeight:    16", "ArrayHeight:    -4", "arr.cfg:5: field 'ArrayHeight' must be positive")]
    [InlineData("ArrayWidth:     8", "ArrayWidth:     eight", "arr.cfg:6: field 'ArrayWidth' must be an integer")]
    [InlineData("ArrayWidth:     8", "", "arr.cfg: missing field 'ArrayWidth'")]
    [InlineData("Dataflow : ws", "Dataflow : rs", "arr.cfg:14: field 'Dataflow' must be os, ws or is (got 'rs')")]
    [InlineData("InterfaceBandwidth: USER", "InterfaceBandwidth: FAST", "field 'InterfaceBandwidth' must be CALC or USER")]
    [InlineData("Bandwidth : 4", "Bandwidth : 0", "arr.cfg:13: field 'Bandwidth' must be positive")]
    [InlineData("Bandwidth : 4", "", "arr.cfg: missing field 'Bandwidth'")]
    [InlineData("OfmapSramSzkB:   8", "OfmapSramSzkB   8", "arr.cfg:9: expected 'key: value'")]
    [InlineData("[run_presets]", "[run_presets", "section header '[run_presets' has no closing ']'")]
    [InlineData("IfmapOffset:    0", "IfmapOffset:    zero", "field 'IfmapOffset' must be an integer")]
    public void BadConfigNamesFileLineAndField(string replace, string with, string expected)
    {
        var e = Assert.Throws<InputException>(() => Parse(Good.Replace(replace, with)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void KeyBeforeAnySectionIsRejected()
    {
        var e = Assert.Throws<InputException>(() => ScaleSimConfigReader.Parse("x.cfg", ["ArrayHeight: 8"]));
        Assert.Contains("x.cfg:1", e.Message);
    }

    [Fact]
    public void MissingFileIsInputError()
    {
        var e = Assert.Throws<InputException>(() => ScaleSimConfigReader.Read("/nonexistent/dir/a.cfg"));
        Assert.Contains("/nonexistent/dir/a.cfg", e.Message);
    }
}

public sealed class ScaleSimTopologyReaderTests
{
    private const string Header = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,";

    private static ScaleSimTopology Conv(params string[] rows) => ScaleSimTopologyReader.Parse("net.csv", [Header, .. rows]);

    [Fact]
    public void ReadsConvRowsWithSharedStrideAndCeilOutputRule()
    {
        var t = Conv("Conv1, 224, 224, 11, 11, 3, 96, 4,", "", "Conv2, 27, 27, 5, 5, 96, 256, 1");
        Assert.Equal(2, t.Layers.Count);
        var l = t.Layers[0];
        Assert.Equal("Conv1", l.Name);
        Assert.Equal(2, l.Line);
        Assert.Equal(55, l.Shape.OfmapHeight); // ⌈(224 − 11 + 4) / 4⌉, one more than floor's 54
        Assert.Equal(4, l.Shape.StrideWidth);
        Assert.True(l.Layer.CeilMode);
        Assert.Equal(0, l.Layer.PadHeight);
        Assert.Equal(SystolicLayerShape.FromConv(l.Layer), l.Shape);
        Assert.Equal(4, t.Layers[1].Line);
        Assert.Equal(2, t.ToWorkloads().Count());
    }

    [Fact]
    public void KeepsSeparateStrideWidthAndScaleSimDepthwiseRowsAsWritten()
    {
        var t = Conv("A, 10, 12, 3, 3, 8, 4, 1, 2,", "DW, 112, 112, 3, 3, 32, 1, 1,");
        Assert.Equal(1, t.Layers[0].Shape.StrideHeight);
        Assert.Equal(2, t.Layers[0].Shape.StrideWidth);
        Assert.Equal(32, t.Layers[1].Shape.Channels);
        Assert.Equal(1, t.Layers[1].Shape.Filters);
        Assert.Equal(1, t.Layers[1].Layer.Groups);
    }

    [Fact]
    public void ReadsGemmRowsAsScaleSimsEquivalentConvolution()
    {
        var t = ScaleSimTopologyReader.Parse("g.csv", ["Layer, M, N, K,", "QK, 128, 64, 256,"], gemm: true);
        var s = t.Layers[0].Shape;
        Assert.Equal((128, 256, 1, 256, 1, 64), (s.IfmapHeight, s.IfmapWidth, s.FilterHeight, s.FilterWidth, s.Channels, s.Filters));
        Assert.Equal((128L, 64L, 256L), (s.M, s.N, s.K));
    }

    [Theory]
    [InlineData("C, 10, 10, 3, 3, 8, 4,", "net.csv:2: expected 8 or 9 fields")]
    [InlineData("C, 10, 10, 3, 3, 8, 4, 1, 1, 1,", "net.csv:2: expected 8 or 9 fields")]
    [InlineData("C, 10, ten, 3, 3, 8, 4, 1,", "net.csv:2: field 'IFMAP width' must be an integer (got 'ten')")]
    [InlineData("C, 10, 10, 0, 3, 8, 4, 1,", "net.csv:2: field 'filter height' must be positive (got 0)")]
    [InlineData("C, 10, 10, 3, 3, -8, 4, 1,", "net.csv:2: field 'channels' must be positive (got -8)")]
    [InlineData("C, 10, 10, 3, 3, 8, 4, 0,", "net.csv:2: field 'stride' must be positive")]
    [InlineData("C, 10, 10, 11, 3, 8, 4, 1,", "net.csv:2: field 'filter height' (11) exceeds 'IFMAP height' (10)")]
    [InlineData("C, 10, 10, 3, 12, 8, 4, 1,", "net.csv:2: field 'filter width' (12) exceeds 'IFMAP width' (10)")]
    [InlineData(" , 10, 10, 3, 3, 8, 4, 1,", "net.csv:2: field 'layer name' is empty")]
    public void BadConvRowNamesFileLineAndField(string row, string expected)
    {
        var e = Assert.Throws<InputException>(() => Conv(row));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("G, 128, 64,", "g.csv:2: expected 4 fields")]
    [InlineData("G, 128, 0, 64,", "g.csv:2: field 'N' must be positive")]
    [InlineData("G, 1.5, 2, 64,", "g.csv:2: field 'M' must be an integer")]
    public void BadGemmRowNamesFileLineAndField(string row, string expected)
    {
        var e = Assert.Throws<InputException>(() => ScaleSimTopologyReader.Parse("g.csv", ["Layer, M, N, K,", row], gemm: true));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void HeaderOnlyFileHasNoLayers()
    {
        var e = Assert.Throws<InputException>(() => Conv());
        Assert.Contains("net.csv: no layers", e.Message);
    }
}
