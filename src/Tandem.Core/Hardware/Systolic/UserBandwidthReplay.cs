namespace Tandem.Core.Hardware.Systolic;

/// <summary>
/// SCALE-Sim v2's USER-bandwidth memory system, replayed exactly line by line: the ifmap and filter
/// read buffers hold a cyclic window of "sets" cut from the operand's prefetch order, a miss rotates
/// the window (one refill of the prefetch half at the user bandwidth) until the address is present,
/// and the array waits for that refill; the ofmap write buffer drains at the same bandwidth. Unlike
/// CALC mode this needs every demanded address, so it costs O(SRAM accesses) per layer.
/// </summary>
internal static class UserBandwidthReplay
{
    internal struct Outcome
    {
        public long TotalCycles, Stalls, DramIfmap, DramFilter, DramOfmap;
        public long IfStart, IfStop, FStart, FStop, OStart, OStop, DramOfmapStart, DramOfmapStop;
        public long DramIfmapStart, DramIfmapStop, DramFilterStart, DramFilterStop;
    }

    /// <summary>
    /// Whether neither read buffer can ever miss: every set cut from the operand's prefetch order
    /// fits in the active window at once. Then only the write buffer can stall the array.
    /// </summary>
    public static bool ReadsNeverMiss(in SystolicModel.Geometry g, SystolicConfig config) =>
        Fits(config.IfmapSramWords, ValidIfmapSlots(g.L)) && Fits(config.FilterSramWords, g.K * g.N);

    private static bool Fits(long sramWords, long validSlots)
    {
        long activeWords = (sramWords + 1) / 2, perSet = (sramWords + 99) / 100;
        return validSlots / perSet + 1 <= (activeWords + perSet - 1) / perSet;
    }

    /// <summary>Valid (pixel, window element) pairs: the ifmap prefetch order's non-empty slots, each pixel once.</summary>
    private static long ValidIfmapSlots(in SystolicLayerShape l)
    {
        long rows = 0, cols = 0;
        for (long oy = 0; oy < l.OfmapHeight; oy++) rows += Math.Clamp(l.IfmapHeight - oy * l.StrideHeight, 0, l.FilterHeight);
        for (long ox = 0; ox < l.OfmapWidth; ox++) cols += Math.Clamp(l.IfmapWidth - ox * l.StrideWidth, 0, l.FilterWidth);
        return rows * cols * l.Channels;
    }

    /// <summary>DRAM words of the first fill of a read buffer, and the cycle its first line lands.</summary>
    public static (long Words, long StartCycle) FirstFill(long sramWords, long bw, long prefetchSlots)
    {
        long activeWords = (sramWords + 1) / 2, fetchLines = (prefetchSlots + bw - 1) / bw;
        long first = Math.Min((activeWords + bw - 1) / bw, fetchLines);
        return (first * bw, -first);
    }

    /// <summary>Slots (including empty ones) of the ifmap and filter prefetch matrices.</summary>
    public static (long Ifmap, long Filter) PrefetchSlots(in SystolicModel.Geometry g)
    {
        var i = IfmapPrefetch(g);
        var f = FilterPrefetch(g);
        return (i.Rows * i.Cols, f.Rows * f.Cols);
    }

