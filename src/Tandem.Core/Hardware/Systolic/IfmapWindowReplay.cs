using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tandem.Core.Hardware.Systolic;

/// <summary>
/// Exact ifmap DRAM reads of SCALE-Sim's CALC read buffer when the touched ifmap overflows one
/// window. Every fold reads a union of pixel-window slices, and each slice is at most one contiguous
/// address run per filter row, so a fold is applied to a bitset of the open window one 64-bit word
/// at a time. Order inside a fold matters only if the window closes inside it; only such folds are
/// replayed address by address in SCALE-Sim's skewed demand order, and on OS folds of 32 rows or more
/// the lines after such a close are counted from each read's latest earlier read of the same word
/// (<c>State.CountedTail</c>) instead — and so, up to its first close, is an OS fold that starts after a close in the
/// fold before or in an earlier fold of its sweep (IfmapWindowReplay.CrossFold.cs). Weight-stationary folds whose elements span fewer filter rows than the
/// vertical stride (stems) are counted by ofmap rows without marking words (<c>State.CountRows</c>,
/// IfmapWindowReplay.RowCount.cs). Where pixels' windows touch (stride ≤ filter size), output-stationary folds and
/// input-stationary column folds (blocks of consecutive pixels read whole) are counted from the geometry of the
/// windows up to the block in which the window closes, and only that block is replayed as before (<c>State.SkipBlocks</c>,
/// IfmapWindowReplay.Geometric.cs); so are, once per window, the lines of a weight-stationary fold over every window
/// element that cannot close it (<c>State.SkipLines</c>).
/// </summary>
internal static partial class IfmapWindowReplay
{
    /// <summary>Lines below which a fold whose window closes inside is replayed address by address.</summary>
    private const long ExactLines = 4;

    /// <summary>Lines replayed in order when the observed rate of new words says the window closes among them.</summary>
    private const long ExpectLines = 6;

    /// <summary>Share of the need a group aims at (<c>State.Lines</c>): at first and after a group whose rate did not hold.</summary>
    private const double UsualMargin = 0.9;

    /// <summary>Share of the need a group aims at after a group whose rate held (<c>State.Lines</c>).</summary>
    private const double SteadyMargin = 0.97;

    /// <summary>Address runs of a group remembered so that keeping or dropping it touches only their words.</summary>
    private const int RunLog = 4096;

    /// <summary>
    /// After a close inside an OS fold, the rest is counted (<c>CountedTail</c>) when the last window's rate times this
    /// says the window closes again before the fold ends: right after a close the window is empty and the rate is
    /// higher than that window's average, so a close the average just misses mostly comes (a group then marked and
    /// dropped costs more than counting a rest that does not close).
    /// </summary>
    private const double TailReach = 1.25;

    /// <summary>OS folds of at least this many rows count the lines after a close inside them (<c>CountedTail</c>) instead of marking them.</summary>
    internal const int CountedTailRows = 32;

    /// <summary>Chunks of counted tails filled from segments and by rows, on this thread (for tests).</summary>
    [ThreadStatic] internal static long SegmentFills, RowFills;

    /// <summary>Pixels of one ofmap row from which runs that do not touch are marked as a strided pattern rather than one by one.</summary>
    private const int StridedFrom = 4;
    // Strided patterns up to this step (words) are marked with a comb (MarkStrided).
    private const int MaxCombStep = 128;

    public static (long Misses, long LastCloseLine) Run(in SystolicModel.Geometry g, long window) => Run(g, window, out _);

    /// <summary>As above; <paramref name="skippedSweeps"/> is how many sweeps were multiplied out instead of replayed.</summary>
    public static (long Misses, long LastCloseLine) Run(in SystolicModel.Geometry g, long window, out long skippedSweeps)
    {
        skippedSweeps = 0;
        int wordCount = checked((int)((g.L.IfmapWords + 63) / 64));
        ulong[] win = TakeClean(ref _cleanWindow, wordCount), fold = TakeClean(ref _cleanScratch, wordCount);
        int[] runs = ArrayPool<int>.Shared.Rent(2 * RunLog);
        var s = new State(g, win, fold, runs, window);
        bool completed = false;
        try
        {
            // OS and WS repeat the same sweep over the row folds once per column fold.
            bool repeats = g.Flow != SystolicDataflow.InputStationary;
            long sweepLines = g.RowFolds * g.FoldCycles;
            var sweeps = new SystolicModel.RepeatingSweeps();
            // Where in its sweep each close fell (line within the sweep, pixel, element) → the sweep,
            // and the misses at the end of each sweep, to find sweeps that repeat with a period.
            Dictionary<(long Line, int Pixel, int Element), long>? closeAt = repeats ? new() : null;
            var endMisses = new List<long>();
            if (repeats) s.CloseLog = [];
            else
            {
                // IS: the folds in order. Where windows touch, whole column folds (blocks of pixels with all their row
                // folds) are counted up to the one in which the window closes; that block's folds then go as otherwise,
                // several at a time (up to the block's end) while the window cannot close, with every counted word
                // marked first (at most a window's worth; a block may have hundreds of row folds).
                bool blocks = CountsWholeBlocks(g);
                for (long f = 0; f < g.Folds;)
                {
                    if (blocks && f % g.RowFolds == 0)
                    {
                        long fc = f / g.RowFolds, taken = s.SkipBlocks(fc, g.Ca, g.ColFolds - fc, g.K);
                        if (taken > 0)
                        {
                            f += taken * g.RowFolds;
                            continue;
                        }
                        s.MarkAllCounted();
                    }
                    long batch = s.TryFolds(f, blocks ? g.RowFolds - f % g.RowFolds : g.Folds - f);
                    if (batch > 0)
                    {
                        f += batch;
                        continue;
                    }
                    s.ReplayFold(f, f / g.RowFolds, f % g.RowFolds);
                    f++;
                }
                completed = true;
                return (s.Misses, s.LastCloseLine);
            }
            bool counts = CountsWholeBlocks(g);
            for (long fc = 0, f = 0; fc < g.ColFolds; fc++)
            {
                long missesBefore = s.Misses, closesBefore = s.Closes;
                for (long fr = 0; fr < g.RowFolds; fr++, f++)
                {
                    long batch = counts ? s.SkipBlocks(fr, g.Ra, g.RowFolds - fr, g.K + g.Ra - 1) : s.TryFolds(f, g.RowFolds - fr);
                    if (batch > 0)
                    {
                        fr += batch - 1;
                        f += batch - 1;
                        continue;
                    }
                    s.ReplayFold(f, fc, fr);
                }
                if (counts) s.MarkAllCounted();
                long left = g.ColFolds - 1 - fc, sweepMisses = s.Misses - missesBefore;
                // No close: the window now holds the whole sweep, so every later sweep only hits.
                if (s.Closes == closesBefore) break;
                // The window's contents at a sweep's end are the words read after its last close; two
                // sweeps whose last close falls on the same word leave identical windows, so every
                // later sweep repeats the last one exactly.
                if (sweeps.Repeat(s.LastCloseLine - fc * sweepLines, s.LastClosePixel, 0, s.OpenWords, sweepMisses, left, sweepLines,
                        ref s.Misses, ref s.LastCloseLine))
                {
                    skippedSweeps = left;
                    break;
                }
                // More generally, a close at the same place as one in sweep e empties the window
                // there just as that one did, so from that read on this sweep repeats sweep e: the
                // window at its end is the one at the end of e, and sweeps repeat with period
                // fc − e. Whole periods are multiplied out; the rest is replayed.
                if (closeAt is null) continue;
                endMisses.Add(s.Misses);
                long period = 0;
                foreach (var (line, pixel, element) in s.CloseLog!)
                {
                    var key = (line - fc * sweepLines, pixel, element);
                    if (closeAt.TryGetValue(key, out long earlier)) { period = fc - earlier; break; }
                    closeAt[key] = fc;
                }
                s.CloseLog!.Clear();
                if (period == 0) continue;
                long periods = left / period;
                skippedSweeps += periods * period;
                s.Misses += periods * (endMisses[(int)fc] - endMisses[(int)(fc - period)]);
                s.LastCloseLine += periods * period * sweepLines;
                fc += periods * period;
                f += periods * period * g.RowFolds;
                closeAt = null; // sweep numbers no longer index endMisses
                s.CloseLog = null;
            }
            completed = true;
            return (s.Misses, s.LastCloseLine);
        }
        finally
        {
            s.Release();
            ArrayPool<int>.Shared.Return(runs);
            // A completed replay leaves the scratch set empty (every group is committed or dropped) and the window's
            // words inside its known range: both bitsets are handed back clean for the next evaluation on this thread
            // (after an exception they are dropped).
            if (completed)
            {
                s.EmptyWindow();
                System.Diagnostics.Debug.Assert(win.AsSpan(0, wordCount).IndexOfAnyExcept(0UL) < 0, "the window's bitset was not left empty");
                System.Diagnostics.Debug.Assert(fold.AsSpan(0, wordCount).IndexOfAnyExcept(0UL) < 0, "the scratch set was not left empty");
                _cleanWindow = win;
                _cleanScratch = fold;
            }
        }
    }

    /// <summary>
    /// The two bitsets of the last completed replay on this thread, all zero: clearing both over the whole ifmap for
    /// every evaluation cost a few per cent of a sweep of stems, while a replay touches a window's worth of words.
    /// </summary>
    [ThreadStatic] private static ulong[]? _cleanWindow, _cleanScratch;

    /// <summary>A zeroed bitset of at least <paramref name="words"/> words: the kept one if large enough, else a new one.</summary>
    private static ulong[] TakeClean(ref ulong[]? kept, int words)
    {
        var bits = kept;
        kept = null;
        return bits is not null && bits.Length >= words ? bits : new ulong[Math.Max(words, 2 * (bits?.Length ?? 0))];
    }

    /// <summary>Whole 64-bit words from which <c>State.MarkRange</c> marks four at a time (AVX2).</summary>
    internal const int WideFrom = 8;

    /// <summary>
    /// Words [w, end) wholly in a range (end − w a multiple of four), four at a time:
    /// the same as <see cref="MarkWord"/> with a full mask on each, with the new bits counted per byte
    /// (a nibble table, summed to 64-bit lanes at least every 31 steps, before a byte could overflow).
    /// Callers check <see cref="Avx2.IsSupported"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static long MarkWholeWords(ulong[] win, ulong[] fold, int w, int end)
    {
        System.Diagnostics.Debug.Assert(Avx2.IsSupported && (end - w) % 4 == 0 && w >= 0 && end <= Math.Min(win.Length, fold.Length));
        ref ulong wr = ref MemoryMarshal.GetArrayDataReference(win);
        ref ulong fr = ref MemoryMarshal.GetArrayDataReference(fold);
        var count = BitCounter.Create();
        // Bounds: the caller's range lies inside both arrays, and every load and store below is inside [w, end).
        for (; w < end; w += 4)
        {
            var old = Vector256.LoadUnsafe(ref fr, (nuint)w);
            var fresh = ~(Vector256.LoadUnsafe(ref wr, (nuint)w) | old);
            (old | fresh).StoreUnsafe(ref fr, (nuint)w);
            count.Add(fresh);
        }
        return count.Total();
    }

