using Tandem.Cli;
using Tandem.Testing;

namespace Tandem.Cli.Tests;

public sealed class SimulateCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new("tandem-simulate");
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();

    public void Dispose() => _dir.Dispose();

    private CliContext Context() => CliHarness.CreateContext(_dir.Path, _out, _err);

    private const string Cfg = """
        [general]
        run_name = t32_os
        [architecture_presets]
        ArrayHeight:    32
        ArrayWidth:     32
        IfmapSramSzkB:   64
        FilterSramSzkB:  64
        OfmapSramSzkB:   64
        IfmapOffset:    0
        FilterOffset:   10000000
        OfmapOffset:    20000000
        Bandwidth : 10
        Dataflow : os
        MemoryBanks:   1
        [run_presets]
        InterfaceBandwidth: CALC
        """;

    private const string Topology = """
        Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
        Conv1, 224, 224, 11, 11, 3, 96, 4,
        Conv5_s, 14, 14, 1, 1, 256, 512, 2,
        """;

    private string Write(string name, string text)
    {
        File.WriteAllText(_dir.File(name), text);
        return name;
    }

    private Task<int> Run(params string[] args) => TandemCli.RunAsync(["simulate", .. args], Context());

    [Fact]
    public async Task WritesScaleSimReportsAndPrintsATableWithUnits()
    {
        int code = await Run("--config", Write("a.cfg", Cfg), "--topology", Write("t.csv", Topology), "--out", "reports");
        Assert.True(code == 0, _err.ToString());
        string dir = _dir.File("reports");
        var compute = File.ReadAllLines(Path.Combine(dir, "COMPUTE_REPORT.csv"));
        Assert.Equal("LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,", compute[0]);
        // AlexNet Conv1 on 32×32 OS: SCALE-Sim v2 reports 121124 cycles, 0 stalls, 84.99102675770285 % utilisation.
        Assert.StartsWith("0, 121124, 0, 84.99102675770285, 99.50657894736842, ", compute[1]);
        Assert.Equal(3, compute.Length);
        var detail = File.ReadAllLines(Path.Combine(dir, "DETAILED_ACCESS_REPORT.csv"));
        Assert.StartsWith("LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, ", detail[0]);
        Assert.Equal("0, 1.0, 120979.0, 3294225, 1.0, 121094.0, 3310560, 362.0, 121124.0, 308640, -3275.0, 113828.0, 519810, -3275.0, 81063.0, 44366, 13962.0, 122007.0, 290431,", detail[1]);
        var bandwidth = File.ReadAllLines(Path.Combine(dir, "BANDWIDTH_REPORT.csv"));
        Assert.Equal("LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, Avg IFMAP DRAM BW, Avg FILTER DRAM BW, Avg OFMAP DRAM BW,", bandwidth[0]);
        Assert.True(File.Exists(Path.Combine(dir, "ENERGY_AREA_REPORT.csv")));

        string printed = _out.ToString();
        Assert.Contains("Cycles", printed);
        Assert.Contains("(words)", printed);
        Assert.Contains("(µJ)", printed);
        Assert.Contains("Conv5_s", printed);
        Assert.Contains("Total", printed);
        Assert.Contains("mm²", printed);
    }

    [Fact]
    public async Task ReadsGemmTopologiesWithTheFlag()
    {
        int code = await Run("--config", Write("a.cfg", Cfg.Replace("Dataflow : os", "Dataflow : ws")),
            "--topology", Write("g.csv", "Layer, M, N, K,\nTest1, 128, 64, 256,\n"), "--gemm", "--out", "g");
        Assert.True(code == 0, _err.ToString());
        var compute = File.ReadAllLines(_dir.File("g/COMPUTE_REPORT.csv"));
        // SCALE-Sim v2: the test GEMM on 32×32 WS runs in 3551 cycles.
        Assert.StartsWith("0, 3551, 0, ", compute[1]);
    }

    [Theory]
    [InlineData("Dataflow : os", "Dataflow : xs", "a.cfg:13: field 'Dataflow' must be os, ws or is")]
    [InlineData("ArrayHeight:    32", "ArrayHeight:    -32", "a.cfg:4: field 'ArrayHeight' must be positive")]
    [InlineData("ArrayWidth:     32", "ArrayWidth:     wide", "a.cfg:5: field 'ArrayWidth' must be an integer")]
    public async Task MalformedConfigExitsTwoNamingFileLineAndField(string replace, string with, string expected)
    {
        int code = await Run("--config", Write("a.cfg", Cfg.Replace(replace, with)), "--topology", Write("t.csv", Topology), "--out", "r");
        Assert.Equal(2, code);
        Assert.Contains(expected, _err.ToString());
        Assert.False(Directory.Exists(_dir.File("r")), "nothing is written on bad input");
    }

    [Theory]
    [InlineData("Conv1, 224, 224, 11, 11, 3, 96, 4,", "Conv1, 224, 224, 11, 11, 3, 0, 4,", "t.csv:2: field 'number of filters' must be positive")]
    [InlineData("Conv1, 224, 224, 11, 11, 3, 96, 4,", "Conv1, 224, 224, 300, 11, 3, 96, 4,", "t.csv:2: field 'filter height' (300) exceeds 'IFMAP height' (224)")]
    [InlineData("Conv5_s, 14, 14, 1, 1, 256, 512, 2,", "Conv5_s, 14, 14, 1, 1, 256,", "t.csv:3: expected 8 or 9 fields")]
    public async Task MalformedTopologyExitsTwoNamingFileLineAndField(string replace, string with, string expected)
    {
        int code = await Run("--config", Write("a.cfg", Cfg), "--topology", Write("t.csv", Topology.Replace(replace, with)), "--out", "r");
        Assert.Equal(2, code);
        Assert.Contains(expected, _err.ToString());
    }

    [Fact]
    public async Task MissingFilesAndOptionsExitTwo()
    {
        Assert.Equal(2, await Run("--config", "nope.cfg", "--topology", Write("t.csv", Topology), "--out", "r"));
        Assert.Contains("nope.cfg: config file not found", _err.ToString());
        Assert.Equal(2, await Run("--topology", "t.csv", "--out", "r"));
        Assert.Equal(2, await Run("--config", Write("a.cfg", Cfg), "--topology", Write("t.csv", Topology), "--out", "r", "--clock-mhz", "0"));
        Assert.Contains("--clock-mhz", _err.ToString());
    }

    [Fact]
    public async Task UserTechnologyTableChangesEnergyAndBadTablesExitTwo()
    {
        Write("cheap.json", """{ "DramEnergyPicojoulesPer64Bits": 0 }""");
        Assert.Equal(0, await Run("--config", Write("a.cfg", Cfg), "--topology", Write("t.csv", Topology), "--out", "d", "--technology", "cheap.json"));
        Assert.Equal(0, await Run("--config", "a.cfg", "--topology", "t.csv", "--out", "e"));
        var cheap = File.ReadAllLines(_dir.File("d/ENERGY_AREA_REPORT.csv"))[1].Split(", ");
        var normal = File.ReadAllLines(_dir.File("e/ENERGY_AREA_REPORT.csv"))[1].Split(", ");
        Assert.Equal("0.0", cheap[5]);
        Assert.True(double.Parse(normal[6], System.Globalization.CultureInfo.InvariantCulture) > double.Parse(cheap[6], System.Globalization.CultureInfo.InvariantCulture));

        Write("bad.json", """{ "DramEnergy": 1 }""");
        Assert.Equal(2, await Run("--config", "a.cfg", "--topology", "t.csv", "--out", "f", "--technology", "bad.json"));
        Assert.Contains("unknown field 'DramEnergy'", _err.ToString());
    }
}
