using System.Buffers;

namespace Tandem.Core.Hardware.Systolic;

/// <summary>
/// Exact ifmap DRAM reads of SCALE-Sim's CALC read buffer for input-stationary folds aligned to
/// channel groups (the array's rows divide the channels), counted per fold without touching addresses.
/// <para>
/// An input-stationary fold holds a block of Ca pixels in its columns and one filter tap × Ra channels in
/// its rows; its line j reads channel c0 + Ra − 1 − j of every pixel of the block (columns ascending).
/// Within a fold every read is a different word, and a word can already be in the window only if an
/// earlier fold of the same channel group read the same position since the last close: a fold of a tap
/// whose offset from this one is a multiple of the stride, for the pixel shifted by that offset (in this
/// pixel block or an earlier one). Such a fold holds all Ra channels of the position when it was read
/// whole after the last close; when the close fell inside it, it holds the channels of the lines after
/// the close's line (a prefix of the channel group, one channel more for pixels right of the closing
/// read). So pixel p hits on the channels c0 … c0 + τ(p) − 1, read on its last τ(p) lines: it misses
/// on lines [0, μ(p)) with μ(p) = Ra − τ(p) (0 when the tap lies outside the ifmap for p). A fold whose misses fit
/// the open window is counted at once, runs of channel groups whose earlier folds keep their standing
/// against the last close share one set of μ, and a closing fold is resolved line by line and, on the
/// close's line, pixel by pixel. After a close the rest of the fold misses on every valid read.
/// </para>
/// </summary>
internal static class AlignedInputStationaryReplay
{
    /// <summary>Whether the layer's input-stationary folds are aligned to channel groups (Ra divides C).</summary>
    public static bool Applies(in SystolicModel.Geometry g) =>
        g.Flow == SystolicDataflow.InputStationary && g.L.Channels % g.Ra == 0;

    /// <summary>
    /// Whether the general window replay is expected to be faster (both are exact). This replay's work
    /// grows with the pixels times the pairs of taps that can read one word (every pair at stride 1),
    /// about 1.3 ns per unit on the development machine, less when few column folds (wide arrays) share
    /// each block's work; the general replay's with the window closes, about 5 µs each, roughly the
    /// touched words per window. The general replay is taken only when this one is expected to cost
    /// three times as much and there are at least 8 column folds (e.g. ResNet-50's 56×56×64 3×3 layers on
    /// 8 and 32 columns: 356 and 153 µs here against 37 and 42 µs; on 128 columns both take about 44 µs;
    /// measured with both replays on ResNet-50's layers).
    /// </summary>
    public static bool WindowReplayIsCheaper(in SystolicModel.Geometry g, long window, long touched)
    {
        var l = g.L;
        if (g.ColFolds < 8) return false;
        double alignedNs = 1.3 * l.M * SameResidue(l.FilterHeight, l.StrideHeight) * SameResidue(l.FilterWidth, l.StrideWidth);
        double windowNs = 5000.0 * ((double)touched / window + 1);
        return alignedNs > 3 * windowNs;
    }

    /// <summary>Ordered pairs of filter offsets in [0, size) (each with itself) that differ by a multiple of the stride.</summary>
    private static long SameResidue(int size, int stride)
    {
        long pairs = 0;
        for (int residue = 0; residue < Math.Min(size, stride); residue++)
        {
            long n = (size - 1 - residue) / stride + 1;
            pairs += n * n;
        }
        return pairs;
    }

