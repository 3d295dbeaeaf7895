using Tandem.Core.Hardware;
using Tandem.Testing;

namespace Tandem.Core.Tests.Hardware;

public sealed class TechnologyTableTests
{
    [Fact]
    public void DefaultsReproduceTheirSourcePoints()
    {
        var t = TechnologyTable.Default45nm;
        Assert.Equal(45, t.NodeNanometres);
        // Horowitz ISSCC 2014: 8 KB and 32 KB SRAM, 64-bit access: 10 pJ and 20 pJ; 1 MB ≈ 100 pJ.
        Assert.Equal(10, t.SramAccessEnergyPicojoules(8, 64), 9);
        Assert.Equal(20, t.SramAccessEnergyPicojoules(32, 64), 9);
        Assert.InRange(t.SramAccessEnergyPicojoules(1024, 64), 90, 120);
        // 32-bit multiply 3.1 pJ and add 0.1 pJ through the power laws.
        Assert.InRange(t.MultiplyEnergyPicojoules8Bit * Math.Pow(4, t.MultiplyEnergyExponent), 3.05, 3.15);
        Assert.InRange(t.AddEnergyPicojoules(32), 0.098, 0.102);
        Assert.Equal(1300.0 / 8, t.DramAccessEnergyPicojoules(8), 9);
        Assert.True(t.MacEnergyPicojoules(16) > t.MacEnergyPicojoules(8));
        Assert.True(t.PeAreaSquareMillimetres(16) > t.PeAreaSquareMillimetres(8));
    }

    [Fact]
    public void LoadsAPartialUserTableKeepingOtherDefaults()
    {
        using var dir = new TempDirectory();
        string path = dir.File("tech.json");
        File.WriteAllText(path, """{ "nodeNanometres": 28, "DramEnergyPicojoulesPer64Bits": 640, }""");
        var t = TechnologyTable.Load(path);
        Assert.Equal(28, t.NodeNanometres);
        Assert.Equal(640, t.DramEnergyPicojoulesPer64Bits);
        Assert.Equal(TechnologyTable.Default45nm.SramAreaSquareMillimetresPerKiB, t.SramAreaSquareMillimetresPerKiB);
    }

    [Theory]
    [InlineData("{ \"dramEnergy\": 3 }", "unknown field 'dramEnergy'")]
    [InlineData("{ \"NodeNanometres\": -1 }", "field 'NodeNanometres' must be a non-negative number")]
    [InlineData("{ \"NodeNanometres\": \"45\" }", "field 'NodeNanometres' must be a non-negative number")]
    [InlineData("[1, 2]", "must be a JSON object")]
    [InlineData("{ \"NodeNanometres\": ", "not valid JSON")]
    public void BadTablesNameFileAndField(string json, string expected)
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws<InputException>(() => TechnologyTable.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }
}
