using Tandem.Core.Hardware.Systolic;

namespace Tandem.Core.Tests.Hardware.Systolic;

public sealed class SystolicModelTests
{
    private static SystolicConfig Array(int rows, int cols, SystolicDataflow flow, int kib = 64) =>
        new() { Rows = rows, Columns = cols, Dataflow = flow, IfmapSramKiB = kib, FilterSramKiB = kib, OfmapSramKiB = kib };

    [Theory]
    [InlineData(SystolicDataflow.OutputStationary)]
    [InlineData(SystolicDataflow.WeightStationary)]
    [InlineData(SystolicDataflow.InputStationary)]
    public void FoldsRunBackToBackWithoutOverlap(SystolicDataflow flow)
    {
        // GEMM 100 × 70 · 70 × 50 on an 8 × 16 array: the folds and the per-fold demand length.
        var shape = SystolicLayerShape.FromGemm(100, 50, 70);
        var r = SystolicModel.Evaluate(shape, Array(8, 16, flow));
        var (sr, sc, t) = flow switch
        {
            SystolicDataflow.OutputStationary => (100L, 50L, 70L),
            SystolicDataflow.WeightStationary => (70L, 50L, 100L),
            _ => (70L, 100L, 50L),
        };
        long folds = (sr + 7) / 8 * ((sc + 15) / 16);
        long perFold = flow == SystolicDataflow.OutputStationary ? t + 8 + 16 - 2 : t + 2 * 8 + 16 - 2;
        Assert.Equal(folds, r.Folds);
        Assert.Equal(folds * perFold - 1, r.TotalCycles);
        Assert.Equal(0, r.StallCycles);
        Assert.Equal(100L * 50 * 70, r.Macs);
        Assert.Equal(sr * sc * 100.0 / (folds * 8 * 16), r.MappingEfficiencyPct, 9);
    }

    [Fact]
    public void SmallOperandsAreFetchedFromDramExactlyOnce()
    {
        // 28×28×8 → 16 filters 3×3: everything fits the 64 KiB windows, so DRAM reads equal the footprint.
        var shape = SystolicLayerShape.FromScaleSim(28, 28, 3, 3, 8, 16, 1, 1);
        foreach (var flow in new[] { SystolicDataflow.OutputStationary, SystolicDataflow.WeightStationary, SystolicDataflow.InputStationary })
        {
            var r = SystolicModel.Evaluate(shape, Array(8, 8, flow));
            Assert.Equal(28 * 28 * 8, r.DramIfmapReads);
            Assert.Equal(3 * 3 * 8 * 16, r.DramFilterReads);
            Assert.True(r.DramOfmapWrites >= 26 * 26 * 16, "every ofmap word reaches DRAM");
        }
    }

    [Fact]
    public void SmallerBuffersNeverReadLessFromDram()
    {
        var shape = SystolicLayerShape.FromScaleSim(56, 56, 3, 3, 64, 64, 1, 1);
        var big = SystolicModel.Evaluate(shape, Array(16, 16, SystolicDataflow.OutputStationary, 128));
        var small = SystolicModel.Evaluate(shape, Array(16, 16, SystolicDataflow.OutputStationary, 16));
        Assert.Equal(big.TotalCycles, small.TotalCycles);
        Assert.True(small.DramIfmapReads > big.DramIfmapReads);
        Assert.True(small.DramFilterReads >= big.DramFilterReads);
    }

    [Fact]
    public void CyclicMissesCountsReuseAcrossWindowCloses()
    {
        long carry = 0;
        // 11616 distinct words, repeated 95 times, window 32750 already holding 23232 misses:
        // the window closes after 9518 words, so those 9518 are fetched again on the next pass.
        carry = 23232;
        Assert.Equal(11616 + 9518, SystolicModel.CyclicMisses(11616, 95, 32750, ref carry));
        Assert.Equal(11616, carry);
        carry = 0;
        Assert.Equal(5 * 40_000, SystolicModel.CyclicMisses(40_000, 5, 32750, ref carry)); // larger than the window: every visit misses
        carry = 0;
        Assert.Equal(100, SystolicModel.CyclicMisses(100, 7, 0, ref carry)); // a window that never closes
    }

