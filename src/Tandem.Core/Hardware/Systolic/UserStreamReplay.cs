namespace Tandem.Core.Hardware.Systolic;

/// <summary>
/// SCALE-Sim v2's USER-bandwidth memory system (the same model as <see cref="UserBandwidthReplay"/>)
/// replayed by events instead of by address, for layers in which every ifmap word appears at most
/// once in the ifmap prefetch order and every prefetch slot of a used array column holds a word:
/// windows of different pixels do not overlap and none runs past the ifmap (1×1 and
/// stride ≥ kernel convolutions, GEMMs, fully connected layers). Filter words always appear once.
/// <para>
/// Then a demanded word hits exactly when the prefetch set of its one slot is in the buffer's window,
/// and every demand line reads a contiguous range of prefetch positions: a prefix of one
/// anti-diagonal of the prefetch matrix for a streamed operand (lines of a fold move forward through
/// the diagonals), one matrix row for a stationary operand. So a line is served set by set rather than
/// word by word, and runs of lines whose sets all lie in both windows, with ofmap widths changing by
/// at most one word per line, go through the write buffer in bulk. Work per layer is of the order of
/// folds × (ofmap width segments + log lines) plus the buffer rotations, not SRAM accesses.
/// </para>
/// </summary>
internal static class UserStreamReplay
{
    /// <summary>
    /// Whether the layer's ifmap prefetch order holds every word at most once (windows of different
    /// pixels do not overlap) and, unless the whole ifmap fits the read buffer's window (then it never
    /// misses and positions are not needed), has no empty slot in a used column (no window runs past
    /// the ifmap).
    /// </summary>
    public static bool Applies(in SystolicModel.Geometry g, SystolicConfig config)
    {
        var l = g.L;
        bool rows = l.OfmapHeight == 1 || l.FilterHeight <= l.StrideHeight;
        bool cols = l.OfmapWidth == 1 || l.FilterWidth <= l.StrideWidth;
        if (!rows || !cols) return false;
        if (AllInside(l)) return true;
        var m = IfmapMatrix(g);
        return new Buffer(config.IfmapSramWords, 1, m.Rows * m.Cols, new IfmapStream(g).PerSweep).NeverMisses;
    }

    private static bool AllInside(in SystolicLayerShape l) =>
        (long)(l.OfmapHeight - 1) * l.StrideHeight + l.FilterHeight <= l.IfmapHeight
        && (long)(l.OfmapWidth - 1) * l.StrideWidth + l.FilterWidth <= l.IfmapWidth;