    /// <summary>
    /// Set bits of a stream of four-word vectors, counted per byte with a nibble table and summed to 64-bit lanes every
    /// 31 vectors, before a byte counter (at most 8 per vector) could overflow.
    /// </summary>
    private struct BitCounter
    {
        private Vector256<byte> _bytes;
        private Vector256<ulong> _total;
        private int _steps;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static BitCounter Create() => default;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(Vector256<ulong> v)
        {
            // Constants: the JIT keeps them in registers across the caller's loop.
            var table = Vector256.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
            var nibble = Vector256.Create((byte)0x0F);
            var b = v.AsByte();
            _bytes = Avx2.Add(_bytes, Avx2.Add(Avx2.Shuffle(table, b & nibble), Avx2.Shuffle(table, Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & nibble)));
            if (++_steps == 31)
            {
                _total += Avx2.SumAbsoluteDifferences(_bytes, Vector256<byte>.Zero).AsUInt64();
                _bytes = Vector256<byte>.Zero;
                _steps = 0;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly long Total() => (long)Vector256.Sum(_total + Avx2.SumAbsoluteDifferences(_bytes, Vector256<byte>.Zero).AsUInt64());
    }

    /// <summary>
    /// Words of [w, last] of the group's set into the window and the set's words emptied, four at a time while four
    /// remain; returns the first word not done (the caller does the rest one by one).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static int MergeWide(ulong[] win, ulong[] fold, int w, int last)
    {
        System.Diagnostics.Debug.Assert(w >= 0 && last < Math.Min(win.Length, fold.Length));
        ref ulong wr = ref MemoryMarshal.GetArrayDataReference(win);
        ref ulong fr = ref MemoryMarshal.GetArrayDataReference(fold);
        // Every load and store is inside [w, last], which lies inside both arrays.
        for (; w + 3 <= last; w += 4)
        {
            (Vector256.LoadUnsafe(ref wr, (nuint)w) | Vector256.LoadUnsafe(ref fr, (nuint)w)).StoreUnsafe(ref wr, (nuint)w);
            Vector256<ulong>.Zero.StoreUnsafe(ref fr, (nuint)w);
        }
        return w;
    }

    /// <summary>
    /// Words [w, w + count) marked with masks[at …] (<see cref="MarkWord"/> on each), four at a time while the arrays reach;
    /// the masks are zero past <paramref name="count"/> up to a multiple of four words. Returns the new bits. Callers check
    /// <see cref="Avx2.IsSupported"/>.
    /// </summary>
    internal static long MarkMasked(ulong[] win, ulong[] fold, int w, ulong[] masks, int at, int count)
    {
        int padded = (count + 3) & ~3, i = 0;
        long added = 0;
        if (w + padded <= Math.Min(win.Length, fold.Length) && at + padded <= masks.Length)
        {
            ref ulong wr = ref MemoryMarshal.GetArrayDataReference(win);
            ref ulong fr = ref MemoryMarshal.GetArrayDataReference(fold);
            ref ulong mr = ref MemoryMarshal.GetArrayDataReference(masks);
            var bits = BitCounter.Create();
            // Bounds: checked above for [w, w + padded) and [at, at + padded); past count the masks are zero, so those
            // words are stored unchanged.
            for (; i < padded; i += 4)
            {
                var old = Vector256.LoadUnsafe(ref fr, (nuint)(w + i));
                var fresh = Vector256.LoadUnsafe(ref mr, (nuint)(at + i)) & ~(Vector256.LoadUnsafe(ref wr, (nuint)(w + i)) | old);
                (old | fresh).StoreUnsafe(ref fr, (nuint)(w + i));
                bits.Add(fresh);
            }
            return bits.Total();
        }
        for (; i < count; i++) added += MarkWord(win, fold, w + i, masks[at + i]);
        return added;
    }

    /// <summary>The bits of <paramref name="mask"/> in word w that are in neither the window nor the group's set: put in the set, counted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MarkWord(ulong[] win, ulong[] fold, int w, ulong mask)
    {
        ulong nb = mask & ~(win[w] | fold[w]);
        fold[w] |= nb;
        return BitOperations.PopCount(nb);
    }

    /// <summary>
    /// The lines of a chunk in order, their new reads the running sum of <paramref name="diff"/>'s first
    /// <paramref name="count"/> entries (of its running sum if <paramref name="second"/> differences): the index of the
    /// line on which the need-th new read falls, <paramref name="need"/> then what was left before that line; or −1, with
    /// need less all the chunk's new reads. Runs of lines with no entry (a fold's taps are C lines long, and the entries
    /// lie at the ends of segments' trapezoids) are taken in closed form: over m such lines the reads add up to
    /// m·o + s·m(m + 1)/2 (o the reads on the line before, s the slope), and the line that reaches the need is found by
    /// bisection (every line's reads are ≥ 0, so the sum grows with m).
    /// </summary>
    internal static int FindClose(int[] diff, int count, bool second, ref long need)
    {
        long onLine = 0, slope = 0, left = need;
        var entries = diff.AsSpan(0, count);
        for (int i = 0; i < count;)
        {
            if (second) { slope += diff[i]; onLine += slope; }
            else onLine += diff[i];
            if (onLine >= left) { need = left; return i; }
            left -= onLine;
            i++;
            int run = entries[i..].IndexOfAnyExcept(0);
            if (run < 0) run = count - i;
            if (run == 0) continue;
            long s = second ? slope : 0, total = run * onLine + s * run * (run + 1L) / 2;
            if (total < left)
            {
                left -= total;
                onLine += s * run;
                i += run;
                continue;
            }
            int lo = 1, hi = run;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (mid * onLine + s * mid * (mid + 1L) / 2 >= left) hi = mid;
                else lo = mid + 1;
            }
            need = left - ((lo - 1) * onLine + s * (lo - 1L) * lo / 2);
            return i + lo - 1;
        }
        need = left;
        return -1;
    }

    /// <summary>
    /// The open window and a scratch set for one group of lines, as bitsets over ifmap addresses,
    /// each with the range of words it has touched so that emptying it costs only that range.
    /// </summary>
    private partial struct State
    {
        private readonly SystolicModel.Geometry _g;
        private readonly ulong[] _win, _scratch;
        // Where marks go: the scratch set of a group that may be dropped, or the window itself for a group
        // that cannot close it (MarkDirect).
        private ulong[] _fold;
        // The 64-bit word span of each run marked in the current group (while they fit), and the
        // sum of those spans: when it is below the group's word range, keeping or dropping the
        // group walks the runs instead of the range (folds whose reads are spread over the ifmap).
        private readonly int[] _runs;
        private int _runCount;
        private long _runWords;
        // The comb of the last strided pattern marked (see MarkStrided; 192 bits), kept while step and length repeat.
        private ulong _comb0, _comb1, _comb2;
        // Per run length, the combs of step _combTableStep (three words and a filled flag each).
        private ulong[]? _combTable;
        private int _combTableStep;
        private int _combStep, _combLen, _combAdvance;
        private readonly long _window;
        private readonly int _h, _w, _c, _ew, _sh, _sw, _sc, _rowWords;
        private long _open, _lineBase;
        // New words per line observed last: sizes the next group (carried across folds, which
        // mostly read at similar rates, so a fold is not first marked whole only to be cleared).
        private double _rate;
        // Lines since the last close, the new-word rate over the last whole window, and how many
        // lines from the current position are known to close the window (0: none known).
        private long _sinceClose, _closing;
        // Line of the current fold on which the window last closed (−1: not in this fold).
        private long _foldClose = -1;
        private double _windowRate, _margin = UsualMargin;
        // How far short of the need the last window's rate may fall for a fold's rest to be counted (TailReach; 1 once
        // a tail counted on that margin did not close).
        private double _reach = TailReach;
        // New words per fold (OS, IS) seen last, for taking several folds at once (TryFolds).
        private double _perFold;
        // Whole folds (OS, IS) read since the last close: after a close, a window's worth of words over them is the
        // rate the next OS folds start at.
        private double _foldsInWindow;
        // New words per line the last fold replayed line by line averaged (OS, WS: a fold's first rate).
        private double _foldAverage;
        // Lines of the last group taken whole in this fold, and whether a group overshot the close
        // grossly in this fold (OS growth cap in Lines).
        private long _lastSpan = 1;
        // Whether the last try's marking stopped early (MarkPixels: it overshot the close grossly and is dropped
        // anyway), and the share of its whole pixels marked by then.
        private bool _aborted;
        private double _doneShare = 1;
        private bool _overshot;
        // At most this many folds in the next try after one that would have closed the window (until a close or a taken try).
        private long _foldCap = long.MaxValue;
        private int _p0, _pCount, _k0, _kCount;
        // OS folds after a close inside them (CountedTail): per tap, the reads of the same word by other
        // pixels that come before a read, latest first (line distance, row distance, column shift); per
        // read of the fold (tap-major: tap · rows + row), the latest earlier read of its word in the fold (line
        // distance, NoPredecessor, or Invalid for a tap outside the ifmap) and its row minus the read's; per line,
        // a difference array.
        private int[]? _candStart, _candLine, _candRow, _candShift, _predLine, _predShift, _lineCount;
        // The same per-read predecessors as runs of rows (segments): for one tap, rows [R1, R2] whose
        // latest earlier read of the word is the same candidate (line distance D, row offset Dr: the
        // earlier read's row is r + Dr), or none, or outside the ifmap; and scratch intervals for
        // building them.
        private int[]? _segs, _pieces, _tapSegments;
        // Per filter row, the run MarkPartial has yet to mark ([start, end) addresses; empty when equal).
        private long[]? _pending;
        // The 64-bit word whose bits MarkGathered is gathering (−1: none), and those bits.
        private int _gatherWord = -1;
        private ulong _gatherMask;
        // Per filter row and bit phase (slot kr · 64 + phase), the word masks of one whole ofmap row's reads
        // (MarkRowOfPixels: built once, applied to every whole ofmap row whose first address lies at that bit of a word
        // and reads the same slice of the filter row): _rowMasks holds _rowMaskStride words per slot, _rowMaskKey the
        // slice each was built for (−1: nothing), _rowMaskWords how many words.
        private ulong[]? _rowMasks;
        private long[]? _rowMaskKey;
        private int[]? _rowMaskWords;
        private int _rowMaskStride;
        private const int SegmentInts = 5; // per segment: tap, R1, R2, D, Dr
        private int _segCount, _maxCandidates;
        // The fold (first pixel, rows) the predecessors were prepared for: they depend on nothing else.
        private int _predP0 = -1, _predN;
        // WS folds counted by ofmap rows (IfmapWindowReplay.RowCount.cs): this evaluation's row templates by row fold
        // (one slot, holding row fold _rowTemplateFold's, when they would not all fit in TemplateBytes), and the new
        // words per relative line of the ofmap rows around a close.
        private RowTemplate?[]? _rowTemplates;
        private int _rowTemplateFold;
        private int[]? _rowHist;
        private int _foldLo, _foldHi, _winLo, _winHi;
        // While _geoFrom ≥ 0 the window is the words marked in _win (_geoBase of them) together with every word the
        // windows of pixels [_geoFrom, _geoTo) read, which are counted (SkipBlocks, SkipLines) but not marked; _geoFar is the marked
        // words those windows cover once that no longer depends on _geoTo (−1 until counted).
        private int _geoFrom, _geoTo;
        private long _geoBase, _geoFar;
        // WS fold over every window element whose windows touch (SkipLines applies), and whether it was tried since the
        // fold began or the window last closed.
        private bool _wsWhole, _lineSkipTried;
        // The window holds the reads of an OS fold (first pixel _pendP0, _pendN rows) from just after (_pendTc, _pendRc) to
        // line _pendTo, counted but not yet marked (MaterializeTail): a counted tail that ran to its fold's end leaves them
        // so, for a next fold counted from its start needs no marks and mostly closes the window.
        private bool _tailPending;
        // Per fold (first pixel), its segments, and per fold and close fold (first pixels), its cross segments with their
        // bias, kept for the evaluation when sweeps repeat a few row folds (CachesFolds).
        private Dictionary<int, (int[] Segs, int Count, int[] TapStart)>? _foldCache;
        private Dictionary<(int P0, int Prev), (int[] Segs, int Count, int[] TapStart, int Bias)>? _crossCache;
        private int _pendP0, _pendN, _pendTc, _pendRc, _pendTo;
        // An OS fold counted from its start after a close in an earlier fold f_c (NoteCrossFold): that close's line and row
        // in f_c (−1: not this case; set by BeginFold, taken by Lines), and f_c's first pixel and rows.
        private int _crossTc = -1, _crossRc, _prevP0, _prevN;
        // Per tap, every pixel whose window holds the tap's word (line distance, row distance, column shift; as in
        // PrepareFold, but the pixel itself too and without the condition that its read come first in a fold), latest first.
        private int[]? _xStart, _xLine, _xRow, _xShift;
        private int _xLowest;
        // The fold's reads before its first close as segments (as _segs), for the close's fold f_c (first pixel _crossPrev;
        // this fold's first pixel and rows _crossP0, _crossN); their line distances are biased by _crossBias to stay
        // positive (the close by minus that).
        private int[]? _xSegs, _xTapStart;
        private int _xSegCount, _crossBias, _crossP0 = -1, _crossN, _crossPrev;
        public long Misses, LastCloseLine, LastClosePixel, Closes, FoldLines;
        /// <summary>When set, every close (its line, pixel and element) is appended.</summary>
        public List<(long Line, int Pixel, int Element)>? CloseLog;
        public readonly long OpenWords => _open;

