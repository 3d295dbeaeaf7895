using System.Numerics;
using System.Runtime.Intrinsics;

namespace Tandem.Core.Hardware.Systolic;

internal static partial class IfmapWindowReplay
{
    /// <summary>
    /// What every ofmap row reads in one weight-stationary fold whose elements span fewer filter rows than the
    /// vertical stride (<c>State.CountRows</c>), relative to the row's first line and first ifmap address per filter
    /// row; built once per row fold and evaluation and kept for the later column folds while all of them fit in
    /// <see cref="TemplateBytes"/> (else rebuilt per fold).
    /// <para>
    /// Read (pixel ox of the row, array row r) is on relative line ox + r. Its word's latest earlier read in the fold
    /// is that of pixel ox + 1 at the tap sw to the left (array row r − sw·C, relative line ox + r − (sw·C − 1)); it
    /// exists when that element is in the fold and in the same filter row and pixel ox + 1 is in the ofmap row.
    /// A read without one is the first of its word in the fold, and every word the row reads has exactly one.
    /// </para>
    /// </summary>
    private sealed class RowTemplate
    {
        /// <summary>The fold's first filter row and how many it meets; lines per ofmap row (ofmap width + rows − 1); words per mask.</summary>
        public int Kr0, Nk, Span, MaskLen, RowWords;

        /// <summary>Array rows r &lt; RowsOf[v] read filter rows Kr0 … Kr0 + v − 1 (an ofmap row near the bottom reads only those).</summary>
        public int[] RowsOf = [];

        /// <summary>Per v (filter rows read), at v·(Span + 1): prefix sums over relative lines of first reads, and of reads with an earlier read.</summary>
        public int[] First = [], Later = [];

        /// <summary>Per v, at v·Span: first reads and reads with an earlier read on each relative line.</summary>
        public int[] FirstOn = [], LaterOn = [];

        /// <summary>Per filter row index, at i·MaskLen: bit x·C + channel set for every word the ofmap row reads there.</summary>
        public ulong[] Masks = [];

        /// <summary>
        /// Per filter row index and bit shift (the ifmap address of the filter row's first word mod 64), at
        /// (i·64 + shift)·(MaskLen + 1): the mask shifted to that bit, built on first use (Shifted says which are).
        /// </summary>
        public ulong[] ShiftedMasks = [];
        public bool[] Shifted = [];

        /// <summary>Per filter row index, at i·RowWords: the relative line of the first read of word x·C + channel.</summary>
        public int[] FirstLineOf = [];

        /// <summary>Per array row: tap, channel, filter row index, last ofmap column inside the ifmap, and whether its reads have an earlier read in the fold.</summary>
        public int[] Tap = [], Channel = [], KrIndex = [], OxMax = [];
        public bool[] HasEarlier = [];

        /// <summary>Words of an ofmap row reading v filter rows.</summary>
        public int Words(int v) => First[v * (Span + 1) + Span];

        /// <summary>First reads of an ofmap row reading v filter rows on relative lines [0, l).</summary>
        public int FirstBefore(int v, int l) => First[v * (Span + 1) + l];

        /// <summary>Reads with an earlier read of an ofmap row reading v filter rows on relative lines [0, l).</summary>
        public int LaterBefore(int v, int l) => Later[v * (Span + 1) + l];

        /// <summary>First reads of an ofmap row reading v filter rows, per relative line.</summary>
        public ReadOnlySpan<int> FirstPerLine(int v) => FirstOn.AsSpan(v * Span, Span);

        /// <summary>Reads with an earlier read of an ofmap row reading v filter rows on relative line l.</summary>
        public int LaterOnLine(int v, int l) => LaterOn[v * Span + l];

        /// <summary>Templates given back by <c>State.Release</c>, kept per thread with their arrays.</summary>
        [ThreadStatic] private static Stack<RowTemplate>? _pool;

        public static RowTemplate Take() => _pool is { Count: > 0 } pool ? pool.Pop() : new RowTemplate();

        public void Release() => (_pool ??= new Stack<RowTemplate>()).Push(this);

