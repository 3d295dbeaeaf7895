using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tandem.Core.Hardware.Systolic;

/// <summary>
/// Exact ifmap DRAM reads of SCALE-Sim's CALC read buffer for weight-stationary layers whose folds need not be
/// aligned to channel groups, counted from each read's partner reads instead of addresses.
/// <para>
/// A read — pixel p, array row r of fold F, window element k = tap·C + channel — misses exactly when no read of
/// the same word lies before it and after the window's last close (tested against the address-by-address replay,
/// <c>WeightStationaryReadRuleTests</c>). The reads of its word are the same channel at every tap whose offset
/// from its own is a multiple of the stride, at the correspondingly shifted pixel: in this fold, an earlier fold
/// of the sweep, or the previous sweep. For one tap and a range of rows over which each such partner stays in one
/// fold, a partner's line is the read's line plus a constant δ (the pixel shift plus the row offset), so given the
/// last close each partner either always qualifies (its fold is after the close's), never does, or qualifies when
/// line + δ lies after the close's line. Pixels fall into rectangles with the same in-bounds partners, and a
/// rectangle's reads are either all hits, all misses, or misses on lines before close line − max δ. The misses
/// per line are kept per such class as sums of boxes (pixel runs × row ranges) by second differences; lines where
/// a class meets the close's line exactly, and the line of a close, are walked in SCALE-Sim's order with the rule (in runs
/// of rows whose reads have the same partners).
/// After a close inside a fold only that fold's earlier reads can hold words, so the classes of the fold's own
/// partners serve every later close in it.
/// </para>
/// <para>
/// Its hot methods are compiled fully optimised at once (<c>AggressiveOptimization</c>): few layers take this
/// path, so under tiered compilation a search or benchmark would run them at tier 0 for most of their calls.
/// </para>
/// </summary>
internal static class WeightStationaryFoldCount
{
    private const long NoClose = long.MinValue / 4;

    /// <summary>
    /// Where this count is used instead of the general replay (both are exact): weight-stationary folds not aligned
    /// to channel groups, with at least half as many channels as array rows (at most three tap segments per fold),
    /// on arrays of 32 rows or more, and either strided in both directions (each tap has few partner taps), or with
    /// at least as many channels as rows (at most two tap segments per fold), or on 128 rows or more. Measured faster
    /// there (`--layer`, docs/systolic-model.md); slower on 3-channel stems, on stride-1 layers with fewer channels
    /// than the 32–64 rows of their array, and about even on 8-row arrays.
    /// </summary>
    public static bool IsCheaper(in SystolicModel.Geometry g) =>
        g.Flow == SystolicDataflow.WeightStationary && g.L.Channels % g.Ra != 0 && 2L * g.L.Channels >= g.Ra && g.Ra >= 32
        && (g.L.StrideHeight >= 2 && g.L.StrideWidth >= 2 || g.L.Channels >= g.Ra || g.Ra >= 128);

    /// <summary>A partner of the reads of one tap over rows [R0, R1) of a fold: its fold relative to the reader's, line and row offsets, and the reader pixels it exists for.</summary>
    private readonly record struct Partner(int R0, int R1, long RelFold, long Delta, long Off, bool PrevSweep, int Y0, int Y1, int X0, int X1);

    /// <summary>The reads of one tap in one fold: rows [R0, R1), valid pixels [0, Vr) × [0, Vc), and every partner.</summary>
    private sealed record Segment(int R0, int R1, int Vr, int Vc, Partner[] Buffer, int Start, int Count)
    {
        public ReadOnlySpan<Partner> Partners => Buffer.AsSpan(Start, Count);
    }

    /// <summary>
    /// This thread's partners of the current evaluation's segments, end to end (reused by the next evaluation; a
    /// segment keeps the array it was written to, so growing it leaves earlier segments intact).
    /// </summary>
    [ThreadStatic] private static Partner[]? _arena;
    [ThreadStatic] private static int _arenaUsed;