        public State(SystolicModel.Geometry g, ulong[] win, ulong[] fold, int[] runs, long window)
        {
            _g = g; _win = win; _fold = _scratch = fold; _runs = runs; _window = window;
            var l = g.L;
            (_h, _w, _c, _ew, _sh, _sw) = (l.IfmapHeight, l.IfmapWidth, l.Channels, l.OfmapWidth, l.StrideHeight, l.StrideWidth);
            _sc = l.FilterWidth * l.Channels;
            _rowWords = l.IfmapWidth * l.Channels;
            LastCloseLine = -1;
            // At first, as if every read were new: the first group then cannot close the window.
            _rate = Math.Max(1, Math.Max(g.Ra, g.Ca));
            _foldLo = _winLo = int.MaxValue;
            _foldHi = _winHi = -1;
            _geoFrom = -1;
        }

        /// <summary>Returns the scratch arrays <see cref="CountedTail"/> rented.</summary>
        public readonly void Release()
        {
            var ints = ArrayPool<int>.Shared;
            if (_candStart is not null) ints.Return(_candStart);
            if (_candLine is not null) ints.Return(_candLine);
            if (_candRow is not null) ints.Return(_candRow);
            if (_candShift is not null) ints.Return(_candShift);
            if (_predLine is not null) ints.Return(_predLine);
            if (_predShift is not null) ints.Return(_predShift);
            if (_lineCount is not null) ints.Return(_lineCount);
            if (_segs is not null) ints.Return(_segs);
            if (_pending is not null) ArrayPool<long>.Shared.Return(_pending);
            if (_rowMasks is not null) ArrayPool<ulong>.Shared.Return(_rowMasks);
            if (_rowMaskKey is not null) ArrayPool<long>.Shared.Return(_rowMaskKey);
            if (_rowMaskWords is not null) ints.Return(_rowMaskWords);
            if (_combTable is not null) ArrayPool<ulong>.Shared.Return(_combTable);
            if (_pieces is not null) ints.Return(_pieces);
            if (_tapSegments is not null) ints.Return(_tapSegments);
            if (_rowHist is not null) ints.Return(_rowHist);
            if (_rowTemplates is not null)
                foreach (var t in _rowTemplates) t?.Release();
            ReleaseCross();
        }

        /// <summary>
        /// Fold f (column fold fc, row fold fr) line by line; then notes its new words per line (OS,
        /// WS: the next fold's first rate) and, when no close fell in it, its new words scaled to a
        /// whole fold (a short last row or column fold reads fewer words and says nothing about how
        /// many the next whole folds bring; <see cref="TryFolds"/>).
        /// </summary>
        public void ReplayFold(long f, long fc, long fr)
        {
            long misses = Misses, closes = Closes;
            BeginFold(f, fc, fr);
            // (A fold counted from its start needs no marks up to its first close; should it not close, the count marks what
            // it needs.)
            if (_tailPending && _crossTc < 0) MaterializeTail(_open);
            if (_geoFrom >= 0 && _crossTc < 0) MarkCounted(_p0, _p0 + _pCount);
            if (CountsByRows) CountRows((int)fr);
            else Lines(0, FoldLines);
            AfterReplayedFold();
            long fresh = Misses - misses;
            _foldAverage = (double)fresh / Math.Max(1, FoldLines);
            if (Closes == closes)
            {
                _perFold = Math.Max((double)fresh * FullFoldReads / ((long)_pCount * _kCount), 1e-3);
                _foldsInWindow++;
            }
            else
            {
                // Right after a close every read misses again, also those of words the folds just before it read (the
                // pixels of neighbouring folds share words): the rate of the last fold before the close, which mostly
                // hit, promises far too many folds; the last whole window's average does not.
                // (OS only: on IS arrays it measured 1–5 % slower.)
                if (_foldsInWindow >= 1 && _g.Flow == SystolicDataflow.OutputStationary)
                    _perFold = Math.Max(_perFold, _window / _foldsInWindow);
                _foldsInWindow = 0;
            }
        }

        private void BeginFold(long f, long fc, long fr)
        {
            var g = _g;
            _foldClose = -1;
            _lastSpan = 1;
            _overshot = false;
            // A steady rate is one of the last fold: the new fold's first group aims no closer than usual.
            _margin = Math.Min(_margin, UsualMargin);
            // OS, WS: a fold starts at the rate the previous one averaged, not at the rate of its
            // last lines (its drain, where fewer rows read, so far fewer new words per line).
            if (g.Flow != SystolicDataflow.InputStationary && _foldAverage > _rate) _rate = _foldAverage;
            switch (g.Flow)
            {
                case SystolicDataflow.OutputStationary:
                    (_p0, _pCount, _k0, _kCount) = ((int)(fr * g.Ra), (int)g.RowsUsed(fr), 0, (int)g.K);
                    FoldLines = _kCount + _pCount - 1;
                    _lineBase = f * g.FoldCycles;
                    NoteCrossFold(f);
                    break;
                case SystolicDataflow.WeightStationary:
                    (_p0, _pCount, _k0, _kCount) = (0, (int)g.M, (int)(fr * g.Ra), (int)g.RowsUsed(fr));
                    FoldLines = _pCount + _kCount - 1;
                    _lineBase = f * g.FoldCycles + g.Ra;
                    _wsWhole = _kCount == g.K && WindowsTouch(g);
                    _lineSkipTried = false;
                    break;
                default:
                    (_p0, _pCount, _k0, _kCount) = ((int)(fc * g.Ca), (int)g.ColsUsed(fc), (int)(fr * g.Ra), (int)g.RowsUsed(fr));
                    FoldLines = _kCount;
                    _lineBase = f * g.FoldCycles + g.Ra - _kCount;
                    break;
            }
        }

        /// <summary>Reads of a fold that uses every row and column (OS: Ra pixels × K elements; IS: Ca pixels × Ra elements).</summary>
        private readonly long FullFoldReads => _g.Flow == SystolicDataflow.OutputStationary ? _g.Ra * _g.K : (long)_g.Ca * _g.Ra;

        /// <summary>
        /// OS and IS arrays with many small folds (a few rows): when the window cannot close within
        /// the next several folds (at most <paramref name="left"/>) from fold <paramref name="f"/>,
        /// their reads go into the window at once as one set — OS folds of one column fold read
        /// whole windows of consecutive pixel blocks; IS folds read consecutive element ranges of one
        /// pixel block, then all elements of the next blocks. Returns the folds taken (0: none, the
        /// caller replays fold <paramref name="f"/> as usual).
        /// </summary>
        public long TryFolds(long f, long left)
        {
            var g = _g;
            // A few folds at once save little and, when they overshoot, waste as much: at least 8 on OS arrays, 4 on
            // IS arrays (4 measured 0–24 % faster on IS layers of 8–128 rows, with one 10 % slower, and mixed on OS).
            int fewest = g.Flow == SystolicDataflow.InputStationary ? 4 : 8;
            if (g.Flow == SystolicDataflow.WeightStationary || _perFold <= 0 || left < fewest) return 0;
            // OS folds of 32 rows or more are few and large, and a try that overshoots wastes them
            // all: on 32- and 128-row arrays taking several at once made ResNet-50's 3×3 layers about
            // 20 % slower, so only short OS folds are taken together.
            if (g.Flow == SystolicDataflow.OutputStationary && g.Ra >= 32) return 0;
            long need = _window - _open, count = Math.Min(Math.Min(left, _foldCap), (long)(need * _margin / _perFold));
            if (count < fewest) return 0;
            long fresh, lines, fr = f % g.RowFolds;
            if (g.Flow == SystolicDataflow.OutputStationary)
            {
                fresh = MarkPixels((int)(fr * g.Ra), (int)Math.Min(g.M, (fr + count) * g.Ra), 0, (int)g.K);
                lines = count * (g.K + g.Ra - 1);
            }
            else
            {
                // Folds [f, f + count): the rest of pixel block fc1 from element block fr, whole
                // blocks after it, and the first element blocks of block fc2.
                long last = f + count - 1, fc1 = f / g.RowFolds, fc2 = last / g.RowFolds, frEnd = last % g.RowFolds + 1;
                int p1 = (int)(fc1 * g.Ca), p2 = (int)(fc2 * g.Ca), k = (int)g.K;
                if (fc1 == fc2)
                    fresh = MarkPixels(p1, p1 + (int)g.ColsUsed(fc1), (int)(fr * g.Ra), (int)Math.Min(g.K, frEnd * g.Ra));
                else
                    fresh = MarkPixels(p1, p1 + (int)g.ColsUsed(fc1), (int)(fr * g.Ra), k)
                        + MarkPixels(p1 + (int)g.Ca, p2, 0, k)
                        + MarkPixels(p2, p2 + (int)g.ColsUsed(fc2), 0, (int)Math.Min(g.K, frEnd * g.Ra));
                lines = count * g.Ra;
            }
            if (_open + fresh >= _window)
            {
                ClearFold();
                // New words are not spread evenly over folds (IS: a pixel block's first element
                // ranges bring most), so the next try is at most half as many folds.
                _perFold = Math.Max(_perFold, (double)fresh / count);
                _foldCap = Math.Min(count / 2, (long)(count * 0.9 * need / fresh));
                return 0;
            }
            CommitFold();
            _open += fresh;
            Misses += fresh;
            _sinceClose += lines;
            _closing = 0;
            _foldCap = long.MaxValue;
            _perFold = Math.Max((double)fresh / count, 1e-3);
            _foldsInWindow += count;
            return count;
        }