        /// <summary>Arrays of at least the lengths given, cleared where the build accumulates into them.</summary>
        public void Size(int nk, int span, int maskLen, int rowWords, int rows)
        {
            (Nk, Span, MaskLen, RowWords) = (nk, span, maskLen, rowWords);
            Grow(ref RowsOf, nk + 1);
            Grow(ref First, (nk + 1) * (span + 1));
            Grow(ref Later, (nk + 1) * (span + 1));
            Grow(ref FirstOn, (nk + 1) * span);
            Grow(ref LaterOn, (nk + 1) * span);
            Grow(ref Masks, nk * maskLen);
            Array.Clear(Masks, 0, nk * maskLen);
            Grow(ref FirstLineOf, nk * rowWords);
            Grow(ref ShiftedMasks, nk * 64 * (maskLen + 1));
            Grow(ref Shifted, nk * 64);
            Array.Clear(Shifted, 0, nk * 64);
            Grow(ref Tap, rows);
            Grow(ref Channel, rows);
            Grow(ref KrIndex, rows);
            Grow(ref OxMax, rows);
            Grow(ref HasEarlier, rows);
        }

        /// <summary>Filter row index i's mask shifted left by <paramref name="shift"/> bits (MaskLen + 1 words).</summary>
        public ReadOnlySpan<ulong> MaskAt(int i, int shift)
        {
            int at = (i * 64 + shift) * (MaskLen + 1);
            if (!Shifted[i * 64 + shift])
            {
                var m = Masks.AsSpan(i * MaskLen, MaskLen);
                for (int j = 0; j <= MaskLen; j++)
                    ShiftedMasks[at + j] = (j < MaskLen ? m[j] << shift : 0) | (shift != 0 && j > 0 ? m[j - 1] >> (64 - shift) : 0);
                Shifted[i * 64 + shift] = true;
            }
            return ShiftedMasks.AsSpan(at, MaskLen + 1);
        }

        private static void Grow<T>(ref T[] a, int n)
        {
            if (a.Length < n) a = new T[Math.Max(n, 2 * a.Length)];
        }
    }

    /// <summary>Memory the row templates of one evaluation may keep for reuse by later column folds.</summary>
    private const long TemplateBytes = 16L << 20;

    /// <summary>When positive, the budget instead of <see cref="TemplateBytes"/> on this thread (tests).</summary>
    [ThreadStatic] internal static long TemplateBytesOnThisThread;

    /// <summary>Folds counted by ofmap rows, and their closes before and after a close in the same fold, on this thread (for tests).</summary>
    [ThreadStatic] internal static long RowCountedFolds, RowCountedFirstCloses, RowCountedLaterCloses;

    private partial struct State
    {
        /// <summary>
        /// Whether the current (weight-stationary) fold is counted by ofmap rows: its elements span fewer filter rows
        /// than the vertical stride, so no two ofmap rows of the fold read the same word.
        /// </summary>
        private readonly bool CountsByRows =>
            _g.Flow == SystolicDataflow.WeightStationary && (_k0 + _kCount - 1) / _sc - _k0 / _sc < _sh;

