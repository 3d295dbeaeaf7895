using System.Globalization;
using Tandem.Core.Hardware.Systolic;

namespace Tandem.Benchmarks;

/// <summary>One row of the SCALE-Sim v2 reference file: the layer, the array it ran on and SCALE-Sim's simulation wall time.</summary>
internal sealed record ScaleSimReferenceRow(string Net, string Layer, string Dataflow, string Mode, double SimSeconds, SystolicLayerShape Shape, SystolicConfig Config)
{
    /// <summary>
    /// "net/layer RxC DATAFLOW MODE", the row's name in the benchmarks' output; USER rows add their bandwidth
    /// ("USER 4 w/cycle"), for the reference runs some layers at two bandwidths and the names must tell them apart.
    /// </summary>
    public string Id => $"{Net}/{Layer} {Config.Rows}x{Config.Columns} {Dataflow} {(Mode == "USER" ? FormattableString.Invariant($"USER {Config.DramWordsPerCycle} w/cycle") : Mode)}";

    /// <summary>Reads every row of <paramref name="path"/> (the columns of ../shared/reference/scalesim/scalesim_v2_reference.csv).</summary>
    public static List<ScaleSimReferenceRow> Read(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        int Col(string name) => Array.IndexOf(header, name);
        var rows = new List<ScaleSimReferenceRow>();
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var c = line.Split(',');
            int I(string n) => (int)double.Parse(c[Col(n)], CultureInfo.InvariantCulture);
            var shape = SystolicLayerShape.FromScaleSim(I("ifmap_h"), I("ifmap_w"), I("filter_r"), I("filter_s"), I("channels_c"), I("num_filters_m"), I("stride_h"), I("stride_w"));
            string mode = c[Col("bandwidth_mode")];
            var config = new SystolicConfig
            {
                Rows = I("array_rows"), Columns = I("array_cols"),
                Dataflow = SystolicConfig.ParseDataflow(c[Col("dataflow")])!.Value,
                IfmapSramKiB = I("ifmap_sram_kb"), FilterSramKiB = I("filter_sram_kb"), OfmapSramKiB = I("ofmap_sram_kb"),
                BandwidthMode = mode == "USER" ? SystolicBandwidthMode.User : SystolicBandwidthMode.Calc,
                DramWordsPerCycle = I("ifmap_dram_bw_words_per_cycle"),
            };
            rows.Add(new ScaleSimReferenceRow(c[Col("net")], c[Col("layer")], c[Col("dataflow")], mode,
                double.Parse(c[Col("sim_wall_s")], CultureInfo.InvariantCulture), shape, config));
        }
        return rows;
    }
}
