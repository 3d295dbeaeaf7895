using System.Text;
using Tandem.Core.Hardware.Systolic;

namespace Tandem.Core.Tests.Hardware.Systolic;

public sealed class ScaleSimReferenceTests
{
    private static readonly (string Column, Func<SystolicLayerResult, double> Get)[] Fields =
    [
        ("total_cycles", r => r.TotalCycles),
        ("stall_cycles", r => r.StallCycles),
        ("overall_util_pct", r => r.OverallUtilPct),
        ("mapping_eff_pct", r => r.MappingEfficiencyPct),
        ("compute_util_pct", r => r.ComputeUtilPct),
        ("sram_ifmap_reads", r => r.SramIfmapReads),
        ("sram_filter_reads", r => r.SramFilterReads),
        ("sram_ofmap_writes", r => r.SramOfmapWrites),
        ("dram_ifmap_reads", r => r.DramIfmapReads),
        ("dram_filter_reads", r => r.DramFilterReads),
        ("dram_ofmap_writes", r => r.DramOfmapWrites),
        ("sram_ifmap_start", r => r.SramIfmapStartCycle),
        ("sram_ifmap_stop", r => r.SramIfmapStopCycle),
        ("sram_filter_start", r => r.SramFilterStartCycle),
        ("sram_filter_stop", r => r.SramFilterStopCycle),
        ("sram_ofmap_start", r => r.SramOfmapStartCycle),
        ("sram_ofmap_stop", r => r.SramOfmapStopCycle),
        ("dram_ifmap_start", r => r.DramIfmapStartCycle),
        ("dram_ifmap_stop", r => r.DramIfmapStopCycle),
        ("dram_filter_start", r => r.DramFilterStartCycle),
        ("dram_filter_stop", r => r.DramFilterStopCycle),
        ("dram_ofmap_start", r => r.DramOfmapStartCycle),
        ("dram_ofmap_stop", r => r.DramOfmapStopCycle),
        ("avg_ifmap_sram_bw", r => r.AvgIfmapSramBandwidth),
        ("avg_filter_sram_bw", r => r.AvgFilterSramBandwidth),
        ("avg_ofmap_sram_bw", r => r.AvgOfmapSramBandwidth),
        ("avg_ifmap_dram_bw", r => r.AvgIfmapDramBandwidth),
        ("avg_filter_dram_bw", r => r.AvgFilterDramBandwidth),
        ("avg_ofmap_dram_bw", r => r.AvgOfmapDramBandwidth),
    ];

    [Fact]
    public void Dump()
    {
        var sb = new StringBuilder();
        var counts = new Dictionary<string, int>();
        foreach (var row in ScaleSimReferenceRow.Load())
        {
            var result = SystolicModel.Evaluate(row.Shape, row.Config);
            foreach (var (col, get) in Fields)
            {
                double want = row.Double(col), got = get(result);
                bool ok = Math.Abs(want - got) <= 1e-9 * Math.Max(1, Math.Abs(want));
                if (!ok)
                {
                    counts[col] = counts.GetValueOrDefault(col) + 1;
                    sb.AppendLine($"{row.Id} {col}: want {want} got {got}");
                }
            }
        }
        foreach (var (k, v) in counts) sb.Insert(0, $"{k}: {v}\n");
        File.WriteAllText("/tmp/scalesim_dump.txt", sb.ToString());
    }
}