        /// <summary>
        /// The current WS fold counted by ofmap rows, without marking words until its end. The fold's ofmap rows read
        /// disjoint sets of words, each row the same pattern shifted by the ofmap width in lines and by the vertical
        /// stride in ifmap rows. A read misses exactly when no read of its word lies before it and after the last close
        /// (<c>WeightStationaryReadRuleTests</c>): before the fold's first close, when it is its word's first read in
        /// the fold and the word is not in the window; after a close (tc, rc), when it is its word's first read in the
        /// fold, or its word's latest earlier read is at or before the close — the reads with an earlier read on the
        /// sw·C − 2 lines after the close's line, and on the next line those whose earlier read's row is at most rc.
        /// So a whole ofmap row brings its words less those in the window (before the first close; a population
        /// count of its shifted word masks) or all its words (after), and only the rows around the line on which the
        /// window closes need their new words per line; that line is then walked read by read in SCALE-Sim's order.
        /// At the end the window's bitset is rebuilt: the fold's words added to it when nothing closed, else the
        /// reads after the last close.
        /// </summary>
        private void CountRows(int fr)
        {
            RowCountedFolds++;
            var t = RowTemplateOf(fr);
            int wo = _ew, span = t.Span, ho = _pCount / wo, lines = (int)FoldLines;
            bool closed = false;
            int tc = -1, rc = -1, a = 0, synced = 0;
            while (a < lines)
            {
                long need = _window - _open;
                // Rows with reads on lines ≥ a, in order, until their new words reach the need: the close is then on
                // a line of row j (none before it: the rows before j bring fewer than the need in all).
                int oyA = FirstRowReaching(a, span, wo);
                long before = 0;
                int j = oyA;
                for (; j < ho; j++)
                {
                    long total = RowTotalFrom(t, j, a, closed, tc, rc);
                    if (before + total >= need) break;
                    before += total;
                }
                if (j == ho)
                {
                    Misses += before;
                    _open += before;
                    break;
                }
                int l0 = Math.Max(a, j * wo), lend = Math.Min(j * wo + span, lines);
                int oyLo = Math.Max(oyA, FirstRowReaching(l0, span, wo)), oyHi = Math.Min(ho - 1, (lend - 1) / wo);
                // New words per line on [l0, lend), summed over the rows that read there (h: those, then one row's own).
                int[] h = Rent(ref _rowHist, 2 * span);
                var row = h.AsSpan(span, span);
                var onLines = h.AsSpan(0, lend - l0);
                onLines.Clear();
                for (int oy = oyLo; oy <= oyHi; oy++)
                {
                    RowNewWords(t, oy, a, closed, tc, rc, row);
                    int s0 = oy * wo;
                    int from = Math.Max(l0, s0), n = Math.Min(lend, s0 + span) - from;
                    var dst = onLines.Slice(from - l0, n);
                    var src = row.Slice(from - s0, n);
                    int l = 0;
                    for (; l + Vector256<int>.Count <= n; l += Vector256<int>.Count)
                        (Vector256.Create<int>(dst[l..]) + Vector256.Create<int>(src[l..])).CopyTo(dst[l..]);
                    for (; l < n; l++) dst[l] += src[l];
                    // New words on lines [a, l0): the rows before j less their words on lines ≥ l0 (all inside [l0, lend)).
                    if (oy < j)
                        foreach (int x in src) before -= x;
                }
                int line = l0;
                for (; line < lend; line++)
                {
                    long onLine = onLines[line - l0];
                    if (before + onLine >= need) break;
                    before += onLine;
                }
                System.Diagnostics.Debug.Assert(line < lend, "row counts and line counts disagree");
                Misses += before;
                _open += before;
                _sinceClose += line - synced;
                synced = line;
                if (closed) RowCountedLaterCloses++;
                else RowCountedFirstCloses++;
                WalkLine(t, line, ref closed, ref tc, ref rc);
                a = line + 1;
            }
            _sinceClose += lines - synced;
            // The window's bitset for what follows.
            if (!closed)
                for (int oy = 0; oy < ho; oy++) MarkRowWords(t, oy);
            else
            {
                // The reads after the last close: line tc's after row rc, the rest of the rows that began by line tc, then
                // the later rows whole.
                MarkLineFrom(tc, rc + 1);
                int oyT = tc / wo, straddleEnd = Math.Min(lines, oyT * wo + span);
                if (tc + 1 < straddleEnd) MarkLines(tc + 1, straddleEnd, false);
                CommitFold();
                for (int oy = oyT + 1; oy < ho; oy++) MarkRowWords(t, oy);
            }
            System.Diagnostics.Debug.Assert(WindowPopulation() == _open, "counted rows and the window's bitset disagree");
        }

        /// <summary>The first ofmap row whose lines (span of them from row · ofmap width) reach line a.</summary>
        private static int FirstRowReaching(int a, int span, int wo) => a < span ? 0 : (a - span) / wo + 1;

        /// <summary>Filter rows of the fold that ofmap row oy reads inside the ifmap.</summary>
        private readonly int RowV(RowTemplate t, int oy) => Math.Clamp(_h - _sh * oy - t.Kr0, 0, t.Nk);

        /// <summary>Ifmap address of the first word of filter row index i of ofmap row oy's window.</summary>
        private readonly long RowBase(RowTemplate t, int oy, int i) => ((long)(_sh * oy + t.Kr0 + i) * _w) * _c;

