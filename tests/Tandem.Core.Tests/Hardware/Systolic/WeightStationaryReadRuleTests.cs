using Tandem.Core.Hardware.Systolic;

namespace Tandem.Core.Tests.Hardware.Systolic;

/// <summary>
/// The rule the per-fold weight-stationary counts rest on, checked in general (any channels per array row, aligned
/// or not): a read misses exactly when no read of the same word — same channel, a filter tap whose offset from its
/// own is a multiple of the stride, the correspondingly shifted pixel — lies before it in SCALE-Sim's order and
/// after the window's last close. The partner reads are found from each read's tap and pixel alone (the same fold,
/// an earlier fold of the sweep, or the previous sweep), never from addresses; <c>WeightStationaryFoldCount</c>
/// builds on exactly this. Also an independent check of the address-by-address replay used as the oracle elsewhere.
/// </summary>
public sealed class WeightStationaryReadRuleTests
{
    /// <summary>Misses and last close line by the partner-read rule, read by read in SCALE-Sim's order.</summary>
    private static (long Misses, long LastCloseLine) Rule(in SystolicModel.Geometry g, long window)
    {
        var l = g.L;
        int ew = l.OfmapWidth, eh = l.OfmapHeight, c = l.Channels, ra = g.Ra;
        long m = g.M, k = g.K, rowFolds = g.RowFolds;
        var ov = AlignedWeightStationaryReplay.Overlaps(l, includeSelf: true);
        long closeF = -1, closeL = 0, closeR = 0, open = 0, misses = 0, last = -1;
        bool After(long f, long line, long row) => f > closeF || (f == closeF && (line > closeL || (line == closeL && row > closeR)));
        for (long fc = 0; fc < g.ColFolds; fc++)
            for (long phi = 0; phi < rowFolds; phi++)
            {
                long F = fc * rowFolds + phi, rows = Math.Min(ra, k - phi * ra);
                for (long line = 0; line < m + rows - 1; line++)
                    for (long r = 0; r < rows; r++)
                    {
                        long p = line - r;
                        if (p < 0 || p >= m) continue;
                        long kk = phi * ra + r; int t = (int)(kk / c); long ch = kk % c;
                        if (!g.Valid(p, kk)) continue;
                        long oy = p / ew, ox = p % ew;
                        bool hit = false;
                        foreach (var (t2, sy, sx) in ov[t])
                        {
                            long qy = oy + sy, qx = ox + sx;
                            if (qy < 0 || qy >= eh || qx < 0 || qx >= ew) continue;
                            long q = qy * ew + qx, k2 = (long)t2 * c + ch, phi2 = k2 / ra, r2 = k2 % ra, line2 = q + r2;
                            bool currentEarlier = t2 != t && (phi2 < phi || (phi2 == phi && (line2 < line || (line2 == line && r2 < r))));
                            if (currentEarlier) { if (After(fc * rowFolds + phi2, line2, r2)) { hit = true; break; } }
                            else if (fc > 0 && After((fc - 1) * rowFolds + phi2, line2, r2)) { hit = true; break; }
                        }
                        if (hit) continue;
                        misses++;
                        if (window > 0 && ++open == window) { open = 0; closeF = F; closeL = line; closeR = r; last = F * g.FoldCycles + ra + line; }
                    }
            }
        return (misses, last);
    }

    [Fact]
    public void Each_read_misses_iff_no_earlier_read_of_its_word_follows_the_last_close() =>
        CheckAgainstReference(5, 600, (g, window) => Rule(g, window));

    /// <summary>
    /// <paramref name="trials"/> random WS layers (1–12 rows, 1–9 channels, so mostly unaligned; filters up to 4×4,
    /// strides up to 3, so some taps are clipped; up to 4 column folds) each with a window of a few words, under one
    /// fold's reads or up to more than the layer touches: <paramref name="count"/> must equal the address-by-address
    /// replay, and the draws must cover unaligned layers, closes inside folds and repeated sweeps with closes.
    /// </summary>
    internal static void CheckAgainstReference(int seed, int trials, Func<SystolicModel.Geometry, long, (long Misses, long LastCloseLine)> count)
    {
        var rng = new Random(seed);
        int unaligned = 0, closesInFolds = 0, sweepsWithCloses = 0;
        for (int trial = 0; trial < trials; trial++)
        {
            int ra = rng.Next(1, 13), r = rng.Next(1, 5), s = rng.Next(1, 5), sh = rng.Next(1, 4), sw = rng.Next(1, 4), c = rng.Next(1, 10);
            var shape = SystolicLayerShape.FromScaleSim(rng.Next(r, r + 10), rng.Next(s, s + 10), r, s, c, rng.Next(1, 12), sh, sw);
            var config = new SystolicConfig { Rows = ra, Columns = rng.Next(1, 5), Dataflow = SystolicDataflow.WeightStationary };
            var g = new SystolicModel.Geometry(shape, config);
            long window = rng.Next(3) switch
            {
                0 => rng.Next(1, 8),
                1 => rng.Next(1, (int)(g.M * ra) + 2),
                _ => rng.Next(1, (int)SystolicModel.TouchedIfmapWords(shape) + 10),
            };
            var counted = count(g, window);
            var reference = IfmapWindowReplay.Reference(g, window);
            Assert.True(counted == reference, $"{shape} on {ra}x{config.Columns} WS, window {window}: counted {counted}, reference {reference}");
            if (c % ra != 0) unaligned++;
            if (window < g.M * ra) closesInFolds++;
            if (g.ColFolds > 1 && reference.LastCloseLine >= 0) sweepsWithCloses++;
        }
        Assert.True(unaligned >= trials / 2 && closesInFolds >= trials / 4 && sweepsWithCloses >= trials / 8,
            $"draws covered {unaligned} unaligned layers, {closesInFolds} windows under a fold's reads, {sweepsWithCloses} repeated sweeps with closes");
    }
}