        /// <summary>
        /// Demand lines [a, b) of the current fold, front to back. A group of lines goes into the
        /// window as a set when the window cannot close among them; otherwise the group shrinks to
        /// the lines the observed rate of new words says fit (a few lines are replayed in order).
        /// </summary>
        private void Lines(long a, long b)
        {
            long pos = a;
            // OS: a fold of 32 rows or more that starts after a close in the fold before (or one of the sweep's before it)
            // is counted from its start up to its first close (found from the reads since the last close, CountedTail's
            // rule across the fold boundary) when the last window's rate says it closes the window (NoteCrossFold;
            // otherwise marking it costs less); the rest goes as after any close.
            if (_crossTc >= 0 && pos == 0)
            {
                CrossTails++;
                CountedTail(pos, b, true, out pos);
                _crossTc = -1;
            }
            while (pos < b)
            {
                // WS over every window element: once per window, as many lines as cannot close it are counted (SkipLines),
                // from where every pixel that still reads read nothing before the fold's last close.
                if (_wsWhole && !_lineSkipTried && _geoFrom < 0 && (_foldClose < 0 || pos - _kCount + 1 > _foldClose)
                    && _window - _open > 4 * FullRowWords)
                {
                    _lineSkipTried = true;
                    long to = SkipLines((int)pos);
                    if (to > pos)
                    {
                        pos = to;
                        continue;
                    }
                }
                // OS: right after the window closes inside a fold of 32 rows or more, the rest of the
                // fold is counted without marking if the last window's rate says it (nearly) closes again
                // before the fold ends (otherwise the rest is marked, cheaper than preparing the count; on
                // folds of a few rows the count's scan over every line costs more than marking their runs).
                // Decided once per close: later in the fold the rate falls (the drain, and reads that
                // hit), so a rate-based guess made there mostly expects a close that does not come.
                if (_foldClose >= 0 && _g.Flow == SystolicDataflow.OutputStationary && _pCount >= CountedTailRows
                    && _sinceClose <= ExpectLines && (b - pos) * _windowRate * _reach >= _window - _open)
                {
                    bool marginal = (b - pos) * _windowRate < _window - _open;
                    // A tail counted on the margin that does not close says the margin does not hold on this layer.
                    if (!CountedTail(pos, b) && marginal) _reach = 1;
                    return;
                }
                long need = _window - _open;
                // The close is expected within a few lines: replaying them in order costs about
                // as much as one more try, so replay up to that many (stopping after a close).
                if (need <= ExpectLines * _rate)
                {
                    long closes = Closes, misses = Misses, end = Math.Min(b, pos + ExpectLines), line = pos;
                    while (line < end && Closes == closes) ExactLine((int)line++);
                    long done = line - pos;
                    pos = line;
                    _sinceClose += done;
                    _closing = Math.Max(0, _closing - done);
                    if (Closes > closes) { _closing = 0; if (_windowRate > _rate) _rate = _windowRate; }
                    else _rate = Math.Max((double)(Misses - misses) / done, 1e-9);
                    continue;
                }
                double estimate = need / _rate * _margin;
                long span = estimate >= b - pos ? b - pos : Math.Max(1, (long)estimate);
                // Lines from pos known to close the window: try fewer.
                if (_closing > 0) span = Math.Min(span, Math.Max(1, _closing - 1));
                // WS over every window element after a close: a group only up to where the lines can be counted.
                if (_wsWhole && !_lineSkipTried && _foldClose >= 0) span = Math.Min(span, Math.Max(1, _foldClose + _kCount - pos));
                // OS: at a fold's start the reads mostly hit the words the previous fold left and
                // then nearly all miss, so a rate measured on the first lines promises far too many:
                // after a group has overshot the close by more than twice the words needed, grow at
                // most twice the last group taken in the fold (unless even reads that all miss could
                // not fill the window). Only for folds of 32 rows or more, where an overshooting
                // group is expensive; a near miss keeps the estimate, which is about right then.
                if (_overshot && _g.Flow == SystolicDataflow.OutputStationary && _pCount >= 32)
                    span = Math.Min(span, Math.Max(2 * _lastSpan, need / _pCount));
                // WS: when no close fell on the lines since the first pixel of the group began
                // (line pos − rows + 1), the words those pixels read before pos are all in the
                // window, so marking their whole prefixes adds no fresh word and turns the group's
                // trailing staircase into whole pixels (cheap ofmap-row runs).
                bool prefixInWindow = _foldClose < Math.Max(0, pos - _kCount + 1);
                // A group whose reads could not fill the window even if every one missed is marked straight into
                // the window: no scratch set to commit, nothing to drop. Taken when such a group is at least three
                // quarters of the rate's guess (layers whose reads nearly all miss, such as stems on small arrays).
                long bound = ReadsPerLineBound, safe = (need - 1) / bound;
                bool direct = safe >= span || (safe >= 1 && 4 * safe >= 3 * span);
                if (direct) span = Math.Min(span, safe);
                // A try that brings more than twice the words needed stops marking early (MarkLines): it is dropped
                // either way, and only its rate is used (extrapolated from the share marked).
                long fresh = direct ? MarkDirect((int)pos, (int)(pos + span), prefixInWindow) : MarkLines((int)pos, (int)(pos + span), prefixInWindow, 2 * need);
                if (_open + fresh < _window)
                {
                    if (!direct) CommitFold();
                    _open += fresh;
                    Misses += fresh;
                    pos += span;
                    _sinceClose += span;
                    _closing = Math.Max(0, _closing - span);
                    // A group that brought the words its rate promised (within 5 %) says the rate holds here: the next
                    // group aims closer to the close (a few lines short of it, which are then replayed in order) rather
                    // than leaving a tenth of the need for one more group and its staircase.
                    double promised = span * _rate;
                    _margin = Math.Abs(fresh - promised) <= 0.05 * promised ? SteadyMargin : UsualMargin;
                    _lastSpan = span;
                    // An all-hit group says the rate is lower than thought: try twice the lines next.
                    _rate = fresh > 0 ? (double)fresh / span : Math.Max(_rate / 2, 1e-9);
                    continue;
                }
                ClearFold();
                if (fresh > 2 * need) _overshot = true;
                if (span <= ExactLines)
                {
                    long closes = Closes;
                    for (long line = pos; line < pos + span; line++) ExactLine((int)line);
                    pos += span;
                    _sinceClose += span;
                    _closing = 0;
                    // After a close the window starts empty, so its first lines bring new words at
                    // least at the average rate of the last full window, however few the last lines
                    // before the close brought (they mostly hit when neighbouring windows overlap).
                    if (Closes > closes && _windowRate > _rate) _rate = _windowRate;
                    continue;
                }
                // The window closes inside: the next try is strictly shorter than this one, and
                // shorter still than the observed rate says after repeated misses of the mark (new
                // words per line fall as the window fills when neighbouring windows overlap).
                _closing = span;
                _margin = Math.Max(0.05, _margin * 0.8);
                _rate = Math.Max(fresh / (_doneShare * span), (double)need / (span - 1));
            }
        }

        /// <summary>
        /// At most this many reads on one demand line of the current fold: one per array row in use (OS: pixels
        /// that still read, WS: elements that still meet a pixel), one per column in use (IS).
        /// </summary>
        private readonly long ReadsPerLineBound =>
            Math.Max(1, _g.Flow == SystolicDataflow.InputStationary ? _pCount : Math.Min(_pCount, _kCount));

        /// <summary>
        /// <see cref="MarkLines"/> into the window itself, for lines [a, b) whose reads cannot fill it (the caller
        /// checked): the new words are the same, and the window's touched range grows by the group's.
        /// </summary>
        private long MarkDirect(int a, int b, bool prefixInWindow)
        {
            _fold = _win;
            long fresh = MarkLines(a, b, prefixInWindow);
            _fold = _scratch;
            if (_foldLo < _winLo) _winLo = _foldLo;
            if (_foldHi > _winHi) _winHi = _foldHi;
            ResetGroup();
            return fresh;
        }

        /// <summary>
        /// Puts the words of lines [a, b) in the scratch set; returns how many are new to the window.
        /// With <paramref name="prefixInWindow"/> (WS), each pixel's reads before line a are taken
        /// too: the caller knows they are all in the window, so the count and the set of new words
        /// are the same. With <paramref name="abortAbove"/>, the group's whole pixels stop being marked once more
        /// than that many words were new (<see cref="MarkPixels"/>): the count is then only a lower bound, for a group
        /// the caller drops.
        /// </summary>
        private long MarkLines(int a, int b, bool prefixInWindow, long abortAbove = long.MaxValue)
        {
            long fresh = 0;
            _aborted = false;
            _doneShare = 1;
            switch (_g.Flow)
            {
                case SystolicDataflow.OutputStationary:
                {
                    // Array row r reads element t − r on line t. Rows in [a, b − K] read whole
                    // windows: those go row by row of the ofmap.
                    int r = Math.Max(0, a - _kCount + 1), rEnd = Math.Min(_pCount - 1, b - 1);
                    int midFrom = Math.Max(r, a), midTo = Math.Min(rEnd + 1, b - _kCount + 1);
                    if (midFrom >= midTo) midFrom = midTo = rEnd + 1;
                    fresh += MarkStaircase(_p0, r, midFrom, a, b, 0, _kCount);
                    if (midFrom < midTo) fresh += MarkPixels(_p0 + midFrom, _p0 + midTo, 0, _kCount, abortAbove - fresh);
                    if (!_aborted) fresh += MarkStaircase(_p0, midTo, rEnd + 1, a, b, 0, _kCount);
                    break;
                }
                case SystolicDataflow.WeightStationary:
                {
                    // Pixel p meets array row r (element k0 + r) on line p + r. Pixels in [a, b − rows]
                    // read every element of the fold: those go row by row of the ofmap.
                    int p = Math.Max(0, a - _kCount + 1), pEnd = Math.Min(_pCount - 1, b - 1);
                    int from = prefixInWindow ? p : a; // first pixel read from element k0
                    int midFrom = Math.Max(p, from), midTo = Math.Min(pEnd + 1, b - _kCount + 1);
                    if (midFrom >= midTo) midFrom = midTo = pEnd + 1;
                    long first = prefixInWindow ? NoBound : a; // pixels read from element k0 on, or from a − p
                    fresh += MarkStaircase(0, p, midFrom, first, b, _k0, _kCount);
                    if (midFrom < midTo) fresh += MarkPixels(midFrom, midTo, _k0, _k0 + _kCount, abortAbove - fresh);
                    if (!_aborted) fresh += MarkStaircase(0, midTo, pEnd + 1, first, b, _k0, _kCount);
                    break;
                }
                default:
                {
                    // Line j holds element k0 + (rows − 1 − j) of every pixel of the block.
                    fresh += MarkPixels(_p0, _p0 + _pCount, _k0 + _kCount - b, _k0 + _kCount - a, abortAbove);
                    break;
                }
            }
            return fresh + FlushPending();
        }

        /// <summary>A lower line bound below every line: a pixel then reads from the fold's first element.</summary>
        private const long NoBound = int.MinValue / 2;

        /// <summary>
        /// The staircase of a group of lines: unit u in [u1, u2) (array row in OS, pixel in WS; pixel
        /// <paramref name="pixelBase"/> + u) reads window elements [k0 + max(0, a − u), k0 + min(kc, b − u)).
        /// Marked filter row by filter row: the units whose slice covers the fold's whole part of a filter
        /// row are contiguous and go as whole pixels (one run per ofmap row when neighbours' runs touch, or a
        /// strided comb), and only the units at either end, at most one filter row's length of them on each
        /// side, have partial slices, marked one by one (joined while they touch). Per pixel instead, a stem's
        /// 127-pixel staircase on a 128-row array costs one slice per pixel and filter row.
        /// </summary>
        private long MarkStaircase(int pixelBase, int u1, int u2, long a, long b, int k0, int kc)
        {
            if (u1 >= u2) return 0;
            long added = 0;
            int krFirst = k0 / _sc, krLast = (k0 + kc - 1) / _sc;
            for (int kr = krFirst; kr <= krLast; kr++)
            {
                // This filter row's elements of the fold, [e0, e1); unit u's slice of them is
                // [max(e0, k0 + a − u), min(e1, k0 + b − u)): non-empty for u in [uLo, uHi], whole for u in [fLo, fHi].
                long e0 = Math.Max((long)kr * _sc, k0), e1 = Math.Min((long)kr * _sc + _sc, (long)k0 + kc);
                long uLo = Math.Max(u1, k0 + a - e1 + 1), uHi = Math.Min(u2 - 1, k0 + b - e0 - 1);
                if (uLo > uHi) continue;
                long fLo = Math.Max(uLo, k0 + a - e0), fHi = Math.Min(uHi, k0 + b - e1);
                if (fLo <= fHi) added += MarkPixels(pixelBase + (int)fLo, pixelBase + (int)fHi + 1, (int)e0, (int)e1);
                else (fLo, fHi) = (uHi + 1, uHi);
                // Slices shorter than a word mostly lie inside one: gathered, several units to a word (stems).
                if (e1 - e0 < 64)
                    added += MarkPartial<Gathered>(pixelBase, kr, (int)uLo, (int)fLo, a, b, k0, e0, e1)
                        + MarkPartial<Gathered>(pixelBase, kr, (int)fHi + 1, (int)uHi + 1, a, b, k0, e0, e1);
                else
                    added += MarkPartial<Runs>(pixelBase, kr, (int)uLo, (int)fLo, a, b, k0, e0, e1)
                        + MarkPartial<Runs>(pixelBase, kr, (int)fHi + 1, (int)uHi + 1, a, b, k0, e0, e1);
            }
            return added;
        }

        /// <summary>How <see cref="MarkPartial"/> marks a run: a type parameter, so each way is compiled without the other's branch.</summary>
        private interface IRunMarker
        {
            long Mark(ref State s, long start, long end);
        }

        private readonly struct Runs : IRunMarker
        {
            public long Mark(ref State s, long start, long end) => s.MarkRun(start, end);
        }

        private readonly struct Gathered : IRunMarker
        {
            public long Mark(ref State s, long start, long end) => s.MarkGathered(start, end);
        }

        /// <summary>Units [u1, u2) of a staircase: each one's slice of filter row kr (elements [e0, e1) of the fold), joined while they touch.</summary>
        private long MarkPartial<TMarker>(int pixelBase, int kr, int u1, int u2, long a, long b, int k0, long e0, long e1)
            where TMarker : struct, IRunMarker
        {
            if (u1 >= u2) return 0;
            long added = 0, rowOffset = (long)kr * _sc;
            var pending = _pending ?? RentPending();
            ref long ps = ref pending[2 * kr];
            ref long pe = ref pending[2 * kr + 1];
            int pixel = pixelBase + u1, oy = pixel / _ew, ox = pixel - oy * _ew;
            // Stepped per unit: the pixel's first address in filter row kr, and how many words of that ifmap row it can read.
            long pixelStep = (long)_sw * _c, y = (long)oy * _sh + kr, rowBase = y * _rowWords + ox * pixelStep, cut = (_w - (long)ox * _sw) * _c;
            long first = k0 + a - rowOffset, last = k0 + b - rowOffset, lo0 = e0 - rowOffset, hi0 = e1 - rowOffset;
            for (int u = u1; u < u2; u++)
            {
                if (y < _h)
                {
                    long lo = Math.Max(lo0, first - u), hi = Math.Min(Math.Min(hi0, last - u), cut);
                    if (lo < hi)
                    {
                        long start = rowBase + lo, end = rowBase + hi;
                        if (start >= ps && start <= pe) { if (end > pe) pe = end; }
                        else
                        {
                            if (pe > ps) added += default(TMarker).Mark(ref this, ps, pe);
                            (ps, pe) = (start, end);
                        }
                    }
                }
                if (++ox == _ew)
                {
                    ox = 0;
                    y += _sh;
                    rowBase = y * _rowWords;
                    cut = (long)_w * _c;
                }
                else
                {
                    rowBase += pixelStep;
                    cut -= pixelStep;
                }
            }
            return added;
        }

