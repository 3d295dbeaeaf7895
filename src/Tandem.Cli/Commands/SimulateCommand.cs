using System.CommandLine;
using System.Globalization;
using System.Text;
using Tandem.Core;
using Tandem.Core.Hardware;
using Tandem.Core.Hardware.Systolic;
using Tandem.Core.Workloads.ScaleSim;

namespace Tandem.Cli.Commands;

/// <summary>
/// <c>tandem simulate</c>: SCALE-Sim v2's inputs in, SCALE-Sim v2's three reports out (same file
/// names, header spelling and column order), plus an energy and area report, from Tandem's
/// analytical systolic model.
/// </summary>
internal static class SimulateCommand
{
    public static Command Create(CliContext context)
    {
        var config = new Option<string>("--config") { Description = "SCALE-Sim v2 architecture config (.cfg).", Required = true };
        var topology = new Option<string>("--topology") { Description = "SCALE-Sim v2 topology CSV (convolution rows, or M,N,K rows with --gemm).", Required = true };
        var gemm = new Option<bool>("--gemm") { Description = "Read the topology as GEMM rows: name, M, N, K." };
        var output = new Option<string>("--out") { Description = "Folder for COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv, DETAILED_ACCESS_REPORT.csv and ENERGY_AREA_REPORT.csv.", Required = true };
        var clock = new Option<double>("--clock-mhz") { Description = "Clock for latency and power figures (SCALE-Sim has none), in MHz.", DefaultValueFactory = _ => 1000 };
        var technology = new Option<string?>("--technology") { Description = "JSON technology table overriding the 45 nm defaults (energy per access, area per component)." };

        var command = new Command("simulate", "Run a SCALE-Sim v2 config and topology through Tandem's exact systolic-array model and write SCALE-Sim's reports.")
        {
            config, topology, gemm, output, clock, technology,
        };
        command.SetAction(parse => Run(context,
            context.ResolvePath(parse.GetValue(config)!), context.ResolvePath(parse.GetValue(topology)!), parse.GetValue(gemm),
            context.ResolvePath(parse.GetValue(output)!), parse.GetValue(clock),
            parse.GetValue(technology) is { } t ? context.ResolvePath(t) : null));
        return command;
    }

    private static int Run(CliContext context, string configPath, string topologyPath, bool gemm, string outDir, double clockMhz, string? technologyPath)
    {
        if (!(clockMhz > 0) || double.IsInfinity(clockMhz)) throw new InputException($"--clock-mhz must be a positive number (got {clockMhz.ToString(CultureInfo.InvariantCulture)})");
        if (!File.Exists(configPath)) throw new InputException($"{configPath}: config file not found");
        if (!File.Exists(topologyPath)) throw new InputException($"{topologyPath}: topology file not found");
        var cfg = ScaleSimConfigReader.Read(configPath, clockMhz * 1e6);
        var topo = ScaleSimTopologyReader.Read(topologyPath, gemm);
        var tech = technologyPath is null ? TechnologyTable.Default45nm : TechnologyTable.Load(technologyPath);
        var model = new SystolicCostModel(tech);
        var sc = cfg.Config;

        var evaluations = topo.Layers.Select(l => model.OnArray(l.Shape, 1, sc)).ToList();
        double area = model.AreaSquareMillimetres(sc);

        WriteReports(outDir, topo, evaluations, area, sc);
        Print(context, cfg, topo, evaluations, area, outDir);
        return TandemCli.ExitOk;
    }

    private static void Print(CliContext context, ScaleSimConfig cfg, ScaleSimTopology topo, List<SystolicLayerEvaluation> evals, double area, string outDir)
    {
        var sc = cfg.Config;
        // A redirected console defaults to 80 columns, which would wrap every figure of a ten-column table.
        if (!context.Interactive) context.Out.Profile.Width = Math.Max(context.Out.Profile.Width, 180);
        context.Out.WriteLine($"{cfg.RunName}: {sc.Describe()}; topology {topo.Name} ({topo.Layers.Count} layers)");
        var table = new Table().AddColumns(
            "Layer", "Cycles", "Stall cycles", "Util (%)", "Mapping eff. (%)",
            "SRAM reads (words)", "SRAM writes (words)", "DRAM reads (words)", "DRAM writes (words)", "Energy (µJ)");
        for (int c = 1; c < table.Columns.Count; c++) table.Columns[c].RightAligned();
        long cycles = 0, stalls = 0, macs = 0, sr = 0, sw = 0, dr = 0, dw = 0;
        double energy = 0;
        for (int i = 0; i < evals.Count; i++)
        {
            var e = evals[i];
            var p = e.Pass;
            table.AddRow(Markup.Escape(topo.Layers[i].Name), N(p.TotalCycles), N(p.StallCycles), F(p.OverallUtilPct), F(p.MappingEfficiencyPct),
                N(e.SramReads), N(e.SramWrites), N(e.DramReads), N(e.DramWrites), F(e.EnergyPicojoules * 1e-6, "0.000"));
            cycles += e.Cycles; stalls += e.StallCycles; macs += e.Macs;
            sr += e.SramReads; sw += e.SramWrites; dr += e.DramReads; dw += e.DramWrites;
            energy += e.EnergyPicojoules;
        }
        double util = cycles > 0 ? macs * 100.0 / ((double)cycles * sc.Rows * sc.Columns) : 0;
        table.AddRow("[bold]Total[/]", N(cycles), N(stalls), F(util), "", N(sr), N(sw), N(dr), N(dw), F(energy * 1e-6, "0.000"));
        context.Out.Write(table);
        double latencyMs = cycles / sc.ClockHz * 1e3;
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Total: {cycles:N0} cycles = {latencyMs:0.####} ms at {sc.ClockHz / 1e6:0.###} MHz; {macs:N0} MACs; energy {energy * 1e-6:0.###} µJ; area {area:0.####} mm²; average power {(latencyMs > 0 ? energy * 1e-12 / (latencyMs * 1e-3) * 1e3 : 0):0.###} mW"));
        context.Out.WriteLine($"Reports written to {outDir}");
    }

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
    private static string F(double v, string format = "0.00") => v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Python's str() of a float, which SCALE-Sim's report writer uses: shortest round-trip, integral values with ".0".</summary>
    internal static string Py(double v)
    {
        if (double.IsFinite(v) && v == Math.Floor(v) && Math.Abs(v) < 1e16) return v.ToString("0", CultureInfo.InvariantCulture) + ".0";
        return v.ToString("R", CultureInfo.InvariantCulture);
    }

    private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);