    public static Outcome Run(in SystolicModel.Geometry g, SystolicConfig config)
    {
        long bw = config.DramWordsPerCycle;
        var ifmap = new ReadBuffer(config.IfmapSramWords, bw, g.L.IfmapWords, IfmapPrefetch(g));
        var filter = new ReadBuffer(config.FilterSramWords, bw, g.K * g.N, FilterPrefetch(g));
        var wb = new WriteBufferReplay(config.OfmapSramWords, bw);
        var o = new Outcome { IfStart = -1, FStart = -1, OStart = -1 };
        long stalls = 0, line = 0, lastOut = 0;
        var ifLine = new List<long>(Math.Max(g.Ra, g.Ca));
        var fLine = new List<long>(Math.Max(g.Ra, g.Ca));
        for (long fc = 0; fc < g.ColFolds; fc++)
        {
            for (long fr = 0; fr < g.RowFolds; fr++)
            {
                var (a, h) = g.Flow == SystolicDataflow.OutputStationary ? (g.T - 1 + g.Ra - g.RowsUsed(fr), g.RowsUsed(fr)) : (2L * g.Ra - 1, g.T);
                long cu = g.ColsUsed(fc);
                for (long t = 0; t < g.FoldCycles; t++, line++)
                {
                    long cycle = line + stalls;
                    ifLine.Clear(); fLine.Clear();
                    IfmapLine(g, fc, fr, t, ifLine);
                    FilterLine(g, fc, fr, t, fLine);
                    long ifStall = ifmap.ReadLine(cycle, ifLine);
                    long fStall = filter.ReadLine(cycle, fLine);
                    long j = t - a;
                    long width = j < 0 ? 0 : Math.Max(0, Math.Min(j, cu - 1) - Math.Max(0, j - h + 1) + 1);
                    long oStall = wb.WriteLine(cycle, width);
                    if (ifLine.Count > 0) { if (o.IfStart < 0) o.IfStart = cycle + ifStall + 1; o.IfStop = cycle + ifStall + 1; }
                    if (fLine.Count > 0) { if (o.FStart < 0) o.FStart = cycle + fStall + 1; o.FStop = cycle + fStall + 1; }
                    if (width > 0) { if (o.OStart < 0) o.OStart = cycle + oStall; o.OStop = cycle + oStall; }
                    lastOut = cycle + oStall;
                    stalls += Math.Max(Math.Max(ifStall, fStall), oStall);
                }
            }
        }
        wb.DrainAll(lastOut);
        o.TotalCycles = lastOut;
        o.Stalls = stalls;
        o.DramIfmap = ifmap.Accesses;
        o.DramFilter = filter.Accesses;
        o.DramOfmap = wb.Accesses;
        o.DramIfmapStart = ifmap.FirstDramCycle;
        o.DramIfmapStop = ifmap.LastDramCycle;
        o.DramFilterStart = filter.FirstDramCycle;
        o.DramFilterStop = filter.LastDramCycle;
        o.DramOfmapStart = wb.FirstDrainCycle;
        o.DramOfmapStop = wb.LastDrainCycle;
        return o;
    }

    private static void IfmapLine(in SystolicModel.Geometry g, long fc, long fr, long t, List<long> into)
    {
        switch (g.Flow)
        {
            case SystolicDataflow.OutputStationary:
            {
                long p0 = fr * g.Ra, ru = g.RowsUsed(fr);
                for (long r = 0; r < ru; r++)
                {
                    long k = t - r;
                    if (k >= 0 && k < g.K) Add(g, p0 + r, k, into);
                }
                break;
            }
            case SystolicDataflow.WeightStationary:
            {
                long k0 = fr * g.Ra, ru = g.RowsUsed(fr);
                for (long r = 0; r < ru; r++)
                {
                    long p = t - r - g.Ra;
                    if (p >= 0 && p < g.M) Add(g, p, k0 + r, into);
                }
                break;
            }
            default:
            {
                if (t >= g.Ra) break;
                long row = g.Ra - 1 - t, ru = g.RowsUsed(fr);
                if (row >= ru) break;
                long p0 = fc * g.Ca, cu = g.ColsUsed(fc);
                for (long c = 0; c < cu; c++) Add(g, p0 + c, fr * g.Ra + row, into);
                break;
            }
        }
    }

