using System.Buffers;

namespace Tandem.Core.Hardware.Systolic;

/// <summary>
/// Exact ifmap DRAM reads of SCALE-Sim's CALC read buffer for weight-stationary folds aligned to
/// channel groups (the array's rows divide the channels), counted per fold without touching addresses.
/// <para>
/// Such a fold is one filter tap × one group of Ra channels: pixel p reads channel c0 + r of the ifmap
/// position its tap lands on, on fold line p + r. Within a fold every read is a different word (one
/// position per pixel, one channel per array row), and a word of the fold can be in the window only if
/// an earlier fold of the same channel group read the same position since the last close — a fold of
/// another tap whose offset from this one is a multiple of the stride, or this very tap in an earlier
/// sweep. Those folds are read whole after the last close, so they hold every channel of the group, or
/// the close fell inside one of them, so it holds the channels read after the close: for pixel p′ of
/// that fold, the channels from some row r_min(p′) up. So read (p, r) hits exactly when r ≥ ρ(p), where
/// ρ(p) is the least such threshold over the earlier folds that saw p's position (Ra when none did, 0
/// for pixels whose tap lies outside the ifmap, which read nothing), and the fold's misses on lines
/// below ℓ are Σ_p min(ρ(p), max(0, ℓ − p)). A fold whose misses fit the open window is counted at
/// once; otherwise the close line is found from the per-line counts and the read within the line by
/// walking its at most Ra reads in SCALE-Sim's order (array rows ascending). After a close the window
/// is empty and the rest of the fold misses on every valid read.
/// </para>
/// </summary>
internal static class AlignedWeightStationaryReplay
{
    /// <summary>Whether the layer's weight-stationary folds are aligned to channel groups (Ra divides C).</summary>
    public static bool Applies(in SystolicModel.Geometry g) =>
        g.Flow == SystolicDataflow.WeightStationary && g.L.Channels % g.Ra == 0;

    public static (long Misses, long LastCloseLine) Run(in SystolicModel.Geometry g, long window)
    {
        var l = g.L;
        int eh = l.OfmapHeight, ew = l.OfmapWidth, m = checked((int)g.M), rows = g.Ra;
        int blocks = l.Channels / rows, s = l.FilterWidth, taps = l.FilterHeight * s;
        long rowFolds = g.RowFolds;
        // The tap itself is among its overlaps: its folds of earlier sweeps read the same words.
        var overlaps = Overlaps(l, includeSelf: true);
        var stream = new IfmapStream(g);
        var ints = ArrayPool<int>.Shared;
        int[] rho = ints.Rent(m), validRho = ints.Rent(m), ring = ints.Rent(rows + 1);
        int validTap = -1;
        try
        {
            long open = 0, misses = 0, lastCloseLine = -1;
            // The last close: global fold index (−1: none yet), its fold line and array row.
            long closeFold = -1;
            int closeLine = 0, closeRow = 0;
            var sweeps = new SystolicModel.RepeatingSweeps();
            for (long fc = 0; fc < g.ColFolds; fc++)
            {
                long missesBefore = misses, closeBefore = closeFold;
                for (int tap = 0; tap < taps; tap++)
                {
                    int kr = tap / s, kc = tap % s;
                    for (int block = 0; block < blocks;)
                    {
                        // ρ for this fold, and the run of blocks [block, end) over which the earlier folds
                        // that share positions keep their standing (before the last close, holding the
                        // close, after it): every fold of the run then has the same thresholds.
                        long total = Thresholds(rho, stream, eh, ew, rows, kr, kc);
                        long end = blocks;
                        foreach (var (t2, sy, sx) in overlaps[tap])
                        {
                            long base2 = (t2 < tap ? fc : fc - 1) * rowFolds + (long)t2 * blocks, f2 = base2 + block;
                            if (f2 < 0) continue;
                            if (f2 < closeFold) { end = Math.Min(end, closeFold - base2); continue; }
                            bool partial = f2 == closeFold;
                            if (partial) end = block + 1;
                            total -= Cover(rho, eh, ew, sy, sx, partial, closeLine, closeRow, rows);
                        }
                        long run = end - block, quiet = QuietFolds(run, total, window - open);
                        open += quiet * total;
                        misses += quiet * total;
                        block += (int)quiet;
                        if (quiet == run) continue;
                        // The window closes in this fold: misses per line from each pixel's run of lines
                        // [p, p + ρ(p)), then the close's line and, walking that line, its read.
                        long f = fc * rowFolds + (long)tap * blocks + block, lineBase = f * g.FoldCycles + rows;
                        long need = window - open;
                        var (line, row) = NthMiss(rho, ring, m, rows, -1, 0, need);
                        // Once the window is empty every later valid read of the fold is a new word.
                        if (validTap != tap)
                        {
                            Thresholds(validRho, stream, eh, ew, rows, kr, kc);
                            validTap = tap;
                        }
                        while (true)
                        {
                            misses += need;
                            open = 0;
                            closeFold = f; closeLine = line; closeRow = row;
                            lastCloseLine = lineBase + line;
                            long after = ValidAfter(g, stream, rows, kr, kc, line, row);
                            if (after < window) { open = after; misses += after; break; }
                            need = window;
                            (line, row) = NthMiss(validRho, ring, m, rows, line, row, need);
                        }
                        block++;
                    }
                }
                // A sweep without a close leaves the whole sweep in the window: later sweeps only hit.
                if (closeFold == closeBefore) break;
                // Two sweeps whose last close falls on the same read leave identical windows, so every
                // later sweep repeats the last one.
                if (sweeps.Repeat(closeFold - fc * rowFolds, closeLine, closeRow, open, misses - missesBefore,
                        g.ColFolds - 1 - fc, rowFolds * g.FoldCycles, ref misses, ref lastCloseLine))
                    break;
            }
            return (misses, lastCloseLine);
        }
        finally
        {
            ints.Return(rho);
            ints.Return(validRho);
            ints.Return(ring);
        }
    }

