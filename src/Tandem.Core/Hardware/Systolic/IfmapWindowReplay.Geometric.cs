using System.Numerics;

namespace Tandem.Core.Hardware.Systolic;

internal static partial class IfmapWindowReplay
{
    /// <summary>
    /// Whether whole blocks of consecutive pixels are counted from the geometry of their windows instead of marked
    /// (<c>State.SkipBlocks</c>): an OS fold reads the whole windows of a block of consecutive pixels, and so do an IS
    /// column fold's row folds together; when neighbouring windows touch or overlap in both directions (stride ≤
    /// filter size) the words a run of pixels covers on an ifmap row are one address run per row, so how many words
    /// any run of pixels reads is a sum over a few rows.
    /// </summary>
    internal static bool CountsWholeBlocks(in SystolicModel.Geometry g)
        => g.Flow != SystolicDataflow.WeightStationary && WindowsTouch(g);

    /// <summary>Whether neighbouring pixels' windows touch or overlap in both directions (stride ≤ filter size).</summary>
    internal static bool WindowsTouch(in SystolicModel.Geometry g)
        => g.L.StrideWidth <= g.L.FilterWidth && g.L.StrideHeight <= g.L.FilterHeight;

    /// <summary>
    /// Pixel blocks counted by <c>State.SkipBlocks</c>; pending counted words marked for a replayed fold, and all of them
    /// at a sweep's end or before an IS block that closes the window; on this thread (for tests).
    /// </summary>
    [ThreadStatic] internal static long CountedBlocks, CountedMarkedForFold, CountedMarkedWhole;

    /// <summary>Weight-stationary demand lines counted by <c>State.SkipLines</c> on this thread (for tests).</summary>
    [ThreadStatic] internal static long CountedLines;

    private partial struct State
    {
        /// <summary>
        /// Whole blocks of <paramref name="size"/> consecutive pixels from block <paramref name="block"/> (at most
        /// <paramref name="left"/>: OS row folds of the current column fold's sweep, IS column folds with all their row
        /// folds) that the window takes without closing: the window after n more blocks holds <c>_geoBase</c> + |W| −
        /// |marked ∩ W| words, W the words of the pixels from <c>_geoFrom</c> to the end of the n-th block
        /// (<see cref="Covered"/>, <see cref="MarkedIn"/>), and the largest n under the window size is found by
        /// interpolation (<see cref="MostPixelsUnder"/>). Returns n; the next block then closes the window (its folds are
        /// replayed after the counted words on its rows are marked, <see cref="MarkCounted"/>). <paramref name="lines"/>:
        /// demand lines per block.
        /// </summary>
        public long SkipBlocks(long block, int size, long left, long lines)
        {
            int ps = (int)(block * size);
            // The window after the next block holds at least what it holds now and that block's words: when either
            // reaches the window size, the block closes it (large blocks of wide layers mostly do), and nothing is counted.
            if (Math.Max(_open, Covered(ps, PixelEnd(block, size, 1))) >= _window) return 0;
            // The counts below read the window's marks.
            if (_tailPending) MaterializeTail(_open);
            if (_geoFrom < 0) (_geoFrom, _geoTo, _geoBase, _geoFar) = (ps, ps, _open, -1);
            long lo = MostPixelsUnder(block, size, left, _open, out long dLo, out long dNext);
            if (lo == 0) return 0;
            CountedBlocks += lo;
            long fresh = dLo - _open;
            _geoTo = PixelEnd(block, size, lo);
            _open = dLo;
            Misses += fresh;
            _sinceClose += lo * lines;
            _closing = 0;
            // The next block brings dNext − dLo new words if read whole: after counted blocks, its own average per line
            // is where the replay of an OS fold starts its rate (the counted blocks' average overshot; when nothing was
            // counted, the replayed fold before it keeps setting the rate, which measured better on folds that close
            // more than once).
            _foldAverage = dNext >= 0 && _g.Flow == SystolicDataflow.OutputStationary
                ? Math.Max((double)(dNext - dLo) / lines, 1e-3)
                : Math.Max((double)fresh / (lo * lines), 1e-3);
            _rate = _foldAverage;
            return lo;
        }