        /// <summary>New words of ofmap row oy on lines ≥ a (the fold's own lines), in the current standing.</summary>
        private readonly long RowTotalFrom(RowTemplate t, int oy, int a, bool closed, int tc, int rc)
        {
            int v = RowV(t, oy);
            if (v == 0) return 0;
            if (!closed)
            {
                System.Diagnostics.Debug.Assert(a == 0, "before the fold's first close the count starts at its first line");
                return t.Words(v) - RowWordsInWindow(t, oy, v);
            }
            int s = oy * _ew, swc = _sw * _c, bandEnd = tc + swc - 2;
            if (s > bandEnd + 1) return t.Words(v);
            long total = t.Words(v) - t.FirstBefore(v, Math.Max(0, a - s));
            int l1 = Math.Max(a, s) - s, l2 = Math.Min(bandEnd, s + t.Span - 1) - s;
            if (l1 <= l2) total += t.LaterBefore(v, l2 + 1) - t.LaterBefore(v, l1);
            int edge = tc + swc - 1;
            if (edge >= a && edge >= s && edge < s + t.Span) total += EdgeCount(t, oy, v, edge, rc);
            return total;
        }

        /// <summary>New words of ofmap row oy per relative line, on lines ≥ a, in the current standing, into h.</summary>
        private readonly void RowNewWords(RowTemplate t, int oy, int a, bool closed, int tc, int rc, Span<int> h)
        {
            h.Clear();
            int v = RowV(t, oy);
            if (v == 0) return;
            int s = oy * _ew;
            if (!closed)
            {
                // Before the first close: the first reads of the words not in the window — counted one by one, or as
                // all first reads less those of the words in the window, whichever are fewer.
                long hits = RowWordsInWindow(t, oy, v);
                bool countFresh = 2 * hits > t.Words(v);
                if (!countFresh) t.FirstPerLine(v).CopyTo(h);
                if (hits == 0) return;
                var win = _win;
                for (int i = 0; i < v; i++)
                {
                    long b = RowBase(t, oy, i);
                    int w0 = (int)(b >> 6), shift = (int)(b & 63), wl = (int)((b + _rowWords - 1) >> 6);
                    var m = t.MaskAt(i, shift);
                    var lineOf = t.FirstLineOf.AsSpan(i * t.RowWords, t.RowWords);
                    if (countFresh)
                        for (int j = 0; j <= wl - w0; j++)
                            for (ulong x = m[j] & ~win[w0 + j]; x != 0; x &= x - 1)
                                h[lineOf[(j << 6) + BitOperations.TrailingZeroCount(x) - shift]]++;
                    else if (wl >= _winLo && w0 <= _winHi)
                        for (int j = 0; j <= wl - w0; j++)
                            for (ulong x = m[j] & win[w0 + j]; x != 0; x &= x - 1)
                                h[lineOf[(j << 6) + BitOperations.TrailingZeroCount(x) - shift]]--;
                }
                return;
            }
            int from = Math.Max(0, a - s);
            t.FirstPerLine(v)[from..].CopyTo(h[from..]);
            int swc = _sw * _c, bandEnd = tc + swc - 2;
            for (int line = Math.Max(a, s), last = Math.Min(bandEnd, s + t.Span - 1); line <= last; line++)
                h[line - s] += t.LaterOnLine(v, line - s);
            int edge = tc + swc - 1;
            if (edge >= a && edge >= s && edge < s + t.Span) h[edge - s] += EdgeCount(t, oy, v, edge, rc);
        }

        /// <summary>
        /// Reads of ofmap row oy on line <paramref name="edge"/> (sw·C − 1 lines after the close's) whose word's
        /// latest earlier read is on the close's line at a row at most rc: new words.
        /// </summary>
        private readonly int EdgeCount(RowTemplate t, int oy, int v, int edge, int rc)
        {
            int s = oy * _ew, wo = _ew, swc = _sw * _c, count = 0;
            int rLo = Math.Max(0, edge - s - wo + 1), rHi = Math.Min(Math.Min(_kCount - 1, edge - s), Math.Min(t.RowsOf[v] - 1, rc + swc));
            for (int r = rLo; r <= rHi; r++)
            {
                int ox = edge - s - r;
                if (t.HasEarlier[r] && ox <= Math.Min(t.OxMax[r], wo - 2)) count++;
            }
            return count;
        }