    /// <summary>
    /// The classes of one fold's reads under one close standing — class i misses on the lines before the close's line
    /// − Delta[i] (long.MinValue: always) — as read counts per line, kept as second differences and turned lazily, lines
    /// in increasing order and in place, into cumulative counts (reads on lines up to each line; a later request for an
    /// earlier line reads it); and per tap segment the partners that matter under that standing (the others can neither
    /// hit nor miss a read there).
    /// </summary>
    private sealed class Classes
    {
        public int Lines;
        public long[] Delta = new long[4];
        public long[][] Count = new long[4][];
        public int N;
        // Per tap segment, the partners that matter: the first _activeCount[si] of _active[si] (the arrays are reused).
        private Partner[]?[] _active = [];
        private int[] _activeCount = [];
        private long[] _d1 = new long[4], _v = new long[4], _w = new long[4];
        private int[] _upTo = new int[4];

        /// <summary>
        /// Classes given back by <see cref="Release"/>, kept per thread with their arrays: a layer builds classes for
        /// every fold, and allocating them (and their partner lists) afresh was most of what an evaluation allocated.
        /// </summary>
        [ThreadStatic] private static Stack<Classes>? _pool;

        /// <summary>Empty classes for a fold of <paramref name="lines"/> lines and <paramref name="segments"/> tap segments.</summary>
        public static Classes Take(int lines, int segments)
        {
            var c = _pool is { Count: > 0 } pool ? pool.Pop() : new Classes();
            c.Lines = lines;
            c.N = 0;
            if (c._active.Length < segments)
            {
                Array.Resize(ref c._active, segments);
                Array.Resize(ref c._activeCount, segments);
            }
            return c;
        }

        /// <summary>Segment si's partners that matter.</summary>
        public ReadOnlySpan<Partner> Active(int si) => _active[si].AsSpan(0, _activeCount[si]);

        /// <summary>Room for segment si's <paramref name="n"/> partners that matter (filled by the caller).</summary>
        public Partner[] ActiveBuffer(int si, int n)
        {
            var a = _active[si];
            if (a is null || a.Length < n) _active[si] = a = new Partner[Math.Max(n, 16)];
            _activeCount[si] = n;
            return a;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public long[] For(long delta, bool always)
        {
            long key = always ? long.MinValue : delta;
            for (int i = 0; i < N; i++) if (Delta[i] == key) return Count[i];
            if (N == Delta.Length)
            {
                Array.Resize(ref Delta, 2 * N); Array.Resize(ref Count, 2 * N);
                Array.Resize(ref _d1, 2 * N); Array.Resize(ref _v, 2 * N); Array.Resize(ref _w, 2 * N);
                Array.Resize(ref _upTo, 2 * N);
            }
            _d1[N] = _v[N] = _w[N] = 0;
            _upTo[N] = 0;
            Delta[N] = key;
            return Count[N++] = Rent(Lines + 2);
        }

        /// <summary>Gives the count arrays, and these classes, back to this thread's pools; not to be used afterwards.</summary>
        public void Release()
        {
            for (int i = 0; i < N; i++)
            {
                Return(Count[i]);
                Count[i] = null!;
            }
            N = 0;
            var pool = _pool ??= new Stack<Classes>();
            if (pool.Count < 64) pool.Push(this);
        }

        /// <summary>
        /// Makes the cumulative counts of lines up to <paramref name="line"/> readable for the classes that still miss
        /// on a line at or after <paramref name="from"/> under a close on line <paramref name="closeL"/> (the others are
        /// not read there; each class keeps its own progress, so a later close can still read them).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Upto(long line, long closeL, long from)
        {
            int end = (int)Math.Min(line + 1, Lines);
            Span<int> todo = N <= 64 ? stackalloc int[N] : new int[N];
            int t = 0;
            for (int i = 0; i < N; i++)
                if (_upTo[i] < end && (Delta[i] == long.MinValue || closeL - Delta[i] >= from)) todo[t++] = i;
            // Two classes at the same progress are summed in one loop: each sum is a chain of dependent adds, and two
            // independent chains keep the processor busier than one.
            for (int k = 0; k < t;)
            {
                if (k + 1 < t && _upTo[todo[k]] == _upTo[todo[k + 1]]) { SumPair(todo[k], todo[k + 1], end); k += 2; }
                else Sum(todo[k++], end);
            }
        }

        private void Sum(int i, int end)
        {
            var a = Count[i];
            long d1 = _d1[i], v = _v[i], w = _w[i];
            for (int x = _upTo[i]; x < end; x++) { d1 += a[x]; v += d1; w += v; a[x] = w; }
            (_d1[i], _v[i], _w[i], _upTo[i]) = (d1, v, w, end);
        }

        private void SumPair(int i, int j, int end)
        {
            long[] a = Count[i], b = Count[j];
            long d1 = _d1[i], v = _v[i], w = _w[i], e1 = _d1[j], u = _v[j], z = _w[j];
            for (int x = _upTo[i]; x < end; x++)
            {
                d1 += a[x]; v += d1; w += v; a[x] = w;
                e1 += b[x]; u += e1; z += u; b[x] = z;
            }
            (_d1[i], _v[i], _w[i], _upTo[i]) = (d1, v, w, end);
            (_d1[j], _v[j], _w[j], _upTo[j]) = (e1, u, z, end);
        }

        /// <summary>Reads of class i on lines up to <paramref name="line"/> (0 before line 0); call <see cref="Upto"/> first.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public long Cum(int i, long line) => line < 0 ? 0 : Count[i][line];
    }