        /// <summary>
        /// The most blocks n ≤ <paramref name="left"/> of <paramref name="size"/> pixels from <paramref name="block"/>
        /// for which <see cref="CountedWindow"/> of their end stays under the window size (<paramref name="d0"/> its value
        /// for none), that value and the next block's (−1 if not evaluated). The window grows about linearly with the blocks taken: the first guess comes from
        /// the words a block adds in steady state (stride rows of a whole ofmap row's width per ofmap row of pixels),
        /// later ones from the slope seen and, once a guess has overshot, by interpolation; each guess is checked against
        /// its neighbour on the far side, which mostly brackets the answer at once. n = left + 1 is never evaluated.
        /// </summary>
        private long MostPixelsUnder(long block, int size, long left, long d0, out long dAt, out long dNext)
        {
            long window = _window, lo = 0, dLo = d0, hi = left + 1, dHi = long.MaxValue;
            double slope = Math.Max(1.0, (double)FullRowWords * _sh * size / _ew);
            while (hi - lo > 1)
            {
                long guess = dHi == long.MaxValue
                    ? lo + (long)((window - 1 - dLo) / slope)
                    : lo + (long)((double)(window - 1 - dLo) * (hi - lo) / Math.Max(1, dHi - dLo));
                guess = Math.Clamp(guess, lo + 1, hi - 1);
                long d = CountedWindow(PixelEnd(block, size, guess));
                if (d < window)
                {
                    slope = Math.Max(1.0, (double)(d - dLo) / (guess - lo));
                    (lo, dLo) = (guess, d);
                    if (hi - lo <= 1) break;
                    long d2 = CountedWindow(PixelEnd(block, size, lo + 1));
                    if (d2 >= window) { (hi, dHi) = (lo + 1, d2); break; }
                    (lo, dLo) = (lo + 1, d2);
                }
                else
                {
                    (hi, dHi) = (guess, d);
                    if (hi - lo <= 1) break;
                    long d2 = CountedWindow(PixelEnd(block, size, hi - 1));
                    if (d2 < window) { (lo, dLo) = (hi - 1, d2); break; }
                    (hi, dHi) = (hi - 1, d2);
                }
            }
            dAt = dLo;
            dNext = hi == lo + 1 && dHi != long.MaxValue ? dHi : -1;
            return lo;
        }

        /// <summary>
        /// A weight-stationary fold over every window element reads pixel p's element k on line p + k: from line
        /// <paramref name="from"/> on, every read on lines before P is of a pixel in [from − K + 1, P), whose reads
        /// before <paramref name="from"/> are all in the window (the caller starts K − 1 lines after the fold's last
        /// close), so while the window's words and those pixels' windows together stay under the window size
        /// (<see cref="MostPixelsUnder"/>), no close falls on those lines. Up to the last such P: the pixels whose reads
        /// all lie on lines before P (those before P − K + 1) are counted whole and marked on the rows later reads
        /// touch, and the staircase of the pixels after them, lines [P − K + 1, P), is marked. Returns the line to go on
        /// from (<paramref name="from"/> when fewer than 2K lines of whole pixels would be counted: not worth it).
        /// </summary>
        private long SkipLines(int from)
        {
            int k = _kCount, ps = Math.Max(0, from - k + 1);
            if (from + 3L * k - 1 > _g.M) return from;
            (_geoFrom, _geoTo, _geoBase, _geoFar) = (ps, ps, _open, -1);
            long d0 = CountedWindow(from);
            long n = d0 < _window ? MostPixelsUnder(from, 1, _g.M - from, d0, out _, out _) : 0;
            int end = from + (int)n, pe = end - k + 1;
            if (pe - from < 2 * k)
            {
                _geoFrom = -1;
                return from;
            }
            long open = _open, whole = CountedWindow(pe);
            _geoTo = pe;
            Misses += whole - _open;
            _open = whole;
            MarkCounted(Math.Max(ps, pe - k + 1), pe);
            long stair = MarkLines(pe, end, false);
            CommitFold();
            _open += stair;
            Misses += stair;
            CountedLines += end - from;
            _sinceClose += end - from;
            _closing = 0;
            _rate = Math.Max((double)(_open - open) / (end - from), 1e-9);
            return end;
        }

        /// <summary>The pixel after the last of n whole blocks of <paramref name="size"/> pixels from <paramref name="block"/>.</summary>
        private readonly int PixelEnd(long block, int size, long n) => (int)Math.Min(_g.M, (block + n) * size);

        /// <summary>Words in the window if the pixels from <c>_geoFrom</c> to <paramref name="pe"/> had all been read.</summary>
        private long CountedWindow(int pe)
        {
            long covered = Covered(_geoFrom, pe);
            // Once the last ofmap row's windows start below every marked word, the marked words the pixels cover no
            // longer depend on where they end (an ifmap row above the last ofmap row's windows is read only by the
            // first ofmap row, from its first pixel on, and by whole ones between): counted once per run of skips.
            int oyB = (pe - 1) / _ew;
            if (_winHi >= 0 && (long)oyB * _sh * _rowWords > ((long)_winHi << 6) + 63)
            {
                if (_geoFar < 0) _geoFar = MarkedIn(_geoFrom, pe);
                return _geoBase + covered - _geoFar;
            }
            return _geoBase + covered - MarkedIn(_geoFrom, pe);
        }