        /// <summary>
        /// The reads of line <paramref name="line"/> in SCALE-Sim's order (array row r reads pixel line − r), each
        /// counted when new; the window closes on this line (possibly more than once).
        /// </summary>
        private void WalkLine(RowTemplate t, int line, ref bool closed, ref int tc, ref int rc)
        {
            int wo = _ew, swc = _sw * _c;
            int r0 = Math.Max(0, line - _pCount + 1), r1 = Math.Min(_kCount - 1, line);
            for (int r = r0; r <= r1; r++)
            {
                int p = line - r, oy = p / wo, ox = p - oy * wo;
                if (r >= t.RowsOf[RowV(t, oy)] || ox > t.OxMax[r]) continue; // outside the ifmap: no read
                bool fresh;
                if (t.HasEarlier[r] && ox <= wo - 2)
                {
                    int d = line - (swc - 1);
                    fresh = closed && (d < tc || d == tc && r - swc <= rc);
                }
                else if (closed) fresh = true;
                else
                {
                    long addr = RowBase(t, oy, t.KrIndex[r]) + (long)(_sw * ox + t.Tap[r]) * _c + t.Channel[r];
                    fresh = (_win[addr >> 6] & (1UL << (int)(addr & 63))) == 0;
                }
                if (!fresh) continue;
                Misses++;
                if (++_open == _window)
                {
                    NoteClose(_lineBase + line, p, _k0 + r);
                    // Before the first close the window's bitset says which first reads hit; afterwards it is not
                    // read, and is rebuilt at the fold's end.
                    if (!closed) EmptyWindow();
                    closed = true;
                    (tc, rc) = (line, r);
                }
            }
        }

        /// <summary>Words of ofmap row oy (reading v filter rows) already in the window: its masks, shifted to each filter row's address, against the bitset.</summary>
        private readonly long RowWordsInWindow(RowTemplate t, int oy, int v)
        {
            long hits = 0;
            var win = _win;
            for (int i = 0; i < v; i++)
            {
                long b = RowBase(t, oy, i);
                int w0 = (int)(b >> 6), wl = (int)((b + _rowWords - 1) >> 6);
                if (wl < _winLo || w0 > _winHi) continue;
                var m = t.MaskAt(i, (int)(b & 63));
                for (int j = 0; j <= wl - w0; j++) hits += BitOperations.PopCount(m[j] & win[w0 + j]);
            }
            return hits;
        }

        /// <summary>Every word ofmap row oy reads, into the window's bitset.</summary>
        private void MarkRowWords(RowTemplate t, int oy)
        {
            int v = RowV(t, oy);
            var win = _win;
            for (int i = 0; i < v; i++)
            {
                long b = RowBase(t, oy, i);
                int w0 = (int)(b >> 6), wl = (int)((b + _rowWords - 1) >> 6);
                var m = t.MaskAt(i, (int)(b & 63));
                int n = wl - w0 + 1, j = 0;
                var row = win.AsSpan(w0, n);
                for (; j + 4 <= n; j += 4)
                    (Vector256.Create<ulong>(row[j..]) | Vector256.Create<ulong>(m[j..])).CopyTo(row[j..]);
                for (; j < n; j++) row[j] |= m[j];
                if (w0 < _winLo) _winLo = w0;
                if (wl > _winHi) _winHi = wl;
            }
        }

        /// <summary>Bits set in the window (checks only).</summary>
        private readonly long WindowPopulation()
        {
            long n = 0;
            for (int w = Math.Max(0, _winLo); w <= _winHi; w++) n += BitOperations.PopCount(_win[w]);
            return n;
        }