    /// <summary>ρ(p) before any earlier fold is considered: Ra where tap (kr, kc) lands inside the ifmap, else 0; returns Σ ρ.</summary>
    private static long Thresholds(int[] rho, in IfmapStream stream, int eh, int ew, int rows, int kr, int kc)
    {
        int validRows = (int)stream.PixelRowsValid(kr), validCols = (int)stream.PixelColsValid(kc);
        for (int oy = 0; oy < eh; oy++)
        {
            var line = rho.AsSpan(oy * ew, ew);
            if (oy >= validRows) { line.Clear(); continue; }
            line[..validCols].Fill(rows);
            line[validCols..].Clear();
        }
        return (long)validRows * validCols * rows;
    }

    /// <summary>
    /// Lowers ρ for the pixels whose position an earlier fold of the same channel group read (its pixel is
    /// this one shifted by (sy, sx) ofmap rows and columns); that fold holds every channel in the window,
    /// or — when the last close fell inside it, on fold line <paramref name="closeLine"/> at array row
    /// <paramref name="closeRow"/> — the channels it read after the close. Returns how much Σ ρ fell.
    /// </summary>
    private static long Cover(int[] rho, int eh, int ew, int sy, int sx, bool partial, int closeLine, int closeRow, int rows)
    {
        long fell = 0;
        int y0 = Math.Max(0, -sy), y1 = Math.Min(eh, eh - sy), x0 = Math.Max(0, -sx), x1 = Math.Min(ew, ew - sx);
        if (!partial)
        {
            // The other fold holds every channel: those pixels hit on every read.
            for (int oy = y0; oy < y1 && x0 < x1; oy++)
            {
                var span = rho.AsSpan(oy * ew + x0, x1 - x0);
                fell += Sum(span);
                span.Clear();
            }
            return fell;
        }
        for (int oy = y0; oy < y1; oy++)
        {
            int rowBase = oy * ew, otherBase = (oy + sy) * ew + sx;
            for (int ox = x0; ox < x1; ox++)
            {
                int p = rowBase + ox;
                int current = rho[p];
                if (current == 0) continue;
                // The other fold's pixel read channel r on its line p′ + r; on the close line only
                // rows after the closing one came after the close.
                int d = closeLine - (otherBase + ox);
                int threshold = d < 0 ? 0 : d > closeRow ? d : d + 1;
                if (threshold < current) { fell += current - threshold; rho[p] = threshold; }
            }
        }
        return fell;
    }

    /// <summary>
    /// The line and array row of the n-th (1-based) miss after the read of array row <paramref name="row"/>
    /// on line <paramref name="line"/> (line −1: from the fold's start). Pixel p misses on lines [p, p + ρ(p));
    /// the misses per line are kept as a running count, with each pixel's last line in a ring of Ra + 1
    /// slots; reads within a line go by array row.
    /// </summary>
    private static (int Line, int Row) NthMiss(int[] rho, int[] ring, int m, int rows, int line, int row, long n)
    {
        if (line >= 0)
            for (int r = row + 1, end = Math.Min(rows - 1, line); r <= end; r++)
            {
                int p = line - r;
                if (p < m && r < rho[p] && --n == 0) return (line, r);
            }
        int size = rows + 1, start = line + 1, run = 0;
        Array.Clear(ring, 0, size);
        // Pixels that started before the first line scanned and are still missing on it.
        for (int p = Math.Max(0, start - rows), stop = Math.Min(m, start); p < stop; p++)
            if (p + rho[p] > start) { run++; ring[(p + rho[p]) % size]++; }
        // slot = t mod (Ra + 1), stepped rather than divided; a pixel's last line is at most Ra ahead.
        for (int t = start, slot = start % size; ; t++, slot = slot + 1 == size ? 0 : slot + 1)
        {
            if (t < m && rho[t] > 0)
            {
                run++;
                int last = slot + rho[t];
                ring[last >= size ? last - size : last]++;
            }
            run -= ring[slot];
            ring[slot] = 0;
            if (n > run) { n -= run; continue; }
            for (int r = Math.Max(0, t - m + 1), end = Math.Min(rows - 1, t); r <= end; r++)
                if (r < rho[t - r] && --n == 0) return (t, r);
            throw new InvalidOperationException("unreachable: the line's misses were counted from the same thresholds");
        }
    }