    public static UserBandwidthReplay.Outcome Run(in SystolicModel.Geometry g, SystolicConfig config)
    {
        long bw = config.DramWordsPerCycle;
        var ifm = IfmapMatrix(g);
        var fil = FilterMatrix(g);
        var ib = new Buffer(config.IfmapSramWords, bw, ifm.Rows * ifm.Cols, AllInside(g.L) ? ifm.Filled : new IfmapStream(g).PerSweep);
        var fb = new Buffer(config.FilterSramWords, bw, fil.Rows * fil.Cols, fil.Filled);
        var wb = new WriteBufferReplay(config.OfmapSramWords, bw);
        var o = new UserBandwidthReplay.Outcome();
        // The first and last lines that read or write each operand (the demand lines are CALC's)
        // are taken one by one, so that batches never need to know where their reads start or stop.
        var (ifFirst, ifLast) = SystolicModel.IfmapSramSpan(g);
        var (fFirst, fLast) = SystolicModel.FilterSramSpan(g);
        var (oFirst, oLast) = SystolicModel.OfmapSramSpan(g);
        (ifFirst, ifLast, fFirst, fLast) = (ifFirst - 1, ifLast - 1, fFirst - 1, fLast - 1);
        long[] marks = [ifFirst, ifLast, fFirst, fLast, oFirst, oLast];
        Array.Sort(marks);
        int mark = 0;
        bool ifMisses = !ib.NeverMisses, fMisses = !fb.NeverMisses;
        long stalls = 0, lastOut = 0;
        for (long fc = 0, fold = 0; fc < g.ColFolds; fc++)
        {
            long cu = g.ColsUsed(fc);
            for (long fr = 0; fr < g.RowFolds; fr++, fold++)
            {
                long ru = g.RowsUsed(fr);
                var ifl = IfmapLines(g, ifm, fc, fr);
                var fl = FilterLines(g, fil, fc, fr);
                var (a, h) = g.Flow == SystolicDataflow.OutputStationary ? (g.T - 1 + g.Ra - ru, ru) : (2L * g.Ra - 1, g.T);
                var ofl = new OfmapLines(a, h, cu);
                long lineBase = fold * g.FoldCycles;
                // A stationary operand's whole load of the fold is one position range, checked once.
                bool ifQuiet = !ifMisses || (ifl.Stationary && ib.Covers(ifl.BlockLo, ifl.BlockHi));
                bool fQuiet = !fMisses || (fl.Stationary && fb.Covers(fl.BlockLo, fl.BlockHi));
                long t = 0;
                while (t < g.FoldCycles)
                {
                    long line = lineBase + t;
                    while (mark < marks.Length && marks[mark] < line) mark++;
                    bool marked = mark < marks.Length && marks[mark] == line;
                    // The batch [t, e) has ofmap widths w0 + step·i and no read misses.
                    var (w0, step, e) = ofl.Segment(t, g.FoldCycles);
                    if (mark < marks.Length) e = Math.Min(e, marks[mark] - lineBase);
                    bool readsIf = ifMisses && ifl.Reads(t), readsF = fMisses && fl.Reads(t);
                    if (ifMisses)
                    {
                        e = Math.Min(e, ifl.SameUntil(t));
                        if (readsIf) e = Math.Min(e, ifl.Stationary ? (ifQuiet ? e : t) : ifl.NextMiss(ib, t, e));
                    }
                    if (fMisses)
                    {
                        e = Math.Min(e, fl.SameUntil(t));
                        if (readsF) e = Math.Min(e, fl.Stationary ? (fQuiet ? e : t) : fl.NextMiss(fb, t, e));
                    }
                    if (e <= t || marked)
                    {
                        // One line exactly: each read buffer serves its sets in order, rotating on misses.
                        long cycle = line + stalls;
                        long ifStall = 0, fStall = 0;
                        if (readsIf)
                        {
                            var (lo, hi) = ifl.Range(t);
                            ifStall = ib.Serve(cycle, lo, hi);
                            if (ifl.Stationary) ifQuiet = ib.Covers(ifl.BlockLo, ifl.BlockHi);
                        }
                        if (readsF)
                        {
                            var (lo, hi) = fl.Range(t);
                            fStall = fb.Serve(cycle, lo, hi);
                            if (fl.Stationary) fQuiet = fb.Covers(fl.BlockLo, fl.BlockHi);
                        }
                        long oStall = wb.WriteLine(cycle, w0);
                        if (line == ifFirst) o.IfStart = cycle + ifStall + 1;
                        if (line == ifLast) o.IfStop = cycle + ifStall + 1;
                        if (line == fFirst) o.FStart = cycle + fStall + 1;
                        if (line == fLast) o.FStop = cycle + fStall + 1;
                        if (line == oFirst) o.OStart = cycle + oStall;
                        if (line == oLast) o.OStop = cycle + oStall;
                        lastOut = cycle + oStall;
                        stalls += Math.Max(Math.Max(ifStall, fStall), oStall);
                        t++;
                        continue;
                    }
                    long n = e - t, firstCycle = line + stalls;
                    long added = wb.WriteLinesFrom(firstCycle, n, w0, step);
                    lastOut = firstCycle + n - 1 + added; // the last line's cycle plus its own stall
                    stalls += added;
                    t = e;
                }
            }
        }
        wb.DrainAll(lastOut);
        o.TotalCycles = lastOut;
        o.Stalls = stalls;
        o.DramIfmap = ib.Accesses;
        o.DramFilter = fb.Accesses;
        o.DramOfmap = wb.Accesses;
        o.DramIfmapStart = ib.FirstDramCycle;
        o.DramIfmapStop = ib.LastPrefetchCycle;
        o.DramFilterStart = fb.FirstDramCycle;
        o.DramFilterStop = fb.LastPrefetchCycle;
        o.DramOfmapStart = wb.FirstDrainCycle;
        o.DramOfmapStop = wb.LastDrainCycle;
        return o;
    }