    private static void FilterLine(in SystolicModel.Geometry g, long fc, long fr, long t, List<long> into)
    {
        switch (g.Flow)
        {
            case SystolicDataflow.OutputStationary:
            {
                long n0 = fc * g.Ca, cu = g.ColsUsed(fc);
                for (long c = 0; c < cu; c++)
                {
                    long k = t - c;
                    if (k >= 0 && k < g.K) into.Add((n0 + c) * g.K + k);
                }
                break;
            }
            case SystolicDataflow.WeightStationary:
            {
                if (t >= g.Ra) break;
                long row = g.Ra - 1 - t, ru = g.RowsUsed(fr);
                if (row >= ru) break;
                long n0 = fc * g.Ca, cu = g.ColsUsed(fc), k = fr * g.Ra + row;
                for (long c = 0; c < cu; c++) into.Add((n0 + c) * g.K + k);
                break;
            }
            default:
            {
                long k0 = fr * g.Ra, ru = g.RowsUsed(fr);
                for (long r = 0; r < ru; r++)
                {
                    long n = t - r - g.Ra;
                    if (n >= 0 && n < g.N) into.Add(n * g.K + k0 + r);
                }
                break;
            }
        }
    }

    private static void Add(in SystolicModel.Geometry g, long p, long k, List<long> into)
    {
        if (IfmapAddress(g, p, k) is long a and >= 0) into.Add(a);
    }

    /// <summary>Ifmap address of window element k of pixel p, or −1 outside the ifmap.</summary>
    private static long IfmapAddress(in SystolicModel.Geometry g, long p, long k)
    {
        var l = g.L;
        long oy = p / l.OfmapWidth, ox = p % l.OfmapWidth;
        long sc = (long)l.FilterWidth * l.Channels;
        long kr = k / sc, kc = k % sc / l.Channels, ch = k % l.Channels;
        long y = oy * l.StrideHeight + kr, x = ox * l.StrideWidth + kc;
        if (y >= l.IfmapHeight || x >= l.IfmapWidth) return -1;
        return (y * l.IfmapWidth + x) * l.Channels + ch;
    }

    /// <summary>The operand's prefetch matrix: its shape, how to read one element, and whether SCALE-Sim rolls it out by anti-diagonals.</summary>
    private readonly record struct Prefetch(long Rows, long Cols, bool Diagonal, Func<long, long, long> Element);

    private static Prefetch IfmapPrefetch(SystolicModel.Geometry g) => g.Flow switch
    {
        // Row folds stacked: fold i/T, window element i%T, pixel fold·Ra + c.
        SystolicDataflow.OutputStationary => new(g.RowFolds * g.K, g.Ra, true, (i, c) =>
        {
            long fr = i / g.K, p = fr * g.Ra + c;
            return c < g.RowsUsed(fr) ? IfmapAddress(g, p, i % g.K) : -1;
        }),
        SystolicDataflow.WeightStationary => new(g.RowFolds * g.M, g.Ra, true, (i, c) =>
        {
            long fr = i / g.M;
            return c < g.RowsUsed(fr) ? IfmapAddress(g, i % g.M, fr * g.Ra + c) : -1;
        }),
        _ => new(g.ColFolds * g.K, g.Ca, false, (i, c) =>
        {
            long fc = i / g.K;
            return c < g.ColsUsed(fc) ? IfmapAddress(g, fc * g.Ca + c, i % g.K) : -1;
        }),
    };

    private static Prefetch FilterPrefetch(SystolicModel.Geometry g) => g.Flow switch
    {
        SystolicDataflow.OutputStationary => new(g.ColFolds * g.K, g.Ca, true, (i, c) =>
        {
            long fc = i / g.K;
            return c < g.ColsUsed(fc) ? (fc * g.Ca + c) * g.K + i % g.K : -1;
        }),
        SystolicDataflow.WeightStationary => new(g.ColFolds * g.K, g.Ca, false, (i, c) =>
        {
            long fc = i / g.K;
            return c < g.ColsUsed(fc) ? (fc * g.Ca + c) * g.K + i % g.K : -1;
        }),
        _ => new(g.RowFolds * g.N, g.Ra, true, (i, c) =>
        {
            long fr = i / g.N;
            return c < g.RowsUsed(fr) ? (i % g.N) * g.K + fr * g.Ra + c : -1;
        }),
    };