        /// <summary>
        /// Before fold f is replayed while words are counted but not marked: the counted words on the ifmap rows that
        /// pixels [<paramref name="p0"/>, <paramref name="p1"/>) read are marked (every read of the fold is on those
        /// rows, so the bitset then answers for each), or, with <paramref name="p0"/> = −1, all of them.
        /// </summary>
        private void MarkCounted(int p0, int p1)
        {
            if (_geoFrom < 0) return;
            if (_geoTo > _geoFrom)
            {
                if (p0 >= 0) CountedMarkedForFold++;
                else CountedMarkedWhole++;
                int ps = _geoFrom, pe = _geoTo;
                var (y0, y1) = CoveredRows(ps, pe);
                if (p0 >= 0)
                {
                    var (f0, f1) = CoveredRows(p0, p1);
                    (y0, y1) = (Math.Max(y0, f0), Math.Min(y1, f1));
                }
                for (int y = y0; y < y1; y++)
                {
                    RowCover(y, ps, pe, out int a1, out int a2, out int b1, out int b2);
                    long rowStart = (long)y * _rowWords;
                    if (a2 > a1) MarkCountedRun(rowStart + (long)a1 * _c, rowStart + (long)a2 * _c);
                    if (b2 > b1) MarkCountedRun(rowStart + (long)b1 * _c, rowStart + (long)b2 * _c);
                }
            }
            if (p0 < 0) _geoFrom = -1;
        }

        private void MarkCountedRun(long a, long b)
        {
            SetBits(_win, a, b);
            int w0 = (int)(a >> 6), w1 = (int)((b - 1) >> 6);
            if (w0 < _winLo) _winLo = w0;
            if (w1 > _winHi) _winHi = w1;
        }

        /// <summary>After a replayed fold: what is left of the words counted but not marked.</summary>
        private void AfterReplayedFold()
        {
            // A close empties the window and ends the counting (NoteClose).
            if (_geoFrom < 0) return;
            // SkipBlocks stops only before an OS fold that brings the window to its size, so the fold closes it (IS
            // blocks are replayed with every counted word marked). A WS fold that counted lines after its last close
            // marks them all, for the next fold reads every row again.
            System.Diagnostics.Debug.Assert(_g.Flow == SystolicDataflow.WeightStationary, "an OS fold replayed after counted folds must close the window");
            MarkAllCounted();
        }

        /// <summary>
        /// Every counted word marked and the counting ended: at the end of an OS column fold's sweep (the next sweep starts
        /// again at pixel 0), before an IS block that closes the window (its folds then go as any others) and after a WS
        /// fold that counted lines (the next fold reads every row again).
        /// </summary>
        public void MarkAllCounted() => MarkCounted(-1, 0);

        /// <summary>The ifmap rows [Y0, Y1) that the windows of pixels [ps, pe) (ps &lt; pe) reach, from the first pixel's ofmap row to the last's.</summary>
        private readonly (int Y0, int Y1) CoveredRows(int ps, int pe)
            => (ps / _ew * _sh, Math.Min(_h, (pe - 1) / _ew * _sh + _g.L.FilterHeight));

        /// <summary>Words the windows of pixels [ps, pe) read.</summary>
        private readonly long Covered(int ps, int pe)
        {
            if (ps >= pe) return 0;
            int e = _ew, sh = _sh, r = _g.L.FilterHeight;
            int oyA = ps / e, oyB = (pe - 1) / e;
            var (y, yEnd) = CoveredRows(ps, pe);
            long total = 0;
            if (oyB - oyA >= 2)
            {
                // Rows read by an ofmap row between the first and the last are covered across the whole width.
                int m1 = (oyA + 1) * sh, m2 = Math.Min(yEnd, (oyB - 1) * sh + r);
                for (; y < m1; y++) total += RowWords(y, ps, pe);
                total += (long)(m2 - m1) * FullRowWords;
                y = m2;
            }
            for (; y < yEnd; y++) total += RowWords(y, ps, pe);
            return total;
        }

        /// <summary>Words of ifmap row y that the windows of pixels [ps, pe) read.</summary>
        private readonly long RowWords(int y, int ps, int pe)
        {
            RowCover(y, ps, pe, out int a1, out int a2, out int b1, out int b2);
            return (long)(a2 - a1 + b2 - b1) * _c;
        }