    /// <summary>
    /// Count arrays of finished classes, kept per thread for the next ones: a layer builds classes for every fold,
    /// each with a line-long array per class (hundreds of kilobytes per evaluation), and allocating them afresh made
    /// the garbage collector's work outweigh the count's gain in network sweeps. Arrays come in power-of-two lengths,
    /// one stack per length, so that layers of different sizes evaluated in turn (a network, a sweep, the reference
    /// rows) each find theirs: a single stack kept only arrays at least as long as its top, and after a larger layer
    /// dropped most of a smaller one's, which then allocated afresh on every evaluation (AlexNet Conv2 on 128×128 WS
    /// took twice as long in a pass over all reference rows as alone).
    /// </summary>
    [ThreadStatic] private static Stack<long[]>?[]? _free;

    /// <summary>Elements held by this thread's pool (at most <see cref="PoolElements"/>: 8 MiB).</summary>
    [ThreadStatic] private static long _freeElements;

    private const long PoolElements = 1 << 20;

    [ThreadStatic] private static List<int>? _rs, _ys, _xs;

    /// <summary>A zeroed array of at least <paramref name="length"/> elements (a power of two, at least 64).</summary>
    private static long[] Rent(int length)
    {
        int bucket = Bucket(length);
        if (_free?[bucket] is { Count: > 0 } free)
        {
            var a = free.Pop();
            _freeElements -= a.Length;
            Array.Clear(a, 0, length);
            return a;
        }
        return new long[1L << bucket];
    }

    /// <summary>⌈log₂ length⌉, at least 6.</summary>
    private static int Bucket(int length) => length <= 64 ? 6 : 32 - BitOperations.LeadingZeroCount((uint)length - 1);

