using Tandem.Core.Hardware.Systolic;

namespace Tandem.Core.Tests.Hardware.Systolic;

/// <summary>
/// USER mode takes a shortcut when both read buffers hold their whole operand; it must agree with
/// the full line-by-line replay, including layers whose writes stall at a low bandwidth.
/// </summary>
public sealed class UserModeTests
{
    [Theory]
    [InlineData(SystolicDataflow.OutputStationary)]
    [InlineData(SystolicDataflow.WeightStationary)]
    [InlineData(SystolicDataflow.InputStationary)]
    public void ShortcutEqualsFullReplay(SystolicDataflow flow)
    {
        var rng = new Random(99 + (int)flow);
        int shortcuts = 0, stalled = 0;
        for (int trial = 0; trial < 200; trial++)
        {
            int r = rng.Next(1, 4), s = rng.Next(1, 4);
            var shape = SystolicLayerShape.FromScaleSim(rng.Next(r, r + 16), rng.Next(s, s + 16), r, s, rng.Next(1, 6), rng.Next(1, 64), rng.Next(1, 3), rng.Next(1, 3));
            var config = new SystolicConfig
            {
                Rows = rng.Next(2, 9), Columns = rng.Next(2, 9), Dataflow = flow,
                IfmapSramKiB = rng.Next(2) == 0 ? 1 : 64, FilterSramKiB = rng.Next(2) == 0 ? 1 : 64, OfmapSramKiB = 1,
                BandwidthMode = SystolicBandwidthMode.User, DramWordsPerCycle = rng.Next(1, 4),
            };
            var g = new SystolicModel.Geometry(shape, config);
            var fast = SystolicModel.Evaluate(shape, config);
            var full = UserBandwidthReplay.Run(g, config);
            if (UserBandwidthReplay.ReadsNeverMiss(g, config)) shortcuts++;
            if (full.Stalls > 0 && UserBandwidthReplay.ReadsNeverMiss(g, config)) stalled++;
            string where = $"{shape} on {config.Rows}x{config.Columns} {flow} bw {config.DramWordsPerCycle}";
            Assert.True(full.TotalCycles == fast.TotalCycles && full.Stalls == fast.StallCycles, $"{where}: cycles {fast.TotalCycles}/{fast.StallCycles} vs {full.TotalCycles}/{full.Stalls}");
            Assert.True((full.DramIfmap, full.DramFilter, full.DramOfmap) == (fast.DramIfmapReads, fast.DramFilterReads, fast.DramOfmapWrites), $"{where}: DRAM counts");
            Assert.True((full.IfStart, full.IfStop, full.FStart, full.FStop, full.OStart, full.OStop)
                        == (fast.SramIfmapStartCycle, fast.SramIfmapStopCycle, fast.SramFilterStartCycle, fast.SramFilterStopCycle, fast.SramOfmapStartCycle, fast.SramOfmapStopCycle),
                $"{where}: SRAM start/stop {fast.SramIfmapStartCycle},{fast.SramIfmapStopCycle},{fast.SramFilterStartCycle},{fast.SramFilterStopCycle},{fast.SramOfmapStartCycle},{fast.SramOfmapStopCycle} vs {full.IfStart},{full.IfStop},{full.FStart},{full.FStop},{full.OStart},{full.OStop}");
            Assert.True((full.DramIfmapStart, full.DramIfmapStop, full.DramFilterStart, full.DramFilterStop, full.DramOfmapStart, full.DramOfmapStop)
                        == (fast.DramIfmapStartCycle, fast.DramIfmapStopCycle, fast.DramFilterStartCycle, fast.DramFilterStopCycle, fast.DramOfmapStartCycle, fast.DramOfmapStopCycle),
                $"{where}: DRAM start/stop");
        }
        Assert.True(shortcuts > 20, $"only {shortcuts} trials took the shortcut");
        Assert.True(stalled >= 2, $"only {stalled} shortcut trials had write stalls");
    }
}