    // ---------------------------------------------------------------- prefetch matrices

    /// <summary>
    /// A prefetch matrix of <see cref="Rows"/> × <see cref="Cols"/> slots, rolled out by
    /// anti-diagonals (each from its highest row down) or by rows; rows from <see cref="LastStart"/>
    /// on belong to the last fold, which uses only its first <see cref="Used"/> columns. Every other
    /// slot holds a word. Positions count filled slots in rollout order.
    /// </summary>
    internal readonly record struct Matrix(long Rows, long Cols, long LastStart, long Used, bool Diagonal)
    {
        public long Filled => Rows * Cols - (Rows - LastStart) * (Cols - Used);

        /// <summary>Position of the filled slot (i, c).</summary>
        public long Position(long i, long c)
        {
            if (!Diagonal) return i * Cols + c - Math.Max(0, i - LastStart) * (Cols - Used);
            long d = i + c;
            long before = Below(Rows, Cols, d) - Below(Rows - LastStart, Cols - Used, d - LastStart - Used);
            // Slots of diagonal d before column c, less the empty ones (columns ≥ Used of last-fold rows).
            long lo = Math.Max(0, d - Rows + 1);
            long empty = Math.Max(0, Math.Min(c, d - LastStart + 1) - Math.Max(Used, lo));
            return before + (c - lo) - empty;
        }

        /// <summary>Slots (i, c) of an r × w rectangle with i + c &lt; d.</summary>
        private static long Below(long r, long w, long d) => Tri(d) - Tri(d - r) - Tri(d - w) + Tri(d - r - w);

        private static long Tri(long x) => x > 0 ? x * (x + 1) / 2 : 0;
    }

    private static Matrix IfmapMatrix(in SystolicModel.Geometry g) => g.Flow switch
    {
        // Slot (fr·K + k, c): element k of pixel fr·Ra + c.
        SystolicDataflow.OutputStationary => new(g.RowFolds * g.K, g.Ra, (g.RowFolds - 1) * g.K, g.RowsUsed(g.RowFolds - 1), true),
        // Slot (fr·M + p, c): element fr·Ra + c of pixel p.
        SystolicDataflow.WeightStationary => new(g.RowFolds * g.M, g.Ra, (g.RowFolds - 1) * g.M, g.RowsUsed(g.RowFolds - 1), true),
        // Slot (fc·K + k, c): element k of pixel fc·Ca + c.
        _ => new(g.ColFolds * g.K, g.Ca, (g.ColFolds - 1) * g.K, g.ColsUsed(g.ColFolds - 1), false),
    };

    private static Matrix FilterMatrix(in SystolicModel.Geometry g) => g.Flow switch
    {
        // Slot (fc·K + k, c): element k of filter fc·Ca + c.
        SystolicDataflow.OutputStationary => new(g.ColFolds * g.K, g.Ca, (g.ColFolds - 1) * g.K, g.ColsUsed(g.ColFolds - 1), true),
        SystolicDataflow.WeightStationary => new(g.ColFolds * g.K, g.Ca, (g.ColFolds - 1) * g.K, g.ColsUsed(g.ColFolds - 1), false),
        // Slot (fr·N + n, c): element fr·Ra + c of filter n.
        _ => new(g.RowFolds * g.N, g.Ra, (g.RowFolds - 1) * g.N, g.RowsUsed(g.RowFolds - 1), true),
    };

    // ---------------------------------------------------------------- demand lines of one fold