        /// <summary>
        /// Window elements [k1, k2) of every pixel in [p1, p2), one ofmap row at a time. For a try's whole pixels
        /// (<see cref="MarkLines"/>), it stops after the ofmap row at which more than <paramref name="abortAbove"/> words
        /// were new: then <c>_aborted</c>, and <c>_doneShare</c> is the share of the pixels marked.
        /// </summary>
        private long MarkPixels(int p1, int p2, int k1, int k2, long abortAbove = long.MaxValue)
        {
            if (p1 >= p2 || k1 >= k2) return 0;
            long added = 0;
            int oy = p1 / _ew, ox = p1 - oy * _ew;
            // Two or more whole ofmap rows whose pixels' runs a comb marks (MarkStrided): each filter row's word masks are
            // built once per bit phase of the rows' first addresses and applied to every whole row (MarkRowOfPixels). (Longer
            // steps leave whole words between runs, which a comb visits.)
            int step = _sw * _c;
            bool byMasks = p2 - p1 >= 2 * _ew && step <= MaxCombStep && (step & 63) != 0
                && Avx2.IsSupported && p2 / _ew - (p1 + _ew - 1) / _ew >= 2;
            if (byMasks && _rowMasks is null) RentRowMasks();
            for (int p = p1; p < p2; oy++, ox = 0)
            {
                int n = Math.Min(p2 - p, _ew - ox);
                added += MarkRowOfPixels(oy, ox, n, k1, k2, byMasks && n == _ew);
                p += n;
                if (added > abortAbove && p < p2)
                {
                    _aborted = true;
                    _doneShare = (double)(p - p1) / (p2 - p1);
                    break;
                }
            }
            return added;
        }

        /// <summary>
        /// Window elements [k1, k2) of n neighbouring pixels of ofmap row oy from column ox. Per
        /// filter row each pixel reads one run, the next pixel's shifted by stride·C words; when the
        /// shift is at most the run's length the runs touch or overlap and their union is one run
        /// (cut at the end of the ifmap row, like each pixel's). With <paramref name="byMasks"/> (the whole
        /// ofmap row, its runs apart): per filter row the runs of all its pixels relative to the first address are
        /// the same in every row, so their word masks are built once per bit phase and slice of the filter row
        /// (<see cref="BuildRowMasks"/>) and applied four words at a time.
        /// </summary>
        private long MarkRowOfPixels(int oy, int ox, int n, int k1, int k2, bool byMasks)
        {
            int y0 = oy * _sh, rows = _h - y0;
            if (rows <= 0) return 0;
            long added = 0, step = (long)_sw * _c, rowEnd = _rowWords;
            int kr = k1 / _sc, krEnd = Math.Min((k2 - 1) / _sc, rows - 1);
            for (int off = kr * _sc; kr <= krEnd; kr++, off += _sc)
            {
                int lo = Math.Max(k1 - off, 0), hi = Math.Min(k2 - off, _sc);
                if (lo >= hi) continue;
                long rowBase = (long)(y0 + kr) * _rowWords, first = ox * step + lo;
                if (first >= rowEnd) continue;
                // The n runs' span: from the first run's start to the last run's end, cut at the ifmap row's end.
                long spanStart = rowBase + first, spanEnd = rowBase + Math.Min((ox + n - 1) * step + hi, rowEnd);
                if (step <= hi - lo)
                {
                    added += MarkRun(spanStart, spanEnd);
                    continue;
                }
                if (byMasks)
                {
                    int phase = (int)(spanStart & 63), slot = kr * 64 + phase;
                    long key = lo + (_sc + 1L) * hi;
                    if (_rowMaskKey![slot] != key)
                    {
                        BuildRowMasks(slot, phase, (int)step, hi - lo, spanEnd - spanStart);
                        _rowMaskKey[slot] = key;
                    }
                    var (w0, _) = LogSpan(spanStart, spanEnd);
                    added += MarkMasked(_win, _fold, w0, _rowMasks!, slot * _rowMaskStride, _rowMaskWords![slot]);
                    continue;
                }
                // Steps of whole 64-bit words (stride × channels a multiple of 64): every run has the same word masks.
                if ((step & 63) == 0 && step <= MaxCombStep && n >= 2)
                {
                    added += MarkRunsEveryWords(spanStart, spanEnd, (int)step, hi - lo);
                    continue;
                }
                if (step <= MaxCombStep && n >= StridedFrom)
                {
                    added += MarkStrided(spanStart, spanEnd, (int)step, hi - lo);
                    continue;
                }
                for (long start = first, i = 0; i < n && start < rowEnd; i++, start += step)
                    added += MarkRun(rowBase + start, rowBase + Math.Min(start - lo + hi, rowEnd));
            }
            return added;
        }

        /// <summary>Rents the row masks, none built.</summary>
        private void RentRowMasks()
        {
            int rr = _g.L.FilterHeight;
            // A whole ofmap row's reads of one filter row lie in one ifmap row: at most rowWords / 64 + 2 words, rounded up to four.
            _rowMaskStride = (int)((_rowWords / 64 + 2 + 3) & ~3L);
            _rowMasks = ArrayPool<ulong>.Shared.Rent(rr * 64 * _rowMaskStride);
            _rowMaskKey = ArrayPool<long>.Shared.Rent(rr * 64);
            _rowMaskWords = ArrayPool<int>.Shared.Rent(rr * 64);
            Array.Fill(_rowMaskKey, -1, 0, rr * 64);
        }

        /// <summary>
        /// The masks of slot kr · 64 + phase: a whole ofmap row's runs of filter row kr, runs of len words every step (≤ 128, <see cref="MarkPixels"/>
        /// takes this path for such steps only) words from bit <paramref name="phase"/> of the first word, the span cut after
        /// spanLength words, word by word from the comb as <see cref="MarkStrided"/> marks them; zeros up to a multiple of four words.
        /// </summary>
        private void BuildRowMasks(int slot, int phase, int step, int len, long spanLength)
        {
            var masks = _rowMasks!;
            int at = slot * _rowMaskStride, words = (int)((phase + spanLength - 1) >> 6) + 1;
            Array.Clear(masks, at + words, ((words + 3) & ~3) - words);
            if (step != _combStep || len != _combLen) SelectComb(step, len);
            int p = CombPhase(phase, step), advance = _combAdvance;
            for (int w = 0; w < words; w++)
            {
                masks[at + w] = CombWord(p);
                p += advance;
                if (p >= step) p -= step;
            }
            masks[at] &= ulong.MaxValue << phase;
            masks[at + words - 1] &= ulong.MaxValue >> (63 - (int)((phase + spanLength - 1) & 63));
            _rowMaskWords![slot] = words;
        }

        /// <summary>The pending runs, one per filter row, all empty (from the shared pool; returned by <see cref="Release"/>).</summary>
        private long[] RentPending()
        {
            var pending = ArrayPool<long>.Shared.Rent(2 * _g.L.FilterHeight);
            Array.Clear(pending);
            return _pending = pending;
        }

        /// <summary>
        /// Marks the runs <see cref="MarkPartial"/> left pending; returns the new words. Every caller of
        /// <see cref="MarkStaircase"/> flushes before it returns a count.
        /// </summary>
        private long FlushPending()
        {
            var pending = _pending;
            if (pending is null) return 0;
            long added = 0;
            for (int i = 0; i < pending.Length; i += 2)
                if (pending[i + 1] > pending[i])
                {
                    added += MarkGathered(pending[i], pending[i + 1]);
                    pending[i] = pending[i + 1] = 0;
                }
            return added + FlushGathered();
        }

        /// <summary>
        /// Runs of <paramref name="len"/> words every <paramref name="step"/> words (len &lt; step ≤ 128)
        /// from <paramref name="start"/>, cut at <paramref name="end"/>: the runs of neighbouring pixels
        /// that do not touch (stride·C longer than a pixel's run, e.g. 3-channel stems). Instead of one
        /// <see cref="MarkRun"/> per pixel, each 64-bit word of the span is marked at once with the
        /// comb of the pattern at that word's phase.
        /// </summary>
        private long MarkStrided(long start, long end, int step, int len)
        {
            var (w0, w1) = LogSpan(start, end);
            if (step != _combStep || len != _combLen) SelectComb(step, len);
            int phase = CombPhase((int)(start & 63), step), advance = _combAdvance;
            var win = _win;
            var fold = _fold;
            long added = 0;
            for (int w = w0; w <= w1; w++)
            {
                ulong mask = CombWord(phase);
                if (w == w0) mask &= ulong.MaxValue << (int)(start & 63);
                if (w == w1) mask &= ulong.MaxValue >> (63 - (int)((end - 1) & 63));
                added += MarkWord(win, fold, w, mask);
                phase += advance;
                if (phase >= step) phase -= step;
            }
            return added;
        }

        /// <summary>
        /// The comb's phase at a word whose first bit lies <paramref name="bit"/> (&lt; 64) bits before a run start:
        /// (−bit) mod step, in 32 bits (the division only when a step is shorter than bit).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int CombPhase(int bit, int step)
        {
            int back = bit < step ? bit : bit % step;
            return back == 0 ? 0 : step - back;
        }

        /// <summary>The current comb's 64 bits from <paramref name="phase"/> (&lt; step ≤ 128) on: a word's mask (see <see cref="SelectComb"/>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly ulong CombWord(int phase)
        {
            int shift = phase & 63;
            ulong lo = phase < 64 ? _comb0 : _comb1, hi = phase < 64 ? _comb1 : _comb2;
            return shift == 0 ? lo : (lo >> shift) | (hi << (64 - shift));
        }

        /// <summary>
        /// Runs of <paramref name="len"/> words every <paramref name="step"/> words (a multiple of 64, len &lt; step)
        /// from <paramref name="start"/>, cut at <paramref name="end"/>: every run starts at the same bit of its
        /// first 64-bit word, so all share one first-word mask, whole words and one last-word mask, and the words
        /// between runs are skipped (a comb would visit them).
        /// </summary>
        private long MarkRunsEveryWords(long start, long end, int step, int len)
        {
            LogSpan(start, end);
            var win = _win;
            var fold = _fold;
            int bit = (int)(start & 63), inner = (bit + len - 1) >> 6;
            ulong firstMask = ulong.MaxValue << bit, lastMask = ulong.MaxValue >> (63 - ((bit + len - 1) & 63));
            if (inner == 0) firstMask &= lastMask;
            long added = 0, rs = start;
            for (; rs + len <= end; rs += step)
            {
                int a = (int)(rs >> 6);
                added += MarkWord(win, fold, a, firstMask);
                if (inner == 0) continue;
                for (int w = a + 1; w < a + inner; w++) added += MarkWord(win, fold, w, ulong.MaxValue);
                added += MarkWord(win, fold, a + inner, lastMask);
            }
            return rs < end ? added + MarkRange(rs, end) : added;
        }

        /// <summary>
        /// Makes the comb of runs of <paramref name="len"/> every <paramref name="step"/> words current: bits i of
        /// [0, 192) with i mod step &lt; len, so that a word whose first bit lies φ &lt; step words past a run start
        /// carries the comb's bits [φ, φ + 64). Combs of one step are kept per length (stems mark a handful of
        /// lengths over and over).
        /// </summary>
        private void SelectComb(int step, int len)
        {
            if (step != _combTableStep)
            {
                _combTable ??= ArrayPool<ulong>.Shared.Rent(4 * MaxCombStep);
                Array.Clear(_combTable);
                _combTableStep = step;
            }
            var table = _combTable!;
            int at = 4 * len;
            if (table[at + 3] == 0)
            {
                UInt128 low = 0, run = (UInt128.One << len) - 1;
                ulong high = 0;
                for (int i = 0; i < 192; i += step)
                {
                    if (i < 128) low |= run << i;
                    // The run's bits at or past 128 (a UInt128 shift drops the rest).
                    if (i + len > 128) high |= (ulong)(i >= 128 ? run << (i - 128) : run >> (128 - i));
                }
                (table[at], table[at + 1], table[at + 2], table[at + 3]) = ((ulong)low, (ulong)(low >> 64), high, 1);
            }
            (_comb0, _comb1, _comb2, _combStep, _combLen, _combAdvance) = (table[at], table[at + 1], table[at + 2], step, len, 64 % step);
        }