    [Fact]
    public void SkewedLineInvertsTheSkewedOrder()
    {
        // 3 rows × 2 columns, column c delayed by c lines: lines hold 1, 2, 2, 1 words.
        long[] expected = [0, 1, 1, 2, 2, 3];
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], SystolicModel.SkewedLine(i, 3, 2));
        // Every word of every block up to 40 × 40, against the block's lines enumerated one by one.
        for (long h = 1; h <= 40; h++)
            for (long w = 1; w <= 40; w++)
            {
                long index = 0;
                for (long t = 0; t < h + w - 1; t++)
                    for (long n = Math.Min(Math.Min(t + 1, h), Math.Min(w, h + w - 1 - t)); n > 0; n--, index++)
                        Assert.True(SystolicModel.SkewedLine(index, h, w) == t, $"{h} x {w}: word {index} on line {t}, closed form {SystolicModel.SkewedLine(index, h, w)}");
            }
    }

    [Fact]
    public void PaddedWindowsReadNothingOutsideTheIfmap()
    {
        // 1×1 stride-2 on 14×14: SCALE-Sim's rule gives 8×8 outputs, the last row and column read nothing.
        var shape = SystolicLayerShape.FromScaleSim(14, 14, 1, 1, 4, 4, 2, 2);
        Assert.Equal(8, shape.OfmapHeight);
        Assert.Equal(7 * 7 * 4, SystolicModel.TouchedIfmapWords(shape));
        var r = SystolicModel.Evaluate(shape, Array(4, 4, SystolicDataflow.OutputStationary));
        Assert.Equal(7 * 7 * 4, r.DramIfmapReads);
    }

    [Fact]
    public void UserModeStallsWhenBandwidthIsScarce()
    {
        var shape = SystolicLayerShape.FromScaleSim(14, 14, 1, 1, 256, 512, 1, 1);
        var calc = SystolicModel.Evaluate(shape, Array(32, 32, SystolicDataflow.WeightStationary));
        var user = SystolicModel.Evaluate(shape, Array(32, 32, SystolicDataflow.WeightStationary) with { BandwidthMode = SystolicBandwidthMode.User, DramWordsPerCycle = 1 });
        Assert.Equal(0, calc.StallCycles);
        Assert.True(user.StallCycles > 0);
        Assert.Equal(calc.TotalCycles + user.StallCycles, user.TotalCycles);
        Assert.Equal(calc.SramIfmapReads, user.SramIfmapReads);
    }

    [Theory]
    [InlineData(0, 8, 3, 3, 4, 4, 1, "ifmap 0x8")]
    [InlineData(8, 8, 9, 3, 4, 4, 1, "filter 9x3 exceeds the ifmap 8x8")]
    [InlineData(8, 8, 3, 3, 0, 4, 1, "channels must be ≥ 1")]
    [InlineData(8, 8, 3, 3, 4, -2, 1, "number of filters must be ≥ 1")]
    [InlineData(8, 8, 3, 3, 4, 4, 0, "stride must be ≥ 1")]
    public void BadShapesAreInputErrors(int h, int w, int r, int s, int c, int n, int stride, string expected)
    {
        var e = Assert.Throws<InputException>(() => SystolicLayerShape.FromScaleSim(h, w, r, s, c, n, stride, stride));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void BadConfigsAreInputErrors()
    {
        Assert.Contains("rows", Assert.Throws<InputException>(() => Array(0, 8, SystolicDataflow.OutputStationary).Validate()).Message);
        Assert.Contains("DRAM bandwidth", Assert.Throws<InputException>(() =>
            (Array(8, 8, SystolicDataflow.OutputStationary) with { BandwidthMode = SystolicBandwidthMode.User, DramWordsPerCycle = 0 }).Validate()).Message);
        Assert.Null(SystolicConfig.ParseDataflow("rs"));
    }
}