        /// <summary>The row template of row fold fr (the current fold's elements), built on first use in this evaluation.</summary>
        private RowTemplate RowTemplateOf(int fr)
        {
            int k0 = _k0, kc = _kCount, c = _c, sc = _sc, sw = _sw, wo = _ew, swc = sw * c, rowWords = _rowWords;
            int kr0 = k0 / sc, nk = (k0 + kc - 1) / sc - kr0 + 1, span = wo + kc - 1, maskLen = (rowWords + 63) / 64, stride = span + 1;
            if (_rowTemplates is null)
            {
                // One template per row fold while they all fit in TemplateBytes (a filter row spans at most the
                // vertical stride's filter rows of the fold; twice this one's as slack), else one rebuilt per fold.
                long bytes = 2L * Math.Max(nk, 1) * (65L * (maskLen + 1) * 8 + rowWords * 4L) + 16L * (nk + 1) * stride + 20L * kc;
                long budget = TemplateBytesOnThisThread > 0 ? TemplateBytesOnThisThread : TemplateBytes;
                _rowTemplates = new RowTemplate?[_g.RowFolds * bytes <= budget ? _g.RowFolds : 1];
            }
            int slot = _rowTemplates.Length == 1 ? 0 : fr;
            if (_rowTemplates[slot] is { } known && (_rowTemplates.Length > 1 || _rowTemplateFold == fr)) return known;
            var t = _rowTemplates[slot] ?? RowTemplate.Take();
            _rowTemplateFold = fr;
            t.Kr0 = kr0;
            t.Size(nk, span, maskLen, rowWords, kc);
            for (int v = 0; v <= nk; v++) t.RowsOf[v] = Math.Clamp((kr0 + v) * sc - k0, 0, kc);
            // Per filter row index, first differences over relative lines of first reads and of reads with an earlier
            // one, at (index + 1)·stride (turned into prefix sums over v below, in place).
            var first = t.First;
            var later = t.Later;
            Array.Clear(first, 0, (nk + 1) * stride);
            Array.Clear(later, 0, (nk + 1) * stride);
            var masks = t.Masks;
            var lineOf = t.FirstLineOf;
            for (int r = 0; r < kc; r++)
            {
                int e = k0 + r, kr = e / sc, rem = e - kr * sc, tap = rem / c, ch = rem - tap * c, ki = kr - kr0;
                int oxMax = Math.Min(wo - 1, (_w - 1 - tap) / sw);
                bool hasEarlier = r >= swc && tap >= sw;
                (t.Tap[r], t.Channel[r], t.KrIndex[r], t.OxMax[r], t.HasEarlier[r]) = (tap, ch, ki, oxMax, hasEarlier);
                int d = (ki + 1) * stride, firstFrom = 0;
                if (hasEarlier)
                {
                    // Pixels 0 … wo − 2 have an earlier read (pixel ox + 1's); the row's last pixel starts its word.
                    int last = Math.Min(oxMax, wo - 2);
                    if (last >= 0)
                    {
                        later[d + r]++;
                        later[d + r + last + 1]--;
                    }
                    firstFrom = wo - 1;
                }
                if (firstFrom > oxMax) continue;
                first[d + r + firstFrom]++;
                first[d + r + oxMax + 1]--;
                for (int ox = firstFrom, addr = (tap + sw * ox) * c + ch; ox <= oxMax; ox++, addr += sw * c)
                {
                    masks[ki * maskLen + (addr >> 6)] |= 1UL << (addr & 63);
                    lineOf[ki * rowWords + addr] = r + ox;
                }
            }
            // Row v: prefix sums over lines of the per-line counts of filter rows 0 … v − 1.
            for (int v = 1; v <= nk; v++)
            {
                int at = v * stride, prev = (v - 1) * stride;
                int cf = 0, cl = 0, sf = 0, sl = 0;
                for (int l = 0; l < span; l++)
                {
                    cf += first[at + l];
                    cl += later[at + l];
                    first[at + l] = first[prev + l] + sf;
                    later[at + l] = later[prev + l] + sl;
                    sf += cf;
                    sl += cl;
                }
                first[at + span] = first[prev + span] + sf;
                later[at + span] = later[prev + span] + sl;
            }
            for (int v = 0; v <= nk; v++)
                for (int l = 0; l < span; l++)
                {
                    t.FirstOn[v * span + l] = first[v * stride + l + 1] - first[v * stride + l];
                    t.LaterOn[v * span + l] = later[v * stride + l + 1] - later[v * stride + l];
                }
            return _rowTemplates[slot] = t;
        }
    }
}