    /// <summary>
    /// One operand's demand lines in one fold. Streamed: line t reads columns
    /// [max(0, u − B + 1), min(used − 1, u)] of anti-diagonal RowBase + u, u = t − Offset, for
    /// u in [0, B + used − 1). Stationary: line t in [Ra − used, Ra) reads the first Width columns of
    /// row RowBase + Ra − 1 − t.
    /// </summary>
    private readonly struct FoldLines
    {
        private readonly Matrix _m;
        private readonly long _rowBase, _b, _used, _offset, _width, _ra;
        public readonly bool Stationary;
        public readonly long From, To, BlockLo, BlockHi;

        private FoldLines(Matrix m, bool stationary, long rowBase, long b, long used, long offset, long width, long ra)
        {
            (_m, Stationary, _rowBase, _b, _used, _offset, _width, _ra) = (m, stationary, rowBase, b, used, offset, width, ra);
            if (stationary)
            {
                (From, To) = (ra - used, ra);
                BlockLo = m.Position(rowBase, 0);
                BlockHi = m.Position(rowBase + used - 1, 0) + width - 1;
            }
            else
            {
                (From, To) = (offset, offset + b + used - 1);
            }
        }

        public static FoldLines Streamed(Matrix m, long rowBase, long b, long used, long offset) => new(m, false, rowBase, b, used, offset, 0, 0);
        public static FoldLines Held(Matrix m, long rowBase, long used, long width, long ra) => new(m, true, rowBase, 0, used, 0, width, ra);

        public bool Reads(long t) => t >= From && t < To;

        /// <summary>The first line after t at which <see cref="Reads"/> changes.</summary>
        public long SameUntil(long t) => t < From ? From : t < To ? To : long.MaxValue;

        /// <summary>Positions read by line t (which reads).</summary>
        public (long Lo, long Hi) Range(long t)
        {
            if (Stationary)
            {
                long lo = _m.Position(_rowBase + _ra - 1 - t, 0);
                return (lo, lo + _width - 1);
            }
            long u = t - _offset, c1 = Math.Max(0, u - _b + 1), c2 = Math.Min(_used - 1, u), d = _rowBase + u;
            long p = _m.Position(d - c1, c1);
            return (p, p + c2 - c1);
        }

        /// <summary>
        /// First line in [t, limit) of a streamed operand that would miss: lines move forward through
        /// the prefetch order, so it is the first whose last position passes the window's end.
        /// </summary>
        public long NextMiss(in Buffer b, long t, long limit)
        {
            var (lo, hi) = Range(t);
            if (!b.Covers(lo, hi)) return t;
            long end = b.WindowEndFrom(lo);
            long a = t + 1, z = Math.Min(limit, To);
            // Smallest line in [a, z) whose last position exceeds end, or z.
            while (a < z)
            {
                long mid = a + (z - a) / 2;
                if (Range(mid).Hi > end) z = mid; else a = mid + 1;
            }
            return a;
        }
    }

    private static FoldLines IfmapLines(in SystolicModel.Geometry g, Matrix m, long fc, long fr) => g.Flow switch
    {
        SystolicDataflow.OutputStationary => FoldLines.Streamed(m, fr * g.K, g.K, g.RowsUsed(fr), 0),
        SystolicDataflow.WeightStationary => FoldLines.Streamed(m, fr * g.M, g.M, g.RowsUsed(fr), g.Ra),
        _ => FoldLines.Held(m, fc * g.K + fr * g.Ra, g.RowsUsed(fr), g.ColsUsed(fc), g.Ra),
    };

    private static FoldLines FilterLines(in SystolicModel.Geometry g, Matrix m, long fc, long fr) => g.Flow switch
    {
        SystolicDataflow.OutputStationary => FoldLines.Streamed(m, fc * g.K, g.K, g.ColsUsed(fc), 0),
        SystolicDataflow.WeightStationary => FoldLines.Held(m, fc * g.K + fr * g.Ra, g.RowsUsed(fr), g.ColsUsed(fc), g.Ra),
        _ => FoldLines.Streamed(m, fr * g.N, g.N, g.RowsUsed(fr), g.Ra),
    };