    internal const string ComputeHeader = "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,";
    internal const string BandwidthHeader = "LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, Avg IFMAP DRAM BW, Avg FILTER DRAM BW, Avg OFMAP DRAM BW,";
    internal const string DetailHeader = "LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, SRAM Filter Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, SRAM OFMAP Start Cycle, SRAM OFMAP Stop Cycle, SRAM OFMAP Writes, DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,";
    internal const string EnergyHeader = "LayerID, Layer, MACs, MAC Energy (pJ), SRAM Energy (pJ), DRAM Energy (pJ), Total Energy (pJ), Cycles, Latency (s),";

    private static void WriteReports(string outDir, ScaleSimTopology topo, List<SystolicLayerEvaluation> evals, double area, SystolicConfig sc)
    {
        var compute = new StringBuilder(ComputeHeader + "\n");
        var bandwidth = new StringBuilder(BandwidthHeader + "\n");
        var detail = new StringBuilder(DetailHeader + "\n");
        var energy = new StringBuilder(EnergyHeader + "\n");
        for (int i = 0; i < evals.Count; i++)
        {
            var e = evals[i];
            var r = e.Pass;
            compute.Append(CultureInfo.InvariantCulture, $"{i}, {I(r.TotalCycles)}, {I(r.StallCycles)}, {Py(r.OverallUtilPct)}, {Py(r.MappingEfficiencyPct)}, {Py(r.ComputeUtilPct)},\n");
            bandwidth.Append(CultureInfo.InvariantCulture, $"{i}, {Py(r.AvgIfmapSramBandwidth)}, {Py(r.AvgFilterSramBandwidth)}, {Py(r.AvgOfmapSramBandwidth)}, {Py(r.AvgIfmapDramBandwidth)}, {Py(r.AvgFilterDramBandwidth)}, {Py(r.AvgOfmapDramBandwidth)},\n");
            detail.Append(CultureInfo.InvariantCulture,
                $"{i}, {Py(r.SramIfmapStartCycle)}, {Py(r.SramIfmapStopCycle)}, {I(r.SramIfmapReads)}, {Py(r.SramFilterStartCycle)}, {Py(r.SramFilterStopCycle)}, {I(r.SramFilterReads)}, " +
                $"{Py(r.SramOfmapStartCycle)}, {Py(r.SramOfmapStopCycle)}, {I(r.SramOfmapWrites)}, {Py(r.DramIfmapStartCycle)}, {Py(r.DramIfmapStopCycle)}, {I(r.DramIfmapReads)}, " +
                $"{Py(r.DramFilterStartCycle)}, {Py(r.DramFilterStopCycle)}, {I(r.DramFilterReads)}, {Py(r.DramOfmapStartCycle)}, {Py(r.DramOfmapStopCycle)}, {I(r.DramOfmapWrites)},\n");
            energy.Append(CultureInfo.InvariantCulture,
                $"{i}, {topo.Layers[i].Name}, {I(e.Macs)}, {Py(e.MacEnergyPicojoules)}, {Py(e.SramEnergyPicojoules)}, {Py(e.DramEnergyPicojoules)}, {Py(e.EnergyPicojoules)}, {I(e.Cycles)}, {Py(e.Cycles / sc.ClockHz)},\n");
        }
        energy.Append(CultureInfo.InvariantCulture, $"# area_mm2, {Py(area)}, pe_count, {I((long)sc.Rows * sc.Columns)}, clock_hz, {Py(sc.ClockHz)},\n");

        try
        {
            Directory.CreateDirectory(outDir);
            // Write every report to a temporary name first so a failure never leaves a half-written set.
            var files = new (string Name, StringBuilder Text)[]
            {
                ("COMPUTE_REPORT.csv", compute), ("BANDWIDTH_REPORT.csv", bandwidth),
                ("DETAILED_ACCESS_REPORT.csv", detail), ("ENERGY_AREA_REPORT.csv", energy),
            };
            foreach (var (name, text) in files) File.WriteAllText(Path.Combine(outDir, name + ".tmp"), text.ToString());
            foreach (var (name, _) in files) File.Move(Path.Combine(outDir, name + ".tmp"), Path.Combine(outDir, name), overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{outDir}: cannot write the reports ({e.Message})", e);
        }
    }
}