    private static void Return(long[] a)
    {
        // Bounded in bytes: later sweeps reuse the classes of earlier ones, so a layer holds up to a few per fold.
        if (_freeElements + a.Length > PoolElements) return;
        var buckets = _free ??= new Stack<long[]>?[32];
        (buckets[Bucket(a.Length)] ??= new Stack<long[]>()).Push(a);
        _freeElements += a.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (long Misses, long LastCloseLine) Run(in SystolicModel.Geometry g, long window)
    {
        var l = g.L;
        int ew = l.OfmapWidth, ra = g.Ra;
        long m = g.M, k = g.K, rowFolds = g.RowFolds;
        var stream = new IfmapStream(g);
        var overlaps = AlignedWeightStationaryReplay.Overlaps(l, includeSelf: true);
        var segments = new Segment[rowFolds][];
        _arenaUsed = 0;
        for (long phi = 0; phi < rowFolds; phi++) segments[phi] = Segments(g, phi, overlaps, stream);
        var post = new Classes?[rowFolds];
        // Per fold, the classes last built for its reads before a close (and the close standing they were built
        // for): a later sweep whose last close stands as far back, with no previous-sweep partner in reach, has
        // the same classes (column folds repeat the sweep). Whether a previous-sweep partner is in reach follows
        // from the standing and the fold (a first-sweep fold can have it only before any close, a standing no later
        // sweep has), so the flag in the key never decides a match today; it keeps the key complete.
        var first = new Classes?[rowFolds];
        var firstRel = new long[rowFolds];
        var firstPrev = new bool[rowFolds];

        long misses = 0, open = 0, lastCloseLine = -1, closeF = -1, closeL = 0, closeR = 0;
        var sweeps = new SystolicModel.RepeatingSweeps();
        for (long fc = 0; fc < g.ColFolds; fc++)
        {
            long missesBefore = misses, closeBefore = closeF;
            for (long phi = 0; phi < rowFolds; phi++)
            {
                long f = fc * rowFolds + phi, rows = Math.Min(ra, k - phi * ra);
                int lines = checked((int)(m + rows - 1));
                var segs = segments[phi];
                long closeRel = closeF < 0 ? NoClose : closeF - f;
                bool prev = fc > 0 && ReachesPreviousSweep(segs, closeRel);
                if (first[phi] is null || firstRel[phi] != closeRel || firstPrev[phi] != prev)
                {
                    first[phi]?.Release();
                    first[phi] = Build(segs, lines, ew, closeRel, prev);
                    (firstRel[phi], firstPrev[phi]) = (closeRel, prev);
                }
                var classes = first[phi]!;
                long start = 0;
                while (true)
                {
                    long need = window - open;
                    var (line, before) = Scan(classes, segs, m, ew, closeRel, closeL, closeR, start, need);
                    if (line < 0) { misses += before; open += before; break; }
                    // The close's read: walk its line in SCALE-Sim's order (array rows ascending).
                    long left = need - before;
                    misses += need;
                    var (row, _) = NthMiss(segs, classes, m, ew, closeRel, closeL, closeR, line, -1, left);
                    if (row < 0) throw new InvalidOperationException("unreachable: the line's misses were counted from the same rule");
                    open = 0;
                    closeF = f; closeL = line; closeR = row; closeRel = 0;
                    lastCloseLine = f * g.FoldCycles + ra + line;
                    classes = post[phi] ??= Build(segs, lines, ew, 0, prevSweep: false);
                    // The rest of the close's line, under the new close (a small window may close again on it).
                    while (true)
                    {
                        (row, long found) = NthMiss(segs, classes, m, ew, 0, closeL, closeR, line, row, window - open);
                        misses += found;
                        if (row < 0) { open += found; break; }
                        open = 0; closeR = row; lastCloseLine = f * g.FoldCycles + ra + line;
                    }
                    start = line + 1;
                }
                // The last sweep's classes serve no later one: back to the pool for the next fold's.
                if (fc == g.ColFolds - 1) { first[phi]!.Release(); first[phi] = null; }
            }
            // A sweep without a close leaves the whole sweep in the window: later sweeps only hit.
            if (closeF == closeBefore) break;
            // Two sweeps whose last close falls on the same read leave identical windows: later sweeps repeat.
            if (sweeps.Repeat(closeF - fc * rowFolds, closeL, closeR, open, misses - missesBefore,
                    g.ColFolds - 1 - fc, rowFolds * g.FoldCycles, ref misses, ref lastCloseLine))
                break;
        }
        foreach (var p in post) p?.Release();
        foreach (var p in first) p?.Release();
        return (misses, lastCloseLine);
    }

    /// <summary>Whether a partner in the previous sweep can still hold a read's word under a close <paramref name="closeRel"/> folds away.</summary>
    private static bool ReachesPreviousSweep(Segment[] segs, long closeRel)
    {
        foreach (var seg in segs)
            foreach (var pt in seg.Partners)
                if (pt.PrevSweep && pt.RelFold >= closeRel) return true;
        return false;
    }

    /// <summary>The tap segments of fold φ and, for each, every partner of its reads (split where a partner changes fold).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Segment[] Segments(in SystolicModel.Geometry g, long phi, (int Tap, int Sy, int Sx)[][] overlaps, in IfmapStream stream)
    {
        var l = g.L;
        int c = l.Channels, s = l.FilterWidth, ra = g.Ra, ew = l.OfmapWidth, eh = l.OfmapHeight;
        long k0 = phi * ra, rows = Math.Min(ra, g.K - k0), rowFolds = g.RowFolds;
        var list = new List<Segment>();
        for (long tap = k0 / c; tap * c < k0 + rows; tap++)
        {
            int r0 = (int)(Math.Max(tap * c, k0) - k0), r1 = (int)(Math.Min((tap + 1) * c, k0 + rows) - k0);
            // Written into this thread's arena (a List over this struct would be JIT-compiled at tier 0 for most calls,
            // and per-segment arrays were most of what an evaluation allocated): at most two per overlapping tap.
            int room = 2 * overlaps[tap].Length;
            var arena = _arena;
            if (arena is null || arena.Length < _arenaUsed + room)
            {
                var grown = new Partner[Math.Max(2 * (arena?.Length ?? 0), _arenaUsed + room)];
                _arena = arena = grown; // earlier segments keep the array they were written to
                _arenaUsed = 0;
            }
            int start = _arenaUsed, count = 0;
            foreach (var (t2, sy, sx) in overlaps[tap])
            {
                int y0 = Math.Max(0, -sy), y1 = Math.Min(eh, eh - sy), x0 = Math.Max(0, -sx), x1 = Math.Min(ew, ew - sx);
                if (y0 >= y1 || x0 >= x1) continue;
                long shift = (long)sy * ew + sx, dk = (tap - t2) * c;
                // Rows whose partner element k − dk falls in each fold: at most two folds over ≤ Ra rows.
                for (int a = r0; a < r1;)
                {
                    long k2 = k0 + a - dk, phi2 = k2 / ra;
                    int b = (int)Math.Min(r1, (phi2 + 1) * ra + dk - k0);
                    long off = -dk + (phi - phi2) * ra, delta = shift + off;
                    long relFold; bool prev;
                    if (t2 != tap && phi2 < phi) { relFold = phi2 - phi; prev = false; }
                    else if (t2 != tap && phi2 == phi && (delta < 0 || (delta == 0 && off < 0))) { relFold = 0; prev = false; }
                    else { relFold = phi2 - phi - rowFolds; prev = true; }
                    arena[start + count++] = new Partner(a, b, relFold, delta, off, prev, y0, y1, x0, x1);
                    a = b;
                }
            }
            _arenaUsed = start + count;
            list.Add(new Segment(r0, r1, (int)stream.PixelRowsValid(tap / s), (int)stream.PixelColsValid(tap % s), arena, start, count));
        }
        return [.. list];
    }

    /// <summary>
    /// The classes of a fold's reads under a close in the fold <paramref name="closeRel"/> folds away (0: this
    /// fold; <see cref="NoClose"/>: none yet): only partners in that fold or later matter.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Classes Build(Segment[] segs, int lines, int ew, long closeRel, bool prevSweep)
    {
        var classes = Classes.Take(lines, segs.Length);
        // This thread's scratch lists, reused by every Build (they hold one segment's cuts at a time).
        var ys = _ys ??= [];
        var xs = _xs ??= [];
        var rs = _rs ??= [];
        for (int si = 0; si < segs.Length; si++)
        {
            var seg = segs[si];
            int na = 0;
            foreach (var pt in seg.Partners)
                if (pt.RelFold >= closeRel && (prevSweep || !pt.PrevSweep)) na++;
            // Arrays rather than Lists: a List over this struct would be JIT-compiled at tier 0 for most calls.
            var active = classes.ActiveBuffer(si, na);
            na = 0;
            foreach (var pt in seg.Partners)
                if (pt.RelFold >= closeRel && (prevSweep || !pt.PrevSweep)) active[na++] = pt;
            rs.Clear(); rs.Add(seg.R0); rs.Add(seg.R1);
            ys.Clear(); ys.Add(0); ys.Add(seg.Vr);
            xs.Clear(); xs.Add(0); xs.Add(seg.Vc);
            for (int i = 0; i < na; i++)
            {
                ref readonly var pt = ref active[i];
                rs.Add(pt.R0); rs.Add(pt.R1);
                ys.Add(Math.Min(pt.Y0, seg.Vr)); ys.Add(Math.Min(pt.Y1, seg.Vr));
                xs.Add(Math.Min(pt.X0, seg.Vc)); xs.Add(Math.Min(pt.X1, seg.Vc));
            }
            var rc = Cuts(rs); var yc = Cuts(ys); var xc = Cuts(xs);
            for (int ri = 0; ri + 1 < rc.Length; ri++)
            {
                int r0 = rc[ri], r1 = rc[ri + 1];
                for (int yi = 0; yi + 1 < yc.Length; yi++)
                {
                    int y0 = yc[yi], y1 = yc[yi + 1];
                    for (int xi = 0; xi + 1 < xc.Length; xi++)
                    {
                        int x0 = xc[xi], x1 = xc[xi + 1];
                        bool hit = false, any = false;
                        long maxDelta = long.MinValue;
                        for (int i = 0; i < na; i++)
                        {
                            ref readonly var pt = ref active[i];
                            if (pt.R0 > r0 || pt.R1 < r1 || pt.Y0 > y0 || pt.Y1 < y1 || pt.X0 > x0 || pt.X1 < x1) continue;
                            if (pt.RelFold > closeRel) { hit = true; break; }
                            any = true;
                            maxDelta = Math.Max(maxDelta, pt.Delta);
                        }
                        if (hit) continue;
                        var counts = classes.For(maxDelta, always: !any);
                        if (x0 == 0 && x1 == ew)
                            AddBox(counts, (long)y0 * ew, (long)y1 * ew, r0, r1);
                        else
                            for (int y = y0; y < y1; y++) AddBox(counts, (long)y * ew + x0, (long)y * ew + x1, r0, r1);
                    }
                }
            }
        }
        return classes;
    }

    /// <summary>The distinct values, ascending, in place at the list's start (all lie within the segment's own bounds, the first two added).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ReadOnlySpan<int> Cuts(List<int> values)
    {
        var v = CollectionsMarshal.AsSpan(values);
        v.Sort();
        int n = 0;
        for (int i = 0; i < v.Length; i++)
            if (i == 0 || v[i] != v[i - 1]) v[n++] = v[i];
        return v[..n];
    }

    /// <summary>Reads of pixels [pa, pb) on rows [r0, r1): pixel p reads row r on line p + r; second differences.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddBox(long[] d2, long pa, long pb, int r0, int r1)
    {
        if (pa >= pb || r0 >= r1) return;
        d2[pa + r0]++;
        d2[pb + r0]--;
        d2[pa + r1]--;
        d2[pb + r1]++;
    }

    /// <summary>
    /// From line <paramref name="start"/> on, the line on which the <paramref name="need"/>-th miss falls and the
    /// misses on the lines before it; (−1, all misses to the fold's end) when it does not. Between two class edges
    /// (lines where a class stops missing) the set of missing classes is fixed, so a stretch of lines is summed from
    /// the cumulative counts and the line searched by bisection; an edge line that holds reads of its class is walked
    /// in order (the partner lies on the close's own line, so the rows decide).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (long Line, long Before) Scan(Classes classes, Segment[] segs, long m, int ew,
        long closeRel, long closeL, long closeR, long start, long need)
    {
        long before = 0, lines = classes.Lines;
        int n = classes.N;
        var delta = classes.Delta;
        for (long line = start; line < lines;)
        {
            // The next edge at or after this line; classes whose edge lies beyond it miss on the whole stretch.
            long edge = lines;
            for (int i = 0; i < n; i++)
                if (delta[i] != long.MinValue && closeL - delta[i] >= line) edge = Math.Min(edge, closeL - delta[i]);
            if (edge > line)
            {
                classes.Upto(edge - 1, closeL, edge);
                long total = Stretch(classes, closeL, edge, line - 1, edge - 1);
                if (before + total >= need)
                {
                    long lo = line, hi = edge - 1; // the first line whose stretch sum reaches the need
                    while (lo < hi)
                    {
                        long mid = (lo + hi) >> 1;
                        if (before + Stretch(classes, closeL, edge, line - 1, mid) >= need) hi = mid; else lo = mid + 1;
                    }
                    return (lo, before + Stretch(classes, closeL, edge, line - 1, lo - 1));
                }
                before += total;
                line = edge;
                if (line >= lines) break;
            }
            // The edge line itself.
            classes.Upto(line, closeL, line);
            long sum = 0;
            bool tie = false;
            for (int i = 0; i < n; i++)
            {
                long d = delta[i];
                if (d != long.MinValue && line > closeL - d) continue; // hits from here on: not counted
                long c = classes.Cum(i, line) - classes.Cum(i, line - 1);
                if (d == long.MinValue || line < closeL - d) sum += c;
                else if (c > 0) { tie = true; break; }
            }
            if (tie)
            {
                sum = NthMiss(segs, classes, m, ew, closeRel, closeL, closeR, line, -1, long.MaxValue).Found;
            }
            if (before + sum >= need) return (line, before);
            before += sum;
            line++;
        }
        return (-1, before);
    }