        /// <summary>The 64-bit words [w0, w1] that addresses [start, end) lie in, noted in the group's range and run log.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private (int W0, int W1) LogSpan(long start, long end)
        {
            int w0 = (int)(start >> 6), w1 = (int)((end - 1) >> 6);
            if (w0 < _foldLo) _foldLo = w0;
            if (w1 > _foldHi) _foldHi = w1;
            if (_runCount < RunLog)
            {
                _runs[2 * _runCount] = w0;
                _runs[2 * _runCount + 1] = w1;
            }
            _runCount++;
            _runWords += w1 - w0 + 1;
            return (w0, w1);
        }

        /// <summary>
        /// Addresses [start, end) marked as <see cref="MarkRun"/> does, except that a run inside one 64-bit word is
        /// gathered (OR-ed) into one pending word, marked when a run inside another word comes or at
        /// <see cref="FlushPending"/>: a staircase's short partial runs, several to a word, then cost one mark per word.
        /// The words are a union, so marking the gathered bits late counts the same new words. Returns the new words of
        /// the words marked so far.
        /// </summary>
        private long MarkGathered(long start, long end)
        {
            int w0 = (int)(start >> 6);
            if (w0 != (int)((end - 1) >> 6)) return MarkRun(start, end);
            long added = w0 == _gatherWord ? 0 : FlushGathered();
            _gatherWord = w0;
            _gatherMask |= (ulong.MaxValue << (int)(start & 63)) & (ulong.MaxValue >> (63 - (int)((end - 1) & 63)));
            return added;
        }

        /// <summary>Marks the gathered word (<see cref="MarkGathered"/>), if any; returns its new bits.</summary>
        private long FlushGathered()
        {
            if (_gatherWord < 0) return 0;
            int w = _gatherWord;
            LogWord(w);
            _gatherWord = -1;
            ulong mask = _gatherMask;
            _gatherMask = 0;
            return MarkWord(_win, _fold, w, mask);
        }

        /// <summary>Word w noted in the group's range and run log: the last run is extended when w is in it or just after it.</summary>
        private void LogWord(int w)
        {
            int k = _runCount - 1;
            if (k >= 0 && k < RunLog && w >= _runs[2 * k] && w <= _runs[2 * k + 1] + 1)
            {
                if (w > _runs[2 * k + 1])
                {
                    _runs[2 * k + 1] = w;
                    _runWords++;
                    if (w > _foldHi) _foldHi = w;
                }
                return;
            }
            LogSpan((long)w << 6, ((long)w << 6) + 1);
        }

        private long MarkRun(long start, long end)
        {
            LogSpan(start, end);
            return MarkRange(start, end);
        }

        /// <summary>The new words of addresses [start, end), marked in the group's set (whose range and run log already hold them).</summary>
        private readonly long MarkRange(long start, long end)
        {
            int w0 = (int)(start >> 6), w1 = (int)((end - 1) >> 6);
            var win = _win;
            var fold = _fold;
            ulong first = ulong.MaxValue << (int)(start & 63), last = ulong.MaxValue >> (63 - (int)((end - 1) & 63));
            if (w0 == w1) return MarkWord(win, fold, w0, first & last);
            long added = MarkWord(win, fold, w0, first);
            int w = w0 + 1;
            if (w1 - w >= WideFrom && Avx2.IsSupported)
            {
                int fours = (w1 - w) & ~3;
                added += MarkWholeWords(win, fold, w, w + fours);
                w += fours;
            }
            for (; w < w1; w++) added += MarkWord(win, fold, w, ulong.MaxValue);
            return added + MarkWord(win, fold, w1, last);
        }

        /// <summary>Whether the group's runs (all remembered) span fewer words than its range.</summary>
        private readonly bool ByRuns => _runCount <= RunLog && _runWords < _foldHi - _foldLo + 1;

        private void CommitFold()
        {
            if (_foldHi < 0) return;
            var win = _win;
            var fold = _fold;
            if (ByRuns)
            {
                for (int i = 0; i < _runCount; i++) Merge(win, fold, _runs[2 * i], _runs[2 * i + 1]);
            }
            else Merge(win, fold, _foldLo, _foldHi);
            if (_foldLo < _winLo) _winLo = _foldLo;
            if (_foldHi > _winHi) _winHi = _foldHi;
            ResetGroup();
        }

        /// <summary>Words [w, last] of the group's set into the window, and the set's words emptied (long ranges by <see cref="MergeWide"/>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Merge(ulong[] win, ulong[] fold, int w, int last)
        {
            if (last - w >= WideFrom && Vector256.IsHardwareAccelerated) w = MergeWide(win, fold, w, last);
            for (; w <= last; w++) { win[w] |= fold[w]; fold[w] = 0; }
        }

        private void ClearFold()
        {
            if (_foldHi >= 0)
            {
                if (ByRuns)
                    for (int i = 0; i < _runCount; i++) Array.Clear(_fold, _runs[2 * i], _runs[2 * i + 1] - _runs[2 * i] + 1);
                else
                    Array.Clear(_fold, _foldLo, _foldHi - _foldLo + 1);
            }
            ResetGroup();
        }

        private void ResetGroup()
        {
            _foldLo = int.MaxValue;
            _foldHi = -1;
            _runCount = 0;
            _runWords = 0;
        }

        private const int NoPredecessor = int.MaxValue, Invalid = -1;

        /// <summary>Filter taps (R·S) of the layer: a fold's reads are indexed by row × tap.</summary>
        private readonly int Taps => _g.L.FilterHeight * _g.L.FilterWidth;

        /// <summary>
        /// The rest of an OS fold, lines [pos, end), once the window has closed inside it, without
        /// marking words. Pixel (oy + a, ox + b) reads the word that pixel (oy, ox) reads at tap
        /// (kr, kc) at tap (kr − a·sh, kc − b·sw), a·(sh·S·C − Ew) + b·(sw·C − 1) lines earlier and
        /// a·Ew + b rows further down the array, whatever the channel; so each read's latest earlier
        /// read of the same word in the fold is fixed by its row and tap (<see cref="PrepareFold"/>).
        /// After a close at (line tc, row rc) of this fold the window holds exactly the words read
        /// after it, so a later read is new iff that earlier read was at or before the close, or there
        /// is none (every read in earlier folds came before tc): for a row and tap, the lines of a
        /// contiguous range plus at most one more. Summing those ranges per line finds the next close;
        /// the line it falls on is walked row by row. At the end the window's bitset is the reads after
        /// the last close, for the next fold (marked when needed, <see cref="MaterializeTail"/>). Returns
        /// whether the window closed again.
        /// With <paramref name="cross"/>, lines [pos, end) are a fold's from its start after a close in an earlier fold
        /// (<see cref="PrepareCross"/>), and the count stops after the line of the fold's first close (<paramref name="stopped"/>:
        /// the line after it, or <paramref name="end"/>), with the window's bitset holding the reads after that close: the rest
        /// of the fold goes as after any close (<see cref="Lines"/>).
        /// </summary>
        private bool CountedTail(long pos, long end, bool cross = false) => CountedTail(pos, end, cross, out _);

        private bool CountedTail(long pos, long end, bool cross, out long stopped)
        {
            PrepareFold();
            int n = _pCount, c = _c, k = _kCount;
            int tc = (int)_foldClose, rc = (int)(LastClosePixel - _p0), from = (int)pos, to = (int)end;
            int tailStart = from, lastTc = -1, lastRc = 0;
            long openAtStart = _open;
            var predLine = _predLine!;
            var predShift = _predShift!;
            // From a fold's start after a close in an earlier fold (Lines, NoteCrossFold): until this fold's first close, each
            // read's earlier reads are those of PrepareCross, and the close is that fold's, on its biased scale.
            bool startedCross = cross;
            if (cross)
            {
                PrepareCross();
                (tc, rc) = (_crossTc - _crossBias, _crossRc);
            }
            while (from < to)
            {
                // Lines from `from` in chunks sized by the last window's rate of new words, until the
                // one on which the need-th new word is read (or the fold ends).
                long open = _open, need = _window - open;
                int line = from;
                bool closing = false;
                while (line < to && !closing)
                {
                    double rate = Math.Max(_windowRate, 1e-3);
                    int limit = (int)Math.Min(to, line + Math.Min(1e9, need / rate * 1.5 + 8));
                    bool second = true;
                    int[] diff = cross ? FillCountsBySegments(line, limit, tc, rc, _xSegs!, _xTapStart!) : FillCounts(line, limit, tc, rc, out second);
                    int at = FindClose(diff, limit - line, second, ref need);
                    if (at >= 0) { line += at; closing = true; }
                    if (!closing) line = limit;
                }
                _sinceClose += line - from;
                if (!closing)
                {
                    long fresh = _window - open - need;
                    Misses += fresh;
                    _open += fresh;
                    break;
                }
                // The close is on this line: its reads in row order (a small window may close more than once on it).
                Misses += _window - need - open; // the lines before this one
                open = _window - need;
                _sinceClose++;
                int r0 = Math.Max(0, line - k + 1), r1 = Math.Min(n - 1, line);
                int e = line - r0, j = e / c, m = e - j * c; // element of row r0, its tap and channel
                for (int r = r0; r <= r1; r++)
                {
                    int i = j * n + r, d = predLine[i], predRow = r + predShift[i];
                    if (cross && d == NoPredecessor) d = CrossPredecessor(j, r, out predRow);
                    else if (cross) d = Invalid; // read earlier in this fold, after the close before it: a hit
                    if (d != Invalid && NewAfter(line, d, predRow, tc, rc))
                    {
                        Misses++;
                        if (++open == _window)
                        {
                            NoteClose(_lineBase + line, _p0 + r, line - r);
                            open = 0;
                            (tc, rc) = (line, r);
                            (lastTc, lastRc) = (line, r);
                            // The fold's own close: from here each read's earlier reads are in this fold.
                            cross = false;
                        }
                    }
                    if (--m < 0) { m = c - 1; j--; }
                }
                _open = open;
                from = line + 1;
                if (startedCross) { to = from; break; }
            }
            stopped = to;
            // The window's bitset for what follows: the reads after the last close.
            long marked;
            if (lastTc < 0)
            {
                // (A fold counted from its start after counted blocks closes the window; should it not, the counted words
                // are marked first, so that the marks below count only this fold's new words.)
                if (startedCross) CrossTailsWithoutClose++;
                if (_tailPending) MaterializeTail(openAtStart);
                if (_geoFrom >= 0) MarkAllCounted();
                marked = MarkLines(tailStart, to, false);
            }
            else if (!startedCross)
            {
                // The reads after the last close, to the fold's end, are marked only when something needs them
                // (MaterializeTail): the next fold, counted from its start, mostly closes the window before.
                EmptyWindow();
                (_tailPending, _pendP0, _pendN, _pendTc, _pendRc, _pendTo) = (true, _p0, _pCount, lastTc, lastRc, to);
                marked = _open;
            }
            else
            {
                // (The close line's reads after the close: the rest of the fold goes on from them.)
                _tailPending = false;
                EmptyWindow();
                marked = MarkLineFrom(lastTc, lastRc + 1) + MarkLines(lastTc + 1, to, false);
            }
            CommitFold();
            // The bitset and the count agree on the words now open (tests hold both to the plain replay).
            System.Diagnostics.Debug.Assert(marked == (lastTc >= 0 ? _open : _open - openAtStart), "counted tail and marked words disagree");
            _closing = 0;
            if (_windowRate > _rate) _rate = _windowRate;
            return lastTc >= 0;
        }

        /// <summary>
        /// Marks the window's reads a counted tail left unmarked (<c>_tailPending</c>: an OS fold's reads after its last close),
        /// so that the bitset holds the window again; <paramref name="open"/> is how many words the window held then (checked
        /// in Debug builds).
        /// </summary>
        private void MaterializeTail(long open)
        {
            _tailPending = false;
            var (p0, n) = (_p0, _pCount);
            (_p0, _pCount) = (_pendP0, _pendN);
            long marked = MarkLineFrom(_pendTc, _pendRc + 1) + MarkLines(_pendTc + 1, _pendTo, false);
            CommitFold();
            (_p0, _pCount) = (p0, n);
            System.Diagnostics.Debug.Assert(marked == open, "a counted tail's marks disagree with its count");
        }