    public static (long Misses, long LastCloseLine) Run(in SystolicModel.Geometry g, long window)
    {
        var l = g.L;
        int eh = l.OfmapHeight, ew = l.OfmapWidth, rows = g.Ra, ca = g.Ca;
        int blocks = l.Channels / rows, s = l.FilterWidth, taps = l.FilterHeight * s;
        long rowFolds = g.RowFolds;
        var overlaps = AlignedWeightStationaryReplay.Overlaps(l, includeSelf: false);
        var stream = new IfmapStream(g);
        var ints = ArrayPool<int>.Shared;
        int[] mu = ints.Rent(ca), count = ints.Rent(rows + 1);
        try
        {
            long open = 0, misses = 0, lastCloseLine = -1;
            // The last close: global fold index (−1: none yet), its fold line and column.
            long closeFold = -1;
            int closeLine = 0, closeCol = 0;
            for (long fc = 0; fc < g.ColFolds; fc++)
            {
                int cols = (int)g.ColsUsed(fc);
                long p0 = fc * ca;
                for (int tap = 0; tap < taps; tap++)
                {
                    int kr = tap / s, kc = tap % s;
                    for (int block = 0; block < blocks;)
                    {
                        long f = fc * rowFolds + (long)tap * blocks + block, end = blocks;
                        // τ per column: channels of the group already in the window (the largest over
                        // the earlier folds that read the column's position), by runs of pixels that
                        // share an ofmap row and the earlier fold's pixel block.
                        var tau = mu.AsSpan(0, cols);
                        tau.Clear();
                        foreach (var (t2, sy, sx) in overlaps[tap])
                        {
                            for (long p = p0, stop = p0 + cols; p < stop;)
                            {
                                long oy = p / ew, ox = p - oy * ew, rowEnd = Math.Min(stop, (oy + 1) * ew);
                                long oy2 = oy + sy;
                                if (oy2 < 0 || oy2 >= eh) { p = rowEnd; continue; }
                                // Columns of this row whose shifted column lies inside the ofmap.
                                long xa = Math.Max(ox, -sx), xb = Math.Min(ox + (rowEnd - p), ew - sx);
                                for (long x = xa; x < xb;)
                                {
                                    long p2 = oy2 * ew + x + sx, fc2 = p2 / ca;
                                    long xEnd = Math.Min(xb, x + (fc2 + 1) * ca - p2);
                                    long base2 = fc2 * rowFolds + (long)t2 * blocks, f2 = base2 + block;
                                    int c1 = (int)(oy * ew + x - p0), c2 = (int)(oy * ew + xEnd - p0);
                                    x = xEnd;
                                    if (f2 >= f) continue; // not read yet
                                    if (f2 < closeFold) { end = Math.Min(end, closeFold - base2); continue; }
                                    if (f2 > closeFold) { tau[c1..c2].Fill(rows); continue; }
                                    // The close fell in that fold: the lines after its line hold channels
                                    // c0 … c0 + Ra − 2 − line, its line one more right of the closing column.
                                    end = block + 1;
                                    int held = rows - 1 - closeLine;
                                    for (int c = c1; c < c2; c++)
                                    {
                                        int h = held + (p2 + (c - c1) - fc2 * ca > closeCol ? 1 : 0);
                                        if (h > tau[c]) tau[c] = h;
                                    }
                                }
                                p = rowEnd;
                            }
                        }
                        // μ = Ra − τ on the columns whose tap lies inside the ifmap, 0 elsewhere.
                        long total = 0, vy = p0 / ew, vx = p0 - vy * ew;
                        long validRows = stream.PixelRowsValid(kr), validCols = stream.PixelColsValid(kc);
                        for (int c = 0; c < cols; c++)
                        {
                            int v = vy < validRows && vx < validCols ? rows - mu[c] : 0;
                            mu[c] = v;
                            total += v;
                            if (++vx == ew) { vx = 0; vy++; }
                        }
                        long run = end - block, quiet = AlignedWeightStationaryReplay.QuietFolds(run, total, window - open);
                        open += quiet * total;
                        misses += quiet * total;
                        block += (int)quiet;
                        if (quiet == run) continue;
                        f = fc * rowFolds + (long)tap * blocks + block;
                        long lineBase = f * g.FoldCycles;
                        long need = window - open;
                        // Misses per line: pixel column c misses on lines [0, μ(c)).
                        Array.Clear(count, 0, rows + 1);
                        for (int c = 0; c < cols; c++) count[mu[c]]++;
                        // Line j misses on the columns with μ > j.
                        int line = 0, atLine = cols - count[0];
                        long done = 0;
                        while (done + atLine < need) { done += atLine; line++; atLine -= count[line]; }
                        int col = -1;
                        for (long n = need - done; n > 0;) if (mu[++col] > line) n--;
                        // The window is empty now: every later valid read of the fold is a new word.
                        long valid = 0;
                        vy = p0 / ew;
                        vx = p0 - vy * ew;
                        for (int c = 0; c < cols; c++)
                        {
                            mu[c] = vy < validRows && vx < validCols ? rows : 0;
                            if (mu[c] > 0) valid++;
                            if (++vx == ew) { vx = 0; vy++; }
                        }
                        while (true)
                        {
                            misses += need;
                            open = 0;
                            closeFold = f; closeLine = line; closeCol = col;
                            lastCloseLine = lineBase + line;
                            long rest = 0;
                            for (int c = col + 1; c < cols; c++) if (mu[c] > 0) rest++;
                            long after = rest + (rows - 1 - line) * valid;
                            if (after < window) { open = after; misses += after; break; }
                            need = window;
                            // The need-th valid read after the close: the rest of its line, then whole lines.
                            long n = need;
                            if (n <= rest)
                            {
                                for (int c = col + 1; ; c++) if (mu[c] > 0 && --n == 0) { col = c; break; }
                            }
                            else
                            {
                                n -= rest;
                                line += 1 + (int)((n - 1) / valid);
                                n = (n - 1) % valid + 1;
                                for (int c = 0; ; c++) if (mu[c] > 0 && --n == 0) { col = c; break; }
                            }
                        }
                        block++;
                    }
                }
            }
            return (misses, lastCloseLine);
        }
        finally
        {
            ints.Return(mu);
            ints.Return(count);
        }
    }
}
