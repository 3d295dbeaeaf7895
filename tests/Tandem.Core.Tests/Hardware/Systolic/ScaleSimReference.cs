using System.Globalization;
using Tandem.Core.Hardware.Systolic;
using Tandem.Testing;

namespace Tandem.Core.Tests.Hardware.Systolic;

/// <summary>One row of ../shared/reference/scalesim/scalesim_v2_reference.csv, read by column name.</summary>
internal sealed class ScaleSimReferenceRow(IReadOnlyDictionary<string, string> cells, int line)
{
    public int Line { get; } = line;
    public string this[string column] => cells[column];
    public long Long(string column) => (long)Math.Round(double.Parse(cells[column], CultureInfo.InvariantCulture));
    public double Double(string column) => double.Parse(cells[column], CultureInfo.InvariantCulture);
    public int Int(string column) => (int)Long(column);

    public string Id => $"{cells["net"]}/{cells["layer"]} {cells["array_rows"]}x{cells["array_cols"]} {cells["dataflow"]} {cells["bandwidth_mode"]}{(cells["bandwidth_mode"] == "USER" ? cells["ifmap_dram_bw_words_per_cycle"] : "")}";

    public SystolicLayerShape Shape => SystolicLayerShape.FromScaleSim(
        Int("ifmap_h"), Int("ifmap_w"), Int("filter_r"), Int("filter_s"), Int("channels_c"), Int("num_filters_m"),
        Int("stride_h"), Int("stride_w"));

    public SystolicConfig Config => new()
    {
        Rows = Int("array_rows"),
        Columns = Int("array_cols"),
        Dataflow = SystolicConfig.ParseDataflow(cells["dataflow"]) ?? throw new InvalidDataException(cells["dataflow"]),
        IfmapSramKiB = Int("ifmap_sram_kb"),
        FilterSramKiB = Int("filter_sram_kb"),
        OfmapSramKiB = Int("ofmap_sram_kb"),
        Bits = 8 * Int("word_bytes"),
        BandwidthMode = cells["bandwidth_mode"] == "USER" ? SystolicBandwidthMode.User : SystolicBandwidthMode.Calc,
        DramWordsPerCycle = Int("ifmap_dram_bw_words_per_cycle"),
    };

    public static IReadOnlyList<ScaleSimReferenceRow> Load()
    {
        string path = ReferenceData.Require("scalesim/scalesim_v2_reference.csv");
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        var rows = new List<ScaleSimReferenceRow>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var parts = lines[i].Split(',');
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int c = 0; c < header.Length; c++) map[header[c]] = c < parts.Length ? parts[c] : "";
            rows.Add(new ScaleSimReferenceRow(map, i + 1));
        }
        return rows;
    }
}