    /// <summary>
    /// SCALE-Sim's USER read buffer. The prefetch order, minus empty slots, is cut into sets of
    /// ⌈words/100⌉ elements; the active window holds ⌈active half / set⌉ sets and a miss advances it
    /// by the prefetch half's sets. DRAM reads count whole lines of the bandwidth: the first fill of
    /// the active half, then one prefetch half per rotation, padding included.
    /// </summary>
    private sealed class ReadBuffer
    {
        private readonly long _sets, _active, _advance, _refillLines;
        private readonly int[] _offsets, _setIds;
        private long _windowStart, _lastPrefetchCycle;
        public long Accesses { get; private set; }

        public ReadBuffer(long sramWords, long bw, long addressSpace, Prefetch prefetch)
        {
            long activeWords = (sramWords + 1) / 2, prefetchWords = sramWords - activeWords;
            long perSet = (sramWords + 99) / 100;
            long slots = prefetch.Rows * prefetch.Cols;
            long fetchLines = (slots + bw - 1) / bw;

            _offsets = new int[checked((int)addressSpace + 1)];
            long valid = 0;
            Walk(prefetch, a => { _offsets[a + 1]++; valid++; });
            for (long i = 0; i < addressSpace; i++) _offsets[i + 1] += _offsets[i];
            _setIds = new int[checked((int)valid)];
            var fill = (int[])_offsets.Clone();
            long index = 0;
            Walk(prefetch, a => _setIds[fill[a]++] = (int)(index++ / perSet));

            _sets = valid / perSet + 1;
            _active = Math.Min(_sets, (activeWords + perSet - 1) / perSet);
            _advance = Math.Min(_sets - _active, (prefetchWords + perSet - 1) / perSet);
            _refillLines = (prefetchWords + bw - 1) / bw;
            _bandwidth = bw;

            long first = Math.Min((activeWords + bw - 1) / bw, fetchLines);
            Accesses = first * bw;
            FirstDramCycle = -first;
            _lastPrefetchCycle = -1;
        }

        private readonly long _bandwidth;
        public long FirstDramCycle { get; }
        public long LastDramCycle => _lastPrefetchCycle;

        private static void Walk(Prefetch p, Action<long> visit)
        {
            if (!p.Diagonal)
            {
                for (long i = 0; i < p.Rows; i++)
                    for (long c = 0; c < p.Cols; c++)
                        if (p.Element(i, c) is long a and >= 0) visit(a);
                return;
            }
            for (long d = 0; d < p.Rows + p.Cols - 1; d++)
            {
                long hi = Math.Min(d, p.Rows - 1), lo = Math.Max(0, d - p.Cols + 1);
                for (long i = hi; i >= lo; i--)
                    if (p.Element(i, d - i) is long a and >= 0) visit(a);
            }
        }

        private bool Hit(long address)
        {
            for (int i = _offsets[address]; i < _offsets[address + 1]; i++)
            {
                long s = _setIds[i];
                if (((s - _windowStart) % _sets + _sets) % _sets < _active) return true;
            }
            return false;
        }

        /// <summary>Serves one demand line at <paramref name="cycle"/>; returns the cycles it stalled.</summary>
        public long ReadLine(long cycle, List<long> addresses)
        {
            long offset = 1;
            foreach (long a in addresses)
            {
                while (!Hit(a))
                {
                    _windowStart = (_windowStart + _advance) % _sets;
                    Accesses += _refillLines * _bandwidth;
                    _lastPrefetchCycle += _refillLines + 1;
                    long potential = _lastPrefetchCycle - (cycle + offset);
                    // The array waits only for a refill that lands after it needs the data.
                    if (potential > 0) offset += potential;
                }
            }
            return offset - 1;
        }
    }
}