        /// <summary>
        /// New words per line for lines [a, b) of the current OS fold after the close (tc, rc), from index 0
        /// (line a): returned as their first differences, or as their second differences
        /// (<paramref name="second"/>; the caller sums them while it looks for the close). Each row and tap adds the range of lines
        /// whose reads' latest earlier read of the same word came before the close (all of them when
        /// there is none), and the one line whose earlier read is on the close's line at or before the
        /// closing row.
        /// </summary>
        private int[] FillCounts(int a, int b, int tc, int rc, out bool second)
        {
            int c = _c, taps = Taps, span = b - a;
            // By segments where those of the taps that meet the lines are fewer than the reads the rows × taps below would
            // visit.
            int rows = Math.Min(_pCount - 1, b - 1) - Math.Max(0, a - _kCount + 1) + 1;
            long below = a - (long)c - _pCount + 1;
            int jLo = below < 0 ? 0 : (int)Math.Min(taps, below / c + 1), jHi = (int)Math.Min(taps - 1, (b - 1) / c);
            long segments = jLo > jHi ? 0 : _tapSegments![jHi + 1] - _tapSegments[jLo];
            if (2 * segments < (long)rows * Math.Min(taps, span / c + 2))
            {
                SegmentFills++;
                second = true;
                return FillCountsBySegments(a, b, tc, rc, _segs!, _tapSegments!);
            }
            RowFills++;
            second = false;
            return FillCountsByRows(a, b, tc, rc, _predLine!, _predShift!);
        }

        /// <summary>
        /// <see cref="FillCounts"/> read by read: for each tap, the rows whose read of it meets lines [a, b); each read's latest
        /// earlier read of its word from <paramref name="predLine"/> and <paramref name="predShift"/> (this fold's,
        /// <see cref="PrepareFold"/>, or the fold before's, <see cref="PrepareCross"/>).
        /// </summary>
        private int[] FillCountsByRows(int a, int b, int tc, int rc, int[] predLine, int[] predShift)
        {
            int c = _c, taps = Taps, span = b - a;
            int[] count = Rent(ref _lineCount, span + 1);
            Array.Clear(count, 0, span + 1);
            int n = _pCount, rFirst = Math.Max(0, a - _kCount + 1), rLast = Math.Min(_pCount - 1, b - 1);
            // Tap by tap (the predecessors are kept tap-major): tap j of row r reads lines [r + jC, r + jC + C), which
            // meet [a, b) for rows r in [a − jC − C + 1, b − jC − 1].
            for (int j = 0; j < taps; j++)
            {
                long jc = (long)j * c;
                int rLo = (int)Math.Max(rFirst, a - jc - c + 1), rHi = (int)Math.Min(rLast, b - jc - 1);
                for (int r = rLo, i = j * n + rLo, tapLo = (int)(rLo + jc); r <= rHi; r++, i++, tapLo++)
                {
                    int d = predLine[i];
                    if (d == Invalid) continue;
                    int tapHi = tapLo + c;
                    int lo = Math.Max(tapLo, a); // a > tc: every line counted here is after the close's
                    int hi = d == NoPredecessor ? tapHi : (int)Math.Min(tapHi, (long)tc + d);
                    if (hi > b) hi = b;
                    if (lo < hi) { count[lo - a]++; count[hi - a]--; }
                    if (d != NoPredecessor && r + predShift[i] <= rc)
                    {
                        long t = (long)tc + d;
                        if (t >= Math.Max(tapLo, a) && t < Math.Min(tapHi, b)) { count[t - a]++; count[t - a + 1]--; }
                    }
                }
            }
            return count;
        }

        /// <summary>
        /// <see cref="FillCounts"/> from the segments, as second differences: rows [r1, r2] of tap j read lines [r + jC, r + jC + C),
        /// new up to (not including) line H = tc + D (no bound without a predecessor), so their new reads per
        /// line form a trapezoid cut at H, added as second differences clipped to [a, b); plus line H itself
        /// for the rows whose earlier read on the close's line was at or before the closing row.
        /// </summary>
        private int[] FillCountsBySegments(int a, int b, int tc, int rc, int[] segs, int[] tapStart)
        {
            int span = b - a;
            int[] d2 = Rent(ref _lineCount, span + 3);
            Array.Clear(d2, 0, span + 3);
            long c = _c;
            // Only the taps whose lines [j·C, j·C + C + n − 1) meet [a, b).
            long below = a - c - _pCount + 1;
            int jLo = below < 0 ? 0 : (int)(below / c) + 1, jHi = (int)Math.Min(Taps - 1, (b - 1) / c);
            if (jLo > jHi) return d2;
            for (int q = SegmentInts * tapStart[jLo], end = SegmentInts * tapStart[jHi + 1]; q < end; q += SegmentInts)
            {
                int d = segs[q + 3];
                if (d == Invalid) continue;
                long r1 = segs[q + 1], r2 = segs[q + 2], l0 = segs[q] * c, l1 = l0 + c;
                long h = d == NoPredecessor ? long.MaxValue : (long)tc + d, e = Math.Min(h, b);
                if (r2 + l1 > a && r1 + l0 < e && e > a)
                {
                    // T(x): rows reading line x; dT(x) = T(x) − T(x − 1). F = T on [a, e): second differences
                    // T(a), dT(a + 1) − T(a), T's own steps on (a + 1, e + 1], then −T(e), T(e) − dT(e + 1). (Every index
                    // is at most e + 1 − a ≤ span + 1, inside d2; entries past span are not read.)
                    if (r1 + l0 <= a + 1)
                    {
                        long ta = Trapezoid(a, r1, r2, l0, l1);
                        d2[0] += (int)ta;
                        d2[1] += (int)(Slope(a + 1, r1, r2, l0, l1) - ta);
                    }
                    long lo = a + 2, hi = e + 1;
                    if (r1 + l0 >= lo && r1 + l0 <= hi) d2[r1 + l0 - a]++;
                    if (r2 + 1 + l0 >= lo && r2 + 1 + l0 <= hi) d2[r2 + 1 + l0 - a]--;
                    if (r1 + l1 >= lo && r1 + l1 <= hi) d2[r1 + l1 - a]--;
                    if (r2 + 1 + l1 >= lo && r2 + 1 + l1 <= hi) d2[r2 + 1 + l1 - a]++;
                    if (e < b)
                    {
                        long te = Trapezoid(e, r1, r2, l0, l1);
                        d2[e - a] -= (int)te;
                        d2[e + 1 - a] += (int)(te - Slope(e + 1, r1, r2, l0, l1));
                    }
                }
                if (d != NoPredecessor && d > 0 && h >= a && h < b)
                {
                    long top = Math.Min(Math.Min(r2, (long)rc - segs[q + 4]), h - l0), bottom = Math.Max(r1, h - l1 + 1);
                    if (top >= bottom)
                    {
                        // h < b: indices up to span + 1.
                        int k = (int)(top - bottom + 1);
                        d2[h - a] += k;
                        d2[h + 1 - a] -= 2 * k;
                        d2[h + 2 - a] += k;
                    }
                }
            }
            return d2;
        }

        /// <summary>Rows of [r1, r2] whose tap (lines [r + l0, r + l1)) reads line x.</summary>
        private static long Trapezoid(long x, long r1, long r2, long l0, long l1) => Math.Max(0, Math.Min(r2, x - l0) - Math.Max(r1, x - l1 + 1) + 1);

        /// <summary>Trapezoid(x) − Trapezoid(x − 1).</summary>
        private static long Slope(long x, long r1, long r2, long l0, long l1) =>
            (r1 + l0 <= x && x <= r2 + l0 ? 1 : 0) - (r1 + l1 <= x && x <= r2 + l1 ? 1 : 0);

        /// <summary>Whether a read on <paramref name="line"/> (after the close (tc, rc)) whose latest earlier read of the same word is d lines before, on row predRow, reads a word new to the window.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool NewAfter(int line, int d, int predRow, int tc, int rc) =>
            d == NoPredecessor || line - (long)d < tc || (line - (long)d == tc && predRow <= rc);

        /// <summary>
        /// Reads of line t from array row r0 on into the scratch set (new words are counted by the caller's CommitFold):
        /// OS, array row r reads pixel p0 + r; WS, array row r reads pixel t − r, so rows from r0 on are pixels up to t − r0.
        /// </summary>
        private long MarkLineFrom(int t, int r0) => _g.Flow == SystolicDataflow.OutputStationary
            ? MarkStaircase(_p0, Math.Max(r0, t - _kCount + 1), Math.Min(_pCount - 1, t) + 1, t, t + 1, 0, _kCount) + FlushPending()
            : MarkStaircase(0, Math.Max(0, t - _kCount + 1), Math.Min(_pCount - 1, t - r0) + 1, t, t + 1, _k0, _kCount) + FlushPending();

        private static int[] Rent(ref int[]? array, int length)
        {
            if (array is null || array.Length < length)
            {
                if (array is not null) ArrayPool<int>.Shared.Return(array);
                array = ArrayPool<int>.Shared.Rent(length);
            }
            return array;
        }

        /// <summary>
        /// Per row and tap of the current OS fold, the latest earlier read of the same word in the fold:
        /// its line distance (<see cref="NoPredecessor"/> if none, <see cref="Invalid"/> if the tap lies
        /// outside the ifmap) and how many rows further down the array it was (its row minus this one). The candidates per tap — pixels a rows and b columns of the
        /// ofmap further on whose windows hold the word — are listed once per layer, latest first; a
        /// read takes the first that lies in the fold and in the ofmap row.
        /// </summary>
        private void PrepareFold()
        {
            if (_predP0 == _p0 && _predN == _pCount) return;
            (_predP0, _predN) = (_p0, _pCount);
            var l = _g.L;
            int rr = l.FilterHeight, ss = l.FilterWidth, taps = rr * ss, n = _pCount;
            if (_candStart is null)
            {
                long alpha = (long)_sh * _sc - _ew, beta = (long)_sw * _c - 1;
                var earlier = new List<(long Line, long Row, int Shift)>(); // of one tap
                var start = Rent(ref _candStart, taps + 1);
                int total = 0;
                var all = new List<(long, long, int)>(); // of every tap, in tap order
                for (int kr = 0; kr < rr; kr++)
                    for (int kc = 0; kc < ss; kc++)
                    {
                        earlier.Clear();
                        for (int a = -((rr - 1 - kr) / _sh); a <= kr / _sh; a++)
                            for (int b = -((ss - 1 - kc) / _sw); b <= kc / _sw; b++)
                            {
                                long dl = a * alpha + b * beta, dr = (long)a * _ew + b;
                                if ((a != 0 || b != 0) && (dl > 0 || (dl == 0 && dr < 0))) earlier.Add((dl, dr, b));
                            }
                        // Latest first: fewest lines back, then furthest down the array.
                        earlier.Sort((x, y) => x.Line != y.Line ? x.Line.CompareTo(y.Line) : y.Row.CompareTo(x.Row));
                        start[kr * ss + kc] = total;
                        all.AddRange(earlier);
                        total += earlier.Count;
                    }
                start[taps] = total;
                for (int j = 0; j < taps; j++) _maxCandidates = Math.Max(_maxCandidates, start[j + 1] - start[j]);
                var cl = Rent(ref _candLine, Math.Max(1, total));
                var cr = Rent(ref _candRow, Math.Max(1, total));
                var cs = Rent(ref _candShift, Math.Max(1, total));
                for (int i = 0; i < total; i++)
                {
                    var (dl, dr, b) = all[i];
                    (cl[i], cr[i], cs[i]) = ((int)Math.Min(dl, int.MaxValue - 1), (int)Math.Clamp(dr, int.MinValue + 1, int.MaxValue - 1), b);
                }
            }
            BuildOrRestoreSegments(n, rr, ss);
            // Tap-major (index tap · n + row), so that each segment is two contiguous fills.
            var predLine = Rent(ref _predLine, n * taps);
            var predShift = Rent(ref _predShift, n * taps);
            var segs = _segs!;
            for (int q = 0, end = SegmentInts * _segCount; q < end; q += SegmentInts)
            {
                int at = segs[q] * n + segs[q + 1], length = segs[q + 2] - segs[q + 1] + 1;
                predLine.AsSpan(at, length).Fill(segs[q + 3]);
                predShift.AsSpan(at, length).Fill(segs[q + 4]);
            }
        }