    /// <summary>Misses on lines (<paramref name="from"/>, <paramref name="to"/>] of the classes that miss on every line before <paramref name="edge"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long Stretch(Classes classes, long closeL, long edge, long from, long to)
    {
        long sum = 0;
        for (int i = 0; i < classes.N; i++)
        {
            long d = classes.Delta[i];
            if (d == long.MinValue || closeL - d >= edge) sum += classes.Cum(i, to) - classes.Cum(i, from);
        }
        return sum;
    }

    /// <summary>
    /// The array row after <paramref name="after"/> of the <paramref name="count"/>-th read on <paramref name="line"/> that
    /// misses (rows ascending, SCALE-Sim's order), or −1 with the misses found when there are fewer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (long Row, long Found) NthMiss(Segment[] segs, Classes classes, long m, int ew, long closeRel, long closeL, long closeR,
        long line, long after, long count)
    {
        long found = 0;
        for (int si = 0; si < segs.Length; si++)
        {
            var seg = segs[si];
            var partners = classes.Active(si);
            int r1 = seg.R1, vr = seg.Vr, vc = seg.Vc;
            if (r1 <= after + 1) continue;
            long r = Math.Max(seg.R0, after + 1), p = line - r;
            if (p < 0) continue;
            if (p >= m)
            {
                // Rows whose pixel lies past the last one read nothing on this line.
                r += p - m + 1;
                p = m - 1;
                if (r >= r1) continue;
            }
            // Pixel p = line − r falls by one per row: its ofmap row and column are stepped, not divided out.
            long oy = p / ew, ox = p - oy * ew;
            if (partners.IsEmpty && vc >= ew && oy < vr)
            {
                // No partner can hold these reads' words and every pixel from p down lies inside the ifmap: all miss.
                long n = Math.Min(r1 - r, p + 1);
                if (found + n >= count) return (r + (count - found - 1), count);
                found += n;
                continue;
            }
            // In runs of rows over which no bound changes (the pixel stays in one ofmap row, on one side of every
            // partner's and the ifmap's bounds): every read of a run has the same partners, whose verdict differs
            // only for a partner on the close's own line, where rows after closeR − Off hit. So a run's misses are
            // a prefix of it.
            while (r < r1 && p >= 0)
            {
                long len = Math.Min(r1 - r, ox + 1), missing = 0;
                if (oy < vr && ox >= vc) len = Math.Min(len, ox - vc + 1);
                else if (oy < vr)
                {
                    bool hit = false;
                    long t = long.MaxValue / 2; // rows up to t miss (unless hit)
                    for (int i = 0; i < partners.Length; i++)
                    {
                        ref readonly var pt = ref partners[i];
                        bool inside = true;
                        if (r < pt.R0) { len = Math.Min(len, pt.R0 - r); inside = false; }
                        else if (r < pt.R1) len = Math.Min(len, pt.R1 - r);
                        else inside = false;
                        if (ox >= pt.X1) { len = Math.Min(len, ox - pt.X1 + 1); inside = false; }
                        else if (ox >= pt.X0) len = Math.Min(len, ox - pt.X0 + 1);
                        else inside = false;
                        if (!inside || hit || oy < pt.Y0 || oy >= pt.Y1 || pt.RelFold < closeRel) continue;
                        if (pt.RelFold > closeRel) { hit = true; continue; }
                        long l2 = line + pt.Delta;
                        if (l2 > closeL) hit = true;
                        else if (l2 == closeL) t = Math.Min(t, closeR - pt.Off);
                    }
                    if (!hit) missing = Math.Clamp(t - r + 1, 0, len);
                }
                if (missing > 0 && found + missing >= count) return (r + (count - found - 1), count);
                found += missing;
                r += len;
                p -= len;
                ox -= len;
                if (ox < 0) { ox = ew - 1; oy--; }
            }
        }
        return (-1, found);
    }
}