    /// <summary>
    /// Ofmap words per line of a fold: line a + j carries min(j, cols − 1) − max(0, j − h + 1) + 1
    /// words for j in [0, h + cols − 1): a ramp up by one word per line, a plateau, a ramp down.
    /// </summary>
    private readonly record struct OfmapLines(long A, long H, long Cols)
    {
        /// <summary>Width of line t, its change per line, and the end of that linear segment.</summary>
        public (long Width, long Step, long End) Segment(long t, long lines)
        {
            long span = H + Cols - 1, plateau = Math.Min(H, Cols), j = t - A;
            if (j < 0) return (0, 0, A);
            if (j >= span) return (0, 0, lines);
            if (j < plateau - 1) return (j + 1, 1, A + plateau - 1);
            if (j < span - plateau + 1) return (plateau, 0, A + span - plateau + 1);
            return (span - j, -1, A + span);
        }
    }

    // ---------------------------------------------------------------- read buffer

    /// <summary>
    /// SCALE-Sim's USER read buffer over positions of the prefetch order: sets of ⌈words/100⌉
    /// positions, a cyclic window of ⌈active half/set⌉ sets that a miss advances by the prefetch
    /// half's sets, one refill of ⌈prefetch half/b⌉ lines landing lines + 1 cycles after the last.
    /// </summary>
    internal struct Buffer
    {
        private readonly long _sets, _active, _advance, _refillLines, _bandwidth, _perSet;
        private long _start;
        public long Accesses, LastPrefetchCycle;
        public readonly long FirstDramCycle;

        /// <param name="slots">Slots of the prefetch matrix, empty ones included.</param>
        /// <param name="filled">Slots holding a word.</param>
        public Buffer(long sramWords, long bw, long slots, long filled)
        {
            long activeWords = (sramWords + 1) / 2, prefetchWords = sramWords - activeWords;
            _perSet = (sramWords + 99) / 100;
            long fetchLines = (slots + bw - 1) / bw;
            _sets = filled / _perSet + 1;
            _active = Math.Min(_sets, (activeWords + _perSet - 1) / _perSet);
            _advance = Math.Min(_sets - _active, (prefetchWords + _perSet - 1) / _perSet);
            _refillLines = (prefetchWords + bw - 1) / bw;
            _bandwidth = bw;
            long first = Math.Min((activeWords + bw - 1) / bw, fetchLines);
            Accesses = first * bw;
            FirstDramCycle = -first;
            LastPrefetchCycle = -1;
        }

        /// <summary>Whether the window holds every set at once.</summary>
        public readonly bool NeverMisses => _active >= _sets;

        private readonly long Offset(long set)
        {
            long o = set - _start;
            return o < 0 ? o + _sets : o;
        }

        /// <summary>Whether every position in [lo, hi] is in the window.</summary>
        public readonly bool Covers(long lo, long hi)
        {
            long a = Offset(lo / _perSet), b = Offset(hi / _perSet);
            return a < _active && b < _active && b - a == hi / _perSet - lo / _perSet;
        }

        /// <summary>The last position of the window's run of sets that starts at <paramref name="lo"/>'s set (in the window).</summary>
        public readonly long WindowEndFrom(long lo)
        {
            long s = lo / _perSet, last = Math.Min(_sets - 1, s + _active - 1 - Offset(s));
            return (last + 1) * _perSet - 1;
        }

        /// <summary>Serves positions lo..hi, in order, on a line at <paramref name="cycle"/>; returns its stall.</summary>
        public long Serve(long cycle, long lo, long hi)
        {
            long offset = 1, s = lo / _perSet, sEnd = hi / _perSet;
            while (s <= sEnd)
            {
                while (Offset(s) >= _active)
                {
                    _start = (_start + _advance) % _sets;
                    Accesses += _refillLines * _bandwidth;
                    LastPrefetchCycle += _refillLines + 1;
                    long potential = LastPrefetchCycle - (cycle + offset);
                    // The array waits only for a refill that lands after it needs the data.
                    if (potential > 0) offset += potential;
                }
                s += _active - Offset(s);
            }
            return offset - 1;
        }
    }
}
