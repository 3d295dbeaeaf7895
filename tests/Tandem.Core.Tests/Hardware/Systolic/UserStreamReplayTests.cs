using Tandem.Core.Hardware.Systolic;

namespace Tandem.Core.Tests.Hardware.Systolic;

/// <summary>
/// Holds the event-driven USER replay (read buffers served set by set over prefetch positions, bulk
/// runs of lines through the write buffer) to the address-by-address USER replay on random layers
/// whose ifmap words appear once in the prefetch order (1×1 and stride ≥ kernel convolutions,
/// GEMMs), with buffers small enough to rotate many times and writes that stall.
/// </summary>
public sealed class UserStreamReplayTests
{
    private static (SystolicLayerShape Shape, SystolicConfig Config) RandomCase(Random rng, SystolicDataflow flow)
    {
        int kind = rng.Next(4);
        SystolicLayerShape shape;
        if (kind == 0)
            shape = SystolicLayerShape.FromGemm(rng.Next(1, 70), rng.Next(1, 70), rng.Next(1, 90));
        else
        {
            int r = kind == 1 ? 1 : rng.Next(1, 4), s = kind == 1 ? 1 : rng.Next(1, 4);
            int sh = rng.Next(r, r + 2), sw = rng.Next(s, s + 2);
            // Whole windows only: H = (E − 1)·stride + R (+ a remainder the windows skip when stride > R).
            int eh = rng.Next(1, 9), ew = rng.Next(1, 9);
            int h = (eh - 1) * sh + r, w = (ew - 1) * sw + s;
            // Clipped: SCALE-Sim's round-up rule adds outputs whose windows run past the ifmap.
            if (kind == 3) (h, w) = (Math.Max(r, h - rng.Next(0, r)), Math.Max(s, w - rng.Next(0, s)));
            shape = SystolicLayerShape.FromScaleSim(h, w, r, s, rng.Next(1, 40), rng.Next(1, 80), sh, sw);
        }
        int[] kib = [1, 1, 2, 4];
        var config = new SystolicConfig
        {
            Rows = rng.Next(1, 12), Columns = rng.Next(1, 12), Dataflow = flow,
            IfmapSramKiB = kib[rng.Next(kib.Length)], FilterSramKiB = kib[rng.Next(kib.Length)], OfmapSramKiB = kib[rng.Next(kib.Length)],
            BandwidthMode = SystolicBandwidthMode.User, DramWordsPerCycle = rng.Next(1, 9),
        };
        return (shape, config);
    }

    [Theory]
    [InlineData(SystolicDataflow.OutputStationary)]
    [InlineData(SystolicDataflow.WeightStationary)]
    [InlineData(SystolicDataflow.InputStationary)]
    public void EventReplayEqualsAddressReplay(SystolicDataflow flow)
    {
        var rng = new Random(7100 + (int)flow);
        int rotated = 0, stalled = 0, clipped = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            var (shape, config) = RandomCase(rng, flow);
            var g = new SystolicModel.Geometry(shape, config);
            // Clipped windows qualify only when the whole ifmap fits the read buffer's window.
            if (!UserStreamReplay.Applies(g, config)) continue;
            if (new IfmapStream(g).PerSweep < shape.M * shape.K) clipped++;
            var fast = UserStreamReplay.Run(g, config);
            var full = UserBandwidthReplay.Run(g, config);
            string where = $"{shape} on {config.Rows}x{config.Columns} {flow} bw {config.DramWordsPerCycle} KiB {config.IfmapSramKiB}/{config.FilterSramKiB}/{config.OfmapSramKiB}";
            Assert.True(full.Equals(fast), $"{where}:\n fast {Show(fast)}\n full {Show(full)}");
            if (full.DramIfmapStop >= 0 || full.DramFilterStop >= 0) rotated++;
            if (full.Stalls > 0) stalled++;
        }
        Assert.True(rotated > 60, $"only {rotated} trials rotated a read buffer");
        Assert.True(stalled > 60, $"only {stalled} trials stalled");
        Assert.True(clipped > 10, $"only {clipped} trials had clipped windows");
    }

    [Fact]
    public void OverlappingOrClippedWindowsDoNotQualify()
    {
        var config = new SystolicConfig { Rows = 4, Columns = 4, IfmapSramKiB = 1, BandwidthMode = SystolicBandwidthMode.User };
        bool Applies(SystolicLayerShape shape, SystolicConfig c) => UserStreamReplay.Applies(new SystolicModel.Geometry(shape, c), c);
        Assert.False(Applies(SystolicLayerShape.FromScaleSim(8, 8, 3, 3, 2, 4, 1, 1), config));
        Assert.False(Applies(SystolicLayerShape.FromScaleSim(8, 8, 3, 1, 2, 4, 2, 1), config));
        // 2×2 stride 2 on a 31×31×4 ifmap: the round-up rule's last windows run past the ifmap, and
        // the ifmap (3,600 words in windows) overflows a 1 KiB buffer; with 64 KiB it never misses.
        Assert.False(Applies(SystolicLayerShape.FromScaleSim(31, 31, 2, 2, 4, 4, 2, 2), config));
        Assert.True(Applies(SystolicLayerShape.FromScaleSim(31, 31, 2, 2, 4, 4, 2, 2), config with { IfmapSramKiB = 64 }));
        Assert.True(Applies(SystolicLayerShape.FromScaleSim(31, 31, 1, 1, 4, 4, 2, 2), config));
    }

    /// <summary>Holds the prefetch positions to an enumeration of the rollout.</summary>
    [Fact]
    public void PositionsFollowTheRollout()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 300; trial++)
        {
            long rowsPerFold = rng.Next(1, 9), folds = rng.Next(1, 5), cols = rng.Next(1, 9), used = rng.Next(1, (int)cols + 1);
            bool diagonal = rng.Next(2) == 0;
            var m = new UserStreamReplay.Matrix(rowsPerFold * folds, cols, (folds - 1) * rowsPerFold, used, diagonal);
            long pos = 0;
            void Visit(long i, long c)
            {
                if (i >= m.LastStart && c >= used) return;
                Assert.Equal(pos, m.Position(i, c));
                pos++;
            }
            if (diagonal)
            {
                for (long d = 0; d < m.Rows + cols - 1; d++)
                    for (long i = Math.Min(d, m.Rows - 1); i >= Math.Max(0, d - cols + 1); i--) Visit(i, d - i);
            }
            else
            {
                for (long i = 0; i < m.Rows; i++)
                    for (long c = 0; c < cols; c++) Visit(i, c);
            }
            Assert.Equal(pos, m.Filled);
        }
    }

    private static string Show(UserBandwidthReplay.Outcome o) =>
        $"cycles {o.TotalCycles} stalls {o.Stalls} dram {o.DramIfmap}/{o.DramFilter}/{o.DramOfmap} sram {o.IfStart},{o.IfStop},{o.FStart},{o.FStop},{o.OStart},{o.OStop} dram {o.DramIfmapStart},{o.DramIfmapStop},{o.DramFilterStart},{o.DramFilterStop},{o.DramOfmapStart},{o.DramOfmapStop}";
}