        /// <summary>Words of an ifmap row that a whole ofmap row's windows read.</summary>
        private readonly long FullRowWords => (long)Math.Min(_w, (_ew - 1) * _sw + _g.L.FilterWidth) * _c;

        /// <summary>Marked words (in <c>_win</c>) among those the windows of pixels [ps, pe) read.</summary>
        private readonly long MarkedIn(int ps, int pe)
        {
            if (_winHi < 0 || ps >= pe) return 0;
            var (y0, y1) = CoveredRows(ps, pe);
            y0 = Math.Max(y0, (int)(((long)_winLo << 6) / _rowWords));
            y1 = (int)Math.Min(y1, (((long)_winHi << 6) + 63) / _rowWords + 1);
            long count = 0;
            for (int y = y0; y < y1; y++)
            {
                RowCover(y, ps, pe, out int a1, out int a2, out int b1, out int b2);
                long rowStart = (long)y * _rowWords;
                if (a2 > a1) count += CountBits(_win, rowStart + (long)a1 * _c, rowStart + (long)a2 * _c);
                if (b2 > b1) count += CountBits(_win, rowStart + (long)b1 * _c, rowStart + (long)b2 * _c);
            }
            return count;
        }

        /// <summary>
        /// Columns of ifmap row y that the windows of pixels [ps, pe) read: [a1, a2) and [b1, b2) (empty when equal).
        /// The ofmap rows that read row y each contribute their pixels' columns; any ofmap row strictly between the
        /// first and the last pixel's is whole, the first is whole from the first pixel on, the last up to the last.
        /// </summary>
        private readonly void RowCover(int y, int ps, int pe, out int a1, out int a2, out int b1, out int b2)
        {
            a1 = a2 = b1 = b2 = 0;
            int e = _ew, sh = _sh, sw = _sw, s = _g.L.FilterWidth, r = _g.L.FilterHeight;
            int oyA = ps / e, oxA = ps - oyA * e, last = pe - 1, oyB = last / e, oxB = last - oyB * e;
            int lo = Math.Max(oyA, (Math.Max(0, y - r + 1) + sh - 1) / sh), hi = Math.Min(oyB, y / sh);
            if (lo > hi) return;
            int u, v;
            if (Math.Max(lo, oyA + 1) <= Math.Min(hi, oyB - 1)) (u, v) = (0, e - 1);
            else if (oyA == oyB) (u, v) = (oxA, oxB);
            else if (hi == oyA) (u, v) = (oxA, e - 1);
            else if (lo == oyB) (u, v) = (0, oxB);
            else
            {
                // Both the first ofmap row (from oxA) and the last (up to oxB) read row y.
                if (oxA <= oxB + 1) (u, v) = (0, e - 1);
                else
                {
                    int end1 = Math.Min(_w, oxB * sw + s), start2 = oxA * sw, end2 = Math.Min(_w, (e - 1) * sw + s);
                    if (end1 >= start2) (a1, a2) = (0, end2);
                    else (a1, a2, b1, b2) = (0, end1, start2, end2);
                    return;
                }
            }
            (a1, a2) = (u * sw, Math.Min(_w, v * sw + s));
        }

        /// <summary>Set bits of <paramref name="bits"/> in [start, end).</summary>
        private static long CountBits(ulong[] bits, long start, long end)
        {
            if (start >= end) return 0;
            int w0 = (int)(start >> 6), w1 = (int)((end - 1) >> 6);
            ulong first = ulong.MaxValue << (int)(start & 63), lastMask = ulong.MaxValue >> (63 - (int)((end - 1) & 63));
            if (w0 == w1) return BitOperations.PopCount(bits[w0] & first & lastMask);
            long n = BitOperations.PopCount(bits[w0] & first) + BitOperations.PopCount(bits[w1] & lastMask);
            for (int w = w0 + 1; w < w1; w++) n += BitOperations.PopCount(bits[w]);
            return n;
        }

        /// <summary>Sets bits [start, end) of <paramref name="bits"/>.</summary>
        private static void SetBits(ulong[] bits, long start, long end)
        {
            if (start >= end) return;
            int w0 = (int)(start >> 6), w1 = (int)((end - 1) >> 6);
            ulong first = ulong.MaxValue << (int)(start & 63), lastMask = ulong.MaxValue >> (63 - (int)((end - 1) & 63));
            if (w0 == w1) { bits[w0] |= first & lastMask; return; }
            bits[w0] |= first;
            bits[w1] |= lastMask;
            for (int w = w0 + 1; w < w1; w++) bits[w] = ulong.MaxValue;
        }
    }
}