    private static long Sum(ReadOnlySpan<int> values)
    {
        var acc = System.Numerics.Vector<int>.Zero;
        int i = 0, width = System.Numerics.Vector<int>.Count;
        for (; i <= values.Length - width; i += width) acc += new System.Numerics.Vector<int>(values[i..]);
        long sum = System.Numerics.Vector.Sum(acc);
        for (; i < values.Length; i++) sum += values[i];
        return sum;
    }

    /// <summary>Valid reads of the fold (tap (kr, kc)) after the read of array row <paramref name="row"/> on line <paramref name="line"/>.</summary>
    private static long ValidAfter(in SystolicModel.Geometry g, in IfmapStream stream, int rows, int kr, int kc, int line, int row)
    {
        int m = (int)g.M, ew = g.L.OfmapWidth;
        long validRows = stream.PixelRowsValid(kr), validCols = stream.PixelColsValid(kc), after = 0;
        // Pixels p > line − rows … read rows r with p + r > line, or r > row on the line itself.
        for (int p = Math.Max(0, line - rows + 1); p < m && p <= line; p++)
        {
            int oy = p / ew;
            if (oy >= validRows || p - oy * ew >= validCols) continue;
            int first = line - p + (line - p > row ? 0 : 1);
            after += Math.Max(0, rows - first);
        }
        // Pixels after the line read all their rows later.
        long validBeyond = ValidPixelsBelow(stream, ew, kr, kc, m) - ValidPixelsBelow(stream, ew, kr, kc, Math.Min(m, line + 1));
        return after + validBeyond * rows;
    }

    /// <summary>
    /// How many of <paramref name="run"/> folds of <paramref name="perFold"/> misses each go into a window
    /// that needs <paramref name="need"/> more misses to close without closing it (all when they miss nothing).
    /// </summary>
    internal static long QuietFolds(long run, long perFold, long need) => perFold == 0 ? run : Math.Min(run, (need - 1) / perFold);

    /// <summary>
    /// Per filter tap (row-major), the taps whose reads can land on the same ifmap positions (offsets a
    /// multiple of the stride), each with the shift (ofmap rows, columns) from this tap's pixel to theirs.
    /// </summary>
    /// <remarks>
    /// The table depends only on the filter's size and stride, so the last one built is kept per thread (layers of a
    /// network and the arrays of a sweep mostly repeat it); callers only read it.
    /// </remarks>
    internal static (int Tap, int Sy, int Sx)[][] Overlaps(in SystolicLayerShape l, bool includeSelf)
    {
        var key = (l.FilterHeight, l.FilterWidth, l.StrideHeight, l.StrideWidth, includeSelf);
        if (_lastOverlaps is { } last && last.Key == key) return last.Table;
        var table = BuildOverlaps(l, includeSelf);
        _lastOverlaps = (key, table);
        return table;
    }

    [ThreadStatic] private static ((int, int, int, int, bool) Key, (int Tap, int Sy, int Sx)[][] Table)? _lastOverlaps;

    private static (int Tap, int Sy, int Sx)[][] BuildOverlaps(in SystolicLayerShape l, bool includeSelf)
    {
        int s = l.FilterWidth, taps = l.FilterHeight * s;
        var overlaps = new (int Tap, int Sy, int Sx)[taps][];
        for (int tap = 0; tap < taps; tap++)
        {
            var list = new List<(int, int, int)>();
            for (int t2 = 0; t2 < taps; t2++)
            {
                int dy = tap / s - t2 / s, dx = tap % s - t2 % s;
                if ((includeSelf || t2 != tap) && dy % l.StrideHeight == 0 && dx % l.StrideWidth == 0)
                    list.Add((t2, dy / l.StrideHeight, dx / l.StrideWidth));
            }
            overlaps[tap] = [.. list];
        }
        return overlaps;
    }

    /// <summary>Pixels in [0, n) for which tap (kr, kc) lands inside the ifmap.</summary>
    private static long ValidPixelsBelow(in IfmapStream stream, int ew, int kr, int kc, int n)
    {
        long validRows = stream.PixelRowsValid(kr), validCols = stream.PixelColsValid(kc);
        int fullRows = n / ew, rest = n - fullRows * ew;
        long count = (long)Math.Min(fullRows, validRows) * validCols;
        if (fullRows < validRows) count += Math.Min(rest, validCols);
        return count;
    }
}