        /// <summary>
        /// The fold's predecessors as segments, tap by tap (<c>_tapSegments</c>: where each tap's begin): per tap and ofmap row of the fold, the rows whose tap lies
        /// inside the ifmap are painted with the tap's candidates, latest first — candidate q holds the rows
        /// whose column shifted by it stays in the ofmap row and whose row shifted by it stays in the fold,
        /// an interval — and a row keeps the first candidate that holds it; rows no candidate holds have
        /// none.
        /// </summary>
        private void BuildSegments(int n, int rr, int ss)
        {
            int taps = rr * ss, cap = Math.Max(16, 4 * taps);
            Rent(ref _segs, SegmentInts * cap);
            // Two halves of unpainted intervals and a third for the painted parts (Paint).
            int half = 2 * (_maxCandidates + 2), pieceInts = 3 * half;
            Span<int> pieces = pieceInts <= 384 ? stackalloc int[384] : Rent(ref _pieces, pieceInts);
            var painted = pieces.Slice(2 * half, half);
            var st = _candStart!;
            var cLine = _candLine!;
            var cRow = _candRow!;
            var cShift = _candShift!;
            _segCount = 0;
            // Column ox reads x = ox·sw + kc inside the ifmap iff ox < ⌈(W − kc) / sw⌉.
            Span<int> columnsInside = ss <= 64 ? stackalloc int[ss] : new int[ss];
            for (int kc = 0; kc < ss; kc++) columnsInside[kc] = (_w - kc + _sw - 1) / _sw;
            var tapStart = Rent(ref _tapSegments, taps + 1);
            int oy0 = _p0 / _ew, ox0 = _p0 - oy0 * _ew;
            for (int kr = 0, j = 0; kr < rr; kr++)
                for (int kc = 0; kc < ss; kc++, j++)
                {
                    tapStart[j] = _segCount;
                    for (int r = 0, oy = oy0, ox = ox0; r < n; oy++, ox = 0)
                    {
                        int len = Math.Min(n - r, _ew - ox), y0 = oy * _sh, end = r + len;
                        // Rows whose tap lies inside the ifmap.
                        int validEnd = y0 + kr >= _h ? r : r + Math.Clamp(columnsInside[kc] - ox, 0, len);
                        if (validEnd < end) AddSegment(j, validEnd, end - 1, Invalid, 0);
                        // Unpainted intervals [lo, hi), in one half of the scratch array, then the other.
                        int count = 0, from = 0;
                        if (validEnd > r) { pieces[0] = r; pieces[1] = validEnd; count = 1; }
                        for (int q = st[j]; q < st[j + 1] && count > 0; q++)
                        {
                            long lo = Math.Max((long)r - ox - cShift[q], -(long)cRow[q]), hi = Math.Min((long)r - ox + _ew - cShift[q], n - (long)cRow[q]);
                            if (lo >= hi) continue;
                            for (int u = 0, parts = Paint(pieces, ref from, ref count, half, lo, hi, painted); u < parts; u++)
                                AddSegment(j, painted[2 * u], painted[2 * u + 1] - 1, cLine[q], cRow[q]);
                        }
                        for (int u = 0; u < count; u++) AddSegment(j, pieces[from + 2 * u], pieces[from + 2 * u + 1] - 1, NoPredecessor, 0);
                        r = end;
                    }
                }
            tapStart[taps] = _segCount;
        }

        private void AddSegment(int tap, int r1, int r2, int d, int dr) => AppendSegment(ref _segs!, ref _segCount, tap, r1, r2, d, dr);

        /// <summary>Appends a segment (tap, rows r1–r2, line distance d, row offset dr) to <paramref name="segs"/>, doubling it when full.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AppendSegment(ref int[] segs, ref int count, int tap, int r1, int r2, int d, int dr)
        {
            int k = count++;
            if (SegmentInts * (k + 1) > segs.Length)
            {
                var larger = ArrayPool<int>.Shared.Rent(2 * segs.Length);
                Array.Copy(segs, larger, SegmentInts * k);
                ArrayPool<int>.Shared.Return(segs);
                segs = larger;
            }
            int at = SegmentInts * k;
            (segs[at], segs[at + 1], segs[at + 2], segs[at + 3], segs[at + 4]) = (tap, r1, r2, d, dr);
        }

        /// <summary>
        /// Paints rows [lo, hi) over the unpainted row intervals (pairs [start, end)) in pieces[from …] (<paramref name="count"/>
        /// of them): the parts it covers go to <paramref name="painted"/> (pairs; their number is returned), the rest to
        /// the other half of <paramref name="pieces"/>, which <paramref name="from"/> then points at (each half holds
        /// <paramref name="half"/> ints). For painting rows with their earlier readers, latest first.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int Paint(Span<int> pieces, ref int from, ref int count, int half, long lo, long hi, Span<int> painted)
        {
            int to = half - from, kept = 0, parts = 0;
            for (int u = 0; u < count; u++)
            {
                int pl = pieces[from + 2 * u], ph = pieces[from + 2 * u + 1];
                int ml = (int)Math.Max(pl, lo), mh = (int)Math.Min(ph, hi);
                if (ml >= mh) { pieces[to + 2 * kept] = pl; pieces[to + 2 * kept + 1] = ph; kept++; continue; }
                (painted[2 * parts], painted[2 * parts + 1]) = (ml, mh);
                parts++;
                if (pl < ml) { pieces[to + 2 * kept] = pl; pieces[to + 2 * kept + 1] = ml; kept++; }
                if (mh < ph) { pieces[to + 2 * kept] = mh; pieces[to + 2 * kept + 1] = ph; kept++; }
            }
            (from, count) = (to, kept);
            return parts;
        }

        /// <summary>One demand line in SCALE-Sim's order: by array row (OS, WS) or column (IS).</summary>
        private void ExactLine(int t)
        {
            long line = _lineBase + t;
            switch (_g.Flow)
            {
                case SystolicDataflow.OutputStationary:
                {
                    // Array row r reads pixel p0 + r, element t − r.
                    int r0 = Math.Max(0, t - _kCount + 1), r1 = Math.Min(_pCount - 1, t);
                    Diagonal(_p0 + r0, 1, t - r0, -1, r1 - r0 + 1, line);
                    break;
                }
                case SystolicDataflow.WeightStationary:
                {
                    // Array row r reads pixel t − r, element k0 + r.
                    int r0 = Math.Max(0, t - _pCount + 1), r1 = Math.Min(_kCount - 1, t);
                    Diagonal(t - r0, -1, _k0 + r0, 1, r1 - r0 + 1, line);
                    break;
                }
                default:
                    // Array column c reads pixel p0 + c, element k0 + rows − 1 − t.
                    Diagonal(_p0, 1, _k0 + _kCount - 1 - t, 0, _pCount, line);
                    break;
            }
        }

        /// <summary>
        /// n reads in order, the i-th of pixel p + i·dp and element k + i·dk (dp = ±1, dk ∈ {−1, 0, 1}):
        /// the pixel's ofmap position and the element's filter row, column and channel are stepped
        /// rather than divided out per read.
        /// </summary>
        private void Diagonal(int p, int dp, int k, int dk, int n, long line)
        {
            if (n <= 0) return;
            // The layer's sizes and the window's counters in locals: the loop writes the bitset only, and the
            // counters go back to their fields when the window closes and at the end.
            int c = _c, sc = _sc, s = sc / c, ew = _ew, sh = _sh, sw = _sw, h = _h, wd = _w;
            ulong[] win = _win;
            long open = _open, misses = Misses, window = _window;
            int lo = _winLo, hi = _winHi;
            int oy = p / ew, ox = p - oy * ew;
            int kr = k / sc, rest = k - kr * sc, kc = rest / c, ch = rest - kc * c;
            for (int i = 0; ; i++)
            {
                int y = oy * sh + kr, x = ox * sw + kc;
                if (y < h && x < wd)
                {
                    long a = ((long)y * wd + x) * c + ch;
                    int w = (int)(a >> 6);
                    ulong bit = 1UL << (int)(a & 63);
                    if ((win[w] & bit) == 0)
                    {
                        win[w] |= bit;
                        if (w < lo) lo = w;
                        if (w > hi) hi = w;
                        misses++;
                        if (++open == window)
                        {
                            (_open, Misses, _winLo, _winHi) = (open, misses, lo, hi);
                            NoteClose(line, p, k);
                            EmptyWindow();
                            (open, lo, hi) = (_open, _winLo, _winHi);
                        }
                    }
                }
                if (i == n - 1) break;
                p += dp;
                if (dp > 0) { if (++ox == ew) { ox = 0; oy++; } }
                else if (--ox < 0) { ox = ew - 1; oy--; }
                if (dk > 0)
                {
                    k++;
                    if (++ch == c) { ch = 0; if (++kc == s) { kc = 0; kr++; } }
                }
                else if (dk < 0)
                {
                    k--;
                    if (--ch < 0) { ch = c - 1; if (--kc < 0) { kc = s - 1; kr--; } }
                }
            }
            (_open, Misses, _winLo, _winHi) = (open, misses, lo, hi);
        }

        /// <summary>The window closed at read (line, pixel p, element k): what the rest of the replay and the sweep logic keep of it.</summary>
        private void NoteClose(long line, int p, int k)
        {
            _open = 0;
            LastCloseLine = line;
            LastClosePixel = p;
            _foldClose = line - _lineBase;
            CloseLog?.Add((line, p, k));
            _windowRate = (double)_window / Math.Max(1, _sinceClose);
            _sinceClose = 0;
            _foldCap = long.MaxValue;
            Closes++;
            // The window is empty: nothing counted is left in it.
            _geoFrom = -1;
            _lineSkipTried = false;
        }

        public void EmptyWindow()
        {
            if (_winHi >= 0) Array.Clear(_win, _winLo, _winHi - _winLo + 1);
            _winLo = int.MaxValue;
            _winHi = -1;
        }
    }

    /// <summary>
    /// The same count by the plainest possible replay: every demand address in SCALE-Sim's order
    /// through a generation-stamped window. Slow; tests hold the fast path to it.
    /// </summary>
    internal static (long Misses, long LastCloseLine) Reference(in SystolicModel.Geometry g, long window)
    {
        var l = g.L;
        var stamps = new int[l.IfmapWords];
        int generation = 1;
        long open = 0, misses = 0, lastClose = -1;
        void Touch(long p, long k, long line)
        {
            long oy = p / l.OfmapWidth, ox = p % l.OfmapWidth;
            long sc = (long)l.FilterWidth * l.Channels;
            long kr = k / sc, kc = k % sc / l.Channels, ch = k % l.Channels;
            long y = oy * l.StrideHeight + kr, x = ox * l.StrideWidth + kc;
            if (y >= l.IfmapHeight || x >= l.IfmapWidth) return;
            long a = (y * l.IfmapWidth + x) * l.Channels + ch;
            if (stamps[a] == generation) return;
            stamps[a] = generation;
            misses++;
            if (window > 0 && ++open == window) { open = 0; generation++; lastClose = line; }
        }
        long f = 0;
        for (long fc = 0; fc < g.ColFolds; fc++)
            for (long fr = 0; fr < g.RowFolds; fr++, f++)
            {
                long lineBase = f * g.FoldCycles;
                switch (g.Flow)
                {
                    case SystolicDataflow.OutputStationary:
                    {
                        long p0 = fr * g.Ra, ru = g.RowsUsed(fr);
                        for (long t = 0; t < g.K + ru - 1; t++)
                            for (long r = 0; r < ru; r++)
                                if (t - r >= 0 && t - r < g.K) Touch(p0 + r, t - r, lineBase + t);
                        break;
                    }
                    case SystolicDataflow.WeightStationary:
                    {
                        long k0 = fr * g.Ra, ru = g.RowsUsed(fr);
                        for (long t = 0; t < g.FoldCycles; t++)
                            for (long r = 0; r < ru; r++)
                                if (t - r - g.Ra >= 0 && t - r - g.Ra < g.M) Touch(t - r - g.Ra, k0 + r, lineBase + t);
                        break;
                    }
                    default:
                    {
                        long p0 = fc * g.Ca, cu = g.ColsUsed(fc), k0 = fr * g.Ra, ru = g.RowsUsed(fr);
                        for (long t = 0; t < g.Ra; t++)
                        {
                            long row = g.Ra - 1 - t;
                            if (row >= ru) continue;
                            for (long c = 0; c < cu; c++) Touch(p0 + c, k0 + row, lineBase + t);
                        }
                        break;
                    }
                }
            }
        return (misses, lastClose);
    }
}
