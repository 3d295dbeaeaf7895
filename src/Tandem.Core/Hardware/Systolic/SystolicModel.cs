using System.Buffers;

namespace Tandem.Core.Hardware.Systolic;

/// <summary>
/// The per-layer systolic-array model, exact against SCALE-Sim v2 in CALC mode. Cycles, SRAM counts,
/// utilisation and mapping efficiency are closed forms over the folds of the mapping; filter DRAM
/// reads are a closed form over SCALE-Sim's window of prefetch sets; ofmap DRAM writes come from an
/// exact run-length replay of its write buffer (no per-cycle work); ifmap DRAM reads are a closed
/// form when the touched ifmap fits the prefetch window and otherwise an exact replay of the ifmap
/// address stream through that window. See docs/systolic-model.md for every formula.
/// Pure and thread-safe: all scratch memory is rented per call.
/// </summary>
public static class SystolicModel
{
    /// <summary>Evaluates one layer on one array configuration.</summary>
    public static SystolicLayerResult Evaluate(in SystolicLayerShape layer, SystolicConfig config)
    {
        var g = new Geometry(layer, config);
        long totalLines = g.Folds * g.FoldCycles;

        // SRAM reads and writes per operand: what the compute demand matrices carry, summed over folds.
        long M = layer.M, K = layer.K, N = layer.N;
        long sramIfmap, sramFilter, sramOfmap;
        switch (config.Dataflow)
        {
            case SystolicDataflow.OutputStationary:
                sramIfmap = M * K * g.ColFolds;
                sramFilter = K * N * g.RowFolds;
                // SCALE-Sim v2 adds rows + columns of the padded fold to its OS ofmap count on every fold.
                sramOfmap = M * N + g.Folds * (g.Ra + g.Ca);
                break;
            case SystolicDataflow.WeightStationary:
                sramIfmap = M * K * g.ColFolds;
                sramFilter = K * N;
                sramOfmap = M * N * g.RowFolds;
                break;
            default:
                sramIfmap = M * K;
                sramFilter = K * N * g.ColFolds;
                sramOfmap = M * N * g.RowFolds;
                break;
        }

        // The per-fold averages SCALE-Sim reports: used PEs over all PEs, and MACs over PE-cycles of
        // the fold's own (unskewed) demand matrix; both factor because Σ rows_used·cols_used = Sr·Sc.
        double peCount = (double)g.Ra * g.Ca;
        double mappingEff = (double)g.Sr * g.Sc / (g.Folds * peCount);
        long utilCycles = config.Dataflow == SystolicDataflow.OutputStationary
            ? g.T + g.Ra + g.Ca - 2
            : g.T + 2L * g.Ra + 2L * g.Ca - 3;
        double computeUtil = (double)g.Sr * g.Sc * g.T / (g.Folds * peCount * utilCycles);

        long ifWindow = Window(config.IfmapSramWords), fWindow = Window(config.FilterSramWords);
        var (dramFilter, filterClose) = FilterDramReads(g, fWindow);
        var (dramIfmap, ifmapClose) = IfmapDramReads(g, ifWindow);

        // CALC drains the ofmap one array row (Columns words) per cycle, so writes can never stall.
        var wb = new WriteBufferReplay(config.OfmapSramWords, config.Columns);
        ReplayOfmap(g, ref wb);
        long stalls = wb.Stalls;
        long lastLineCycle = totalLines - 1 + stalls;
        wb.DrainAll(lastLineCycle);

        long totalCycles = lastLineCycle;
        var (ifStart, ifStop) = IfmapSramSpan(g);
        var (fStart, fStop) = FilterSramSpan(g);
        var (oStart, oStop) = OfmapSramSpan(g);
        // CALC reads never stall, so a request's line is its SRAM service cycle minus the hit latency.
        var (difStart, difStop) = CalcReadDramSpan(dramIfmap, ifWindow, ifStart - 1, ifmapClose, config.IfmapSramWords);
        var (dfStart, dfStop) = CalcReadDramSpan(dramFilter, fWindow, fStart - 1, filterClose, config.FilterSramWords);

        var result = new SystolicLayerResult
        {
            TotalCycles = totalCycles,
            StallCycles = stalls,
            OverallUtilPct = layer.Macs * 100.0 / (totalCycles * peCount),
            MappingEfficiencyPct = mappingEff * 100,
            ComputeUtilPct = computeUtil * 100,
            Macs = layer.Macs,
            Folds = g.Folds,
            SramIfmapReads = sramIfmap,
            SramFilterReads = sramFilter,
            SramOfmapWrites = sramOfmap,
            DramIfmapReads = dramIfmap,
            DramFilterReads = dramFilter,
            DramOfmapWrites = wb.Accesses,
            SramIfmapStartCycle = ifStart,
            SramIfmapStopCycle = ifStop,
            SramFilterStartCycle = fStart,
            SramFilterStopCycle = fStop,
            SramOfmapStartCycle = oStart,
            SramOfmapStopCycle = oStop,
            DramIfmapStartCycle = difStart,
            DramIfmapStopCycle = difStop,
            DramFilterStartCycle = dfStart,
            DramFilterStopCycle = dfStop,
            DramOfmapStartCycle = wb.FirstDrainCycle,
            DramOfmapStopCycle = wb.LastDrainCycle,
        };
        if (config.BandwidthMode == SystolicBandwidthMode.Calc) return result;
        if (UserBandwidthReplay.ReadsNeverMiss(g, config)) return UserWithoutReadMisses(g, config, result, peCount);

        var u = UserStreamReplay.Applies(g, config) ? UserStreamReplay.Run(g, config) : UserBandwidthReplay.Run(g, config);
        return result with
        {
            TotalCycles = u.TotalCycles,
            StallCycles = u.Stalls,
            OverallUtilPct = layer.Macs * 100.0 / (u.TotalCycles * peCount),
            DramIfmapReads = u.DramIfmap,
            DramFilterReads = u.DramFilter,
            DramOfmapWrites = u.DramOfmap,
            SramIfmapStartCycle = u.IfStart,
            SramIfmapStopCycle = u.IfStop,
            SramFilterStartCycle = u.FStart,
            SramFilterStopCycle = u.FStop,
            SramOfmapStartCycle = u.OStart,
            SramOfmapStopCycle = u.OStop,
            DramIfmapStartCycle = u.DramIfmapStart,
            DramIfmapStopCycle = u.DramIfmapStop,
            DramFilterStartCycle = u.DramFilterStart,
            DramFilterStopCycle = u.DramFilterStop,
            DramOfmapStartCycle = u.DramOfmapStart,
            DramOfmapStopCycle = u.DramOfmapStop,
        };
    }

    /// <summary>
    /// USER mode when both read buffers hold their whole operand: reads never stall, so the demand
    /// lines keep their CALC positions shifted by the write stalls before them, DRAM reads are the
    /// first fill, and only the write buffer (draining at the user bandwidth) needs replaying.
    /// </summary>
    private static SystolicLayerResult UserWithoutReadMisses(in Geometry g, SystolicConfig config, in SystolicLayerResult calc, double peCount)
    {
        var wb = new WriteBufferReplay(config.OfmapSramWords, config.DramWordsPerCycle);
        ReplayOfmap(g, ref wb);
        long totalLines = g.Folds * g.FoldCycles, stalls = wb.Stalls, total = totalLines - 1 + stalls;
        wb.DrainAll(total);
        long bw = config.DramWordsPerCycle;
        var (ifSlots, fSlots) = UserBandwidthReplay.PrefetchSlots(g);
        var (ifWords, ifStart) = UserBandwidthReplay.FirstFill(config.IfmapSramWords, bw, ifSlots);
        var (fWords, fStart) = UserBandwidthReplay.FirstFill(config.FilterSramWords, bw, fSlots);
        // A read served at line L (cycle L + 1 in CALC) now waits for the write stalls of earlier lines.
        long Read(long calcCycle) => calcCycle + wb.StallsThrough(calcCycle - 2);
        long Write(long calcCycle) => calcCycle + wb.StallsThrough(calcCycle);
        return calc with
        {
            TotalCycles = total,
            StallCycles = stalls,
            OverallUtilPct = g.L.Macs * 100.0 / (total * peCount),
            DramIfmapReads = ifWords,
            DramFilterReads = fWords,
            DramOfmapWrites = wb.Accesses,
            SramIfmapStartCycle = Read(calc.SramIfmapStartCycle),
            SramIfmapStopCycle = Read(calc.SramIfmapStopCycle),
            SramFilterStartCycle = Read(calc.SramFilterStartCycle),
            SramFilterStopCycle = Read(calc.SramFilterStopCycle),
            SramOfmapStartCycle = Write(calc.SramOfmapStartCycle),
            SramOfmapStopCycle = Write(calc.SramOfmapStopCycle),
            DramIfmapStartCycle = ifStart,
            DramIfmapStopCycle = -1,
            DramFilterStartCycle = fStart,
            DramFilterStopCycle = -1,
            DramOfmapStartCycle = wb.FirstDrainCycle,
            DramOfmapStopCycle = wb.LastDrainCycle,
        };
    }

    /// <summary>
    /// Misses after which SCALE-Sim's CALC read buffer starts a fresh window: it files new addresses
    /// in sets of ⌊words/100⌋ and, once 50 sets (the active half) are complete, forgets them all.
    /// 0 means the window never closes (a buffer under 100 words files no complete set).
    /// </summary>
    internal static long Window(long sramWords) => 50 * (sramWords / 100);

    // ---------------------------------------------------------------- geometry

    /// <summary>Fold structure of one layer on one array, in SCALE-Sim's (Sr, Sc, T) terms per dataflow.</summary>
    internal readonly struct Geometry
    {
        public readonly SystolicLayerShape L;
        public readonly SystolicDataflow Flow;
        public readonly int Ra, Ca;
        public readonly long Sr, Sc, T, RowFolds, ColFolds, Folds, FoldCycles;
        public readonly long M, K, N;

        public Geometry(in SystolicLayerShape layer, SystolicConfig config)
        {
            L = layer;
            Flow = config.Dataflow;
            Ra = config.Rows;
            Ca = config.Columns;
            M = layer.M; K = layer.K; N = layer.N;
            (Sr, Sc, T) = Flow switch
            {
                SystolicDataflow.OutputStationary => (M, N, K),
                SystolicDataflow.WeightStationary => (K, N, M),
                _ => (K, M, N),
            };
            RowFolds = (Sr + Ra - 1) / Ra;
            ColFolds = (Sc + Ca - 1) / Ca;
            Folds = RowFolds * ColFolds;
            // Demand lines per fold: operand stream + fill/drain skew; folds never overlap.
            FoldCycles = Flow == SystolicDataflow.OutputStationary ? T + Ra + Ca - 2 : T + 2L * Ra + Ca - 2;
        }

        public long RowsUsed(long fr) => Math.Min(Ra, Sr - fr * Ra);
        public long ColsUsed(long fc) => Math.Min(Ca, Sc - fc * Ca);

        /// <summary>Whether window element k of ofmap pixel p lies inside the ifmap (SCALE-Sim reads nothing otherwise).</summary>
        public bool Valid(long p, long k)
        {
            long oy = p / L.OfmapWidth, ox = p % L.OfmapWidth;
            long sc = (long)L.FilterWidth * L.Channels;
            long kr = k / sc, kc = k % sc / L.Channels;
            return oy * L.StrideHeight + kr < L.IfmapHeight && ox * L.StrideWidth + kc < L.IfmapWidth;
        }

        /// <summary>Largest valid window index of pixel p, or −1 when its whole window lies outside.</summary>
        public long KMax(long p)
        {
            long oy = p / L.OfmapWidth, ox = p % L.OfmapWidth;
            long rowRoom = L.IfmapHeight - oy * L.StrideHeight, colRoom = L.IfmapWidth - ox * L.StrideWidth;
            if (rowRoom <= 0 || colRoom <= 0) return -1;
            long kr = Math.Min(L.FilterHeight, rowRoom) - 1, kc = Math.Min(L.FilterWidth, colRoom) - 1;
            return (kr * L.FilterWidth + kc) * L.Channels + L.Channels - 1;
        }

        /// <summary>Largest pixel whose window element k is valid (pixel 0 always is, since R ≤ H and S ≤ W).</summary>
        public long PMax(long k)
        {
            long sc = (long)L.FilterWidth * L.Channels;
            long kr = k / sc, kc = k % sc / L.Channels;
            long oy = Math.Min(L.OfmapHeight - 1, (L.IfmapHeight - 1 - kr) / L.StrideHeight);
            long ox = Math.Min(L.OfmapWidth - 1, (L.IfmapWidth - 1 - kc) / L.StrideWidth);
            return oy * L.OfmapWidth + ox;
        }

        /// <summary>Whether any pixel of [p0, p0 + count) has a valid window element k.</summary>
        public bool AnyValidPixel(long p0, long count, long k)
        {
            long sc = (long)L.FilterWidth * L.Channels;
            long kr = k / sc, kc = k % sc / L.Channels;
            long oyMax = (L.IfmapHeight - 1 - kr) / L.StrideHeight;
            long oxMax = (L.IfmapWidth - 1 - kc) / L.StrideWidth;
            long cand = p0 % L.OfmapWidth <= oxMax ? p0 : (p0 / L.OfmapWidth + 1) * L.OfmapWidth;
            return cand < p0 + count && cand / L.OfmapWidth <= oyMax;
        }
    }

    // ---------------------------------------------------------------- SRAM start/stop cycles

    // Read requests are served one cycle (the hit latency) after their demand line; writes on the line.
    internal static (long, long) IfmapSramSpan(in Geometry g)
    {
        long lastSweep = (g.ColFolds - 1) * g.RowFolds;
        switch (g.Flow)
        {
            case SystolicDataflow.OutputStationary:
                for (long fr = g.RowFolds - 1; fr >= 0; fr--)
                {
                    long p0 = fr * g.Ra, ru = g.RowsUsed(fr), best = -1;
                    // r + kmax ≤ r + K − 1, so once that bound cannot beat the best, earlier rows cannot either.
                    for (long r = ru - 1; r >= 0 && r + g.K - 1 > best; r--)
                    {
                        long km = g.KMax(p0 + r);
                        if (km >= 0) best = Math.Max(best, r + km);
                    }
                    if (best >= 0) return (1, (lastSweep + fr) * g.FoldCycles + best + 1);
                }
                break;
            case SystolicDataflow.WeightStationary:
            {
                // Pixel 0 reads every window element, so the last row fold always has valid words.
                long fr = g.RowFolds - 1, k0 = fr * g.Ra, ru = g.RowsUsed(fr), best = -1;
                for (long r = ru - 1; r >= 0 && r + g.M - 1 > best; r--) best = Math.Max(best, g.PMax(k0 + r) + r);
                return (g.Ra + 1, (lastSweep + fr) * g.FoldCycles + g.Ra + best + 1);
            }
            default:
                for (long fc = g.ColFolds - 1; fc >= 0; fc--)
                {
                    long p0 = fc * g.Ca, cu = g.ColsUsed(fc);
                    for (long fr = g.RowFolds - 1; fr >= 0; fr--)
                    {
                        long k0 = fr * g.Ra, ru = g.RowsUsed(fr);
                        for (long row = 0; row < ru; row++)
                            if (g.AnyValidPixel(p0, cu, k0 + row))
                                return (g.Ra - g.RowsUsed(0) + 1, (fc * g.RowFolds + fr) * g.FoldCycles + g.Ra - 1 - row + 1);
                    }
                }
                break;
        }
        return (0, 0);
    }

    internal static (long, long) FilterSramSpan(in Geometry g)
    {
        long lastFold = (g.Folds - 1) * g.FoldCycles;
        return g.Flow switch
        {
            SystolicDataflow.OutputStationary => (1, lastFold + g.K - 1 + g.ColsUsed(g.ColFolds - 1) - 1 + 1),
            SystolicDataflow.WeightStationary => (g.Ra - g.RowsUsed(0) + 1, lastFold + g.Ra - 1 + 1),
            _ => (g.Ra + 1, lastFold + g.Ra + g.N - 1 + g.RowsUsed(g.RowFolds - 1) - 1 + 1),
        };
    }

    internal static (long, long) OfmapSramSpan(in Geometry g)
    {
        var (a0, _) = OfmapBand(g, 0);
        var (a1, h1) = OfmapBand(g, g.RowFolds - 1);
        long lastFold = (g.Folds - 1) * g.FoldCycles;
        return (a0, lastFold + a1 + h1 - 1 + g.ColsUsed(g.ColFolds - 1) - 1);
    }

    /// <summary>
    /// The ofmap demand of a fold, before skew, is h rows of cols_used valid words starting at row a;
    /// the skew delays column c by c lines.
    /// </summary>
    private static (long A, long H) OfmapBand(in Geometry g, long fr) => g.Flow switch
    {
        SystolicDataflow.OutputStationary => (g.T - 1 + g.Ra - g.RowsUsed(fr), g.RowsUsed(fr)),
        _ => (2L * g.Ra - 1, g.T),
    };

    // ---------------------------------------------------------------- DRAM reads (CALC window)

    /// <summary>
    /// Filter DRAM reads. Every fold reads a block of distinct filter words; OS repeats one column
    /// block over all row folds, IS sweeps the whole filter once per column fold, WS reads each block
    /// once. Distinct elements revisited in the same cyclic order miss exactly when the window closed
    /// since their last use, which <see cref="CyclicMisses"/> counts without walking the stream.
    /// </summary>
    private static (long Misses, long LastCloseLine) FilterDramReads(in Geometry g, long window)
    {
        long carry = 0, close;
        switch (g.Flow)
        {
            case SystolicDataflow.OutputStationary:
            {
                long misses = 0, lastLine = -1;
                for (long fc = 0; fc < g.ColFolds; fc++)
                {
                    long cu = g.ColsUsed(fc), s = g.K * cu;
                    misses += CyclicMisses(s, g.RowFolds, window, ref carry, out close);
                    if (close >= 0)
                    {
                        long fold = fc * g.RowFolds + close / s;
                        lastLine = fold * g.FoldCycles + SkewedLine(close % s, g.K, cu);
                    }
                }
                return (misses, lastLine);
            }
            case SystolicDataflow.InputStationary:
            {
                long misses = CyclicMisses(g.K * g.N, g.ColFolds, window, ref carry, out close);
                if (close < 0) return (misses, -1);
                long pass = close / (g.K * g.N), rem = close % (g.K * g.N);
                long fr = rem / (g.Ra * g.N), idx = rem % (g.Ra * g.N);
                long fold = pass * g.RowFolds + fr;
                return (misses, fold * g.FoldCycles + g.Ra + SkewedLine(idx, g.N, g.RowsUsed(fr)));
            }
            default:
            {
                long misses = CyclicMisses(g.K * g.N, 1, window, ref carry, out close);
                if (close < 0) return (misses, -1);
                long fc = close / (g.K * g.Ca), rem = close - fc * g.K * g.Ca, cu = g.ColsUsed(fc);
                long fr = rem / (g.Ra * cu), idx = rem % (g.Ra * cu);
                long fold = fc * g.RowFolds + fr;
                return (misses, fold * g.FoldCycles + g.Ra - g.RowsUsed(fr) + idx / cu);
            }
        }
    }

    /// <summary>
    /// Line of the <paramref name="index"/>-th word (from 0) of a skewed block (h rows of w columns, column c
    /// delayed by c lines, words ordered by line then column): line t carries min(t + 1, h, w, h + w − 1 − t) words,
    /// a ramp up, a plateau, a ramp down, each inverted in closed form.
    /// </summary>
    internal static long SkewedLine(long index, long h, long w)
    {
        long j = index + 1, p = Math.Min(h, w), q = Math.Max(h, w), ramp = p * (p - 1) / 2;
        if (j <= ramp) return Triangular(j);
        if (j <= ramp + (q - p + 1) * p) return p - 1 + (j - ramp - 1) / p;
        return h + w - 2 - Triangular(h * w - j + 1);
    }

    /// <summary>The least i ≥ 0 with (i + 1)(i + 2)/2 ≥ j (j ≥ 1): the line of the j-th word of a ramp 1, 2, 3, ….</summary>
    private static long Triangular(long j)
    {
        long i = Math.Max(0, (long)Math.Ceiling((Math.Sqrt(8.0 * j + 1) - 3) / 2));
        while (i > 0 && i * (i + 1) / 2 >= j) i--;
        while ((i + 1) * (i + 2) / 2 < j) i++;
        return i;
    }

    /// <summary>
    /// DRAM start and stop cycles of SCALE-Sim's CALC read buffer. Once a window closes, the first
    /// prefetch is scheduled to end two cycles before the first request and to take ⌈window / 10⌉
    /// cycles at its default 10 words per cycle; the last prefetch ends on the line that closed the
    /// last window. A layer whose misses never close a window is fetched in one go ending at cycle −1.
    /// </summary>
    private static (long Start, long Stop) CalcReadDramSpan(long misses, long window, long firstRequestLine, long lastCloseLine, long sramWords)
    {
        long perSet = sramWords / 100;
        if (lastCloseLine < 0 || window <= 0)
        {
            long sets = perSet > 0 ? (misses + perSet - 1) / perSet : 1;
            return (-((sets * perSet + 9) / 10), -1);
        }
        return (firstRequestLine - (window + 9) / 10, lastCloseLine + 1);
    }

    /// <summary>
    /// Finds a column-fold sweep that repeats the one before it (OS and WS sweep the same row folds once per column
    /// fold). The window at a sweep's end holds the words read after its last close, so two consecutive sweeps whose
    /// last close falls on the same read (the same place in the sweep, given by up to three coordinates) with the
    /// same words open and the same misses leave identical windows, and every later sweep repeats the last one.
    /// </summary>
    internal struct RepeatingSweeps
    {
        private (long A, long B, long C, long Open, long Misses)? _previous;

        /// <summary>
        /// After a sweep with a close: whether it repeats the previous one; if so the <paramref name="remaining"/>
        /// sweeps' misses are added and the last close moved on by as many sweeps of <paramref name="sweepLines"/> lines.
        /// </summary>
        public bool Repeat(long a, long b, long c, long open, long sweepMisses, long remaining, long sweepLines, ref long misses, ref long lastCloseLine)
        {
            var current = (a, b, c, open, sweepMisses);
            if (_previous == current)
            {
                misses += remaining * sweepMisses;
                lastCloseLine += remaining * sweepLines;
                return true;
            }
            _previous = current;
            return false;
        }
    }

    /// <summary>
    /// Misses of <paramref name="repeats"/> passes over the same <paramref name="distinct"/> distinct
    /// addresses, in the same order, through a window that forgets everything after
    /// <paramref name="window"/> misses (0 = never). <paramref name="carry"/> is the miss count of the
    /// open window on entry (made by other addresses) and on exit. After a window closes, the next
    /// visits are all misses until either the window closes again or every address has been seen.
    /// </summary>
    internal static long CyclicMisses(long distinct, long repeats, long window, ref long carry)
        => CyclicMisses(distinct, repeats, window, ref carry, out _);

    /// <summary>As above; <paramref name="lastClose"/> is the stream position of the miss that last closed a window, or −1.</summary>
    internal static long CyclicMisses(long distinct, long repeats, long window, ref long carry, out long lastClose)
    {
        lastClose = -1;
        if (distinct <= 0 || repeats <= 0) return 0;
        if (window <= 0) { carry += distinct; return distinct; }
        long length = distinct * repeats, pos = 0, covered = 0, misses = 0;
        while (pos < length && covered < distinct)
        {
            long k = Math.Min(window - carry, Math.Min(distinct - covered, length - pos));
            pos += k; covered += k; carry += k; misses += k;
            if (carry == window) { carry = 0; covered = 0; lastClose = pos - 1; }
        }
        return misses;
    }

    /// <summary>
    /// Ifmap DRAM reads. When every ifmap word the layer touches fits in one window, each is read
    /// once (closed form). When every read is bound to miss (see <see cref="IfmapStream.EveryReadMisses"/>)
    /// the misses are the valid reads and the last close is the line of the last whole window's
    /// last read (closed form). Weight- and input-stationary folds aligned to channel groups are counted
    /// per fold (<see cref="AlignedWeightStationaryReplay"/>, <see cref="AlignedInputStationaryReplay"/>;
    /// aligned IS layers whose per-fold count is expected to cost much more take the replay below instead),
    /// and so are the unaligned WS layers where that count measured faster (<see cref="WeightStationaryFoldCount.IsCheaper"/>).
    /// Otherwise the ifmap address stream is replayed in SCALE-Sim's demand order through the window.
    /// </summary>
    internal static (long Misses, long LastCloseLine) IfmapDramReads(in Geometry g, long window)
    {
        long touched = TouchedIfmapWords(g.L);
        if (window <= 0 || touched < window) return (touched, -1);
        var stream = new IfmapStream(g);
        if (stream.EveryReadMisses(window))
        {
            long total = stream.Total;
            return (total, stream.LineOfValidPair(total / window * window - 1));
        }
        if (AlignedWeightStationaryReplay.Applies(g)) return AlignedWeightStationaryReplay.Run(g, window);
        if (WeightStationaryFoldCount.IsCheaper(g)) return WeightStationaryFoldCount.Run(g, window);
        if (AlignedInputStationaryReplay.Applies(g) && !AlignedInputStationaryReplay.WindowReplayIsCheaper(g, window, touched))
            return AlignedInputStationaryReplay.Run(g, window);
        return IfmapWindowReplay.Run(g, window);
    }

    /// <summary>Ifmap words covered by at least one convolution window.</summary>
    internal static long TouchedIfmapWords(in SystolicLayerShape l) =>
        Covered(l.IfmapHeight, l.FilterHeight, l.StrideHeight, l.OfmapHeight)
        * Covered(l.IfmapWidth, l.FilterWidth, l.StrideWidth, l.OfmapWidth) * l.Channels;

    private static long Covered(long size, long kernel, long stride, long outputs)
    {
        if (stride <= kernel) return Math.Min(size, (outputs - 1) * stride + kernel);
        long full = Math.Min(outputs, size >= kernel ? (size - kernel) / stride + 1 : 0);
        long covered = full * kernel;
        if (full < outputs && full * stride < size) covered += Math.Min(kernel, size - full * stride);
        return covered;
    }

    // ---------------------------------------------------------------- ofmap writes

    /// <summary>
    /// Feeds every fold's ofmap words through the write buffer. When the buffer allows it
    /// (<see cref="WriteBufferReplay.Countable"/>: no demand line carries more than a DRAM line, as in CALC mode, and the
    /// drain half spans at least two lines) the whole stream is counted (<see cref="WriteBufferReplay.CountStream"/>);
    /// <paramref name="count"/> false replays it anyway (for tests). Otherwise every fold's words go in line by line,
    /// in runs of equal width. Folds that write equal blocks (WS and IS: every fold of the column folds with equal used columns;
    /// OS: a column fold's folds but its last) follow each other at equal distances. Each drain empties
    /// whole DRAM lines, so the buffer's state at a fold's start can repeat only after a whole number of
    /// drains' words (whole lines) and of folds' words: the state is compared every that many folds
    /// (P = drain words / gcd(fold words, drain words)), and once it equals the one P folds earlier, every
    /// whole period left in the run repeats it and is added at once.
    /// </summary>
    internal static void ReplayOfmap(in Geometry g, ref WriteBufferReplay wb, bool count = true)
    {
        bool os = g.Flow == SystolicDataflow.OutputStationary;
        // A demand line carries at most min(h, cols used) words (the plateau of the fold's skewed block).
        if (count && wb.Countable(Math.Min(g.Ca, os ? g.Ra : g.T)))
        {
            long total = OfmapWords(g), drains = wb.DrainsIn(total);
            wb.CountStream(total, drains > 0 ? OfmapLineOfWord(g, wb.DrainWord(1)) : 0, drains > 0 ? OfmapLineOfWord(g, wb.DrainWord(drains)) : 0);
            CountedOfmapStreams++;
            return;
        }
        long runEnd = -1, period = 0, check = -1, lastCols = g.ColsUsed(g.ColFolds - 1);
        WriteBufferReplay.State markState = default;
        WriteBufferReplay.Mark mark = default;
        bool marked = false;
        // fc and fr follow fold (no division per fold); set again after a jump.
        for (long fold = 0, fc = 0, fr = 0; fold < g.Folds; fold++, fr++)
        {
            if (fr == g.RowFolds) (fc, fr) = (fc + 1, 0);
            if (fr > g.RowFolds) (fc, fr) = (fold / g.RowFolds, fold % g.RowFolds);
            long cu = g.ColsUsed(fc);
            var (a, h) = OfmapBand(g, fr);
            // The end of the run of folds that write the same block as this one (OS's last row fold: none).
            long end = os ? (fr < g.RowFolds - 1 ? fold - fr + g.RowFolds - 1 : fold)
                : cu == lastCols ? g.Folds : (g.ColFolds - 1) * g.RowFolds;
            if (end != runEnd)
            {
                runEnd = end;
                check = -1;
                marked = false;
                // Worth comparing only if two periods to compare and one to add fit in the run.
                long drain = wb.DrainWords;
                // A period is at least drain / (h · cu) folds.
                if (3 * drain <= (end - fold) * h * cu)
                {
                    period = drain / Gcd(h * cu, drain);
                    if (3 * period <= end - fold) check = fold + period;
                }
            }
            long start = fold * g.FoldCycles;
            if (fold == check)
            {
                check = fold + period < end ? fold + period : -1;
                if (wb.TryState(start, out var state))
                {
                    long times = (end - fold) / period;
                    if (marked && state == markState && times > 0)
                    {
                        wb.Repeat(mark, period * g.FoldCycles, times, start);
                        RepeatedFolds += times * period;
                        fold += times * period - 1;
                        fr = g.RowFolds + 1; // recomputed from fold
                        check = -1;
                        continue;
                    }
                    (markState, mark, marked) = (state, wb.MarkAt(fold), true);
                }
                else marked = false;
            }
            // Take as many whole folds of the run at once as leave the buffer at least half free (up to
            // the next fold whose state is compared).
            long batch = Math.Min(check > fold ? check - fold : end - fold, wb.QuietCapacity / Math.Max(1, h * cu));
            if (batch > 1)
            {
                wb.TryWriteQuietly(batch * h * cu);
                fold += batch - 1;
                fr += batch - 1;
                if (fr >= g.RowFolds) fr = g.RowFolds + 1; // crossed a column fold: recomputed from fold
                continue;
            }
            if (wb.TryWriteQuietly(h * cu)) continue;
            long baseLine = start + a;
            // Line a + j carries min(j+1, h, cu, h+cu-1-j) words for j in [0, h+cu-1): a ramp up
            // by one word per line, a plateau, a ramp down.
            long span = h + cu - 1, plateau = Math.Min(h, cu);
            wb.WriteRun(baseLine, plateau - 1, 1, 1);
            wb.WriteRun(baseLine + plateau - 1, span - 2 * plateau + 2, plateau);
            wb.WriteRun(baseLine + span - plateau + 1, plateau - 1, plateau - 1, -1);
        }
    }

    /// <summary>Ofmap words all folds write: every row fold's band of h rows times the column fold's used columns.</summary>
    internal static long OfmapWords(in Geometry g) => BandHeights(g) * g.Sc;

    /// <summary>The ofmap band heights of all row folds summed (OS: the rows used; WS and IS: T rows each).</summary>
    private static long BandHeights(in Geometry g) => g.Flow == SystolicDataflow.OutputStationary ? g.Sr : g.RowFolds * g.T;

    /// <summary>
    /// Demand line of the ofmap word <paramref name="x"/> (1-based, in the order the folds write them: fold by fold,
    /// line by line, columns in order within a line) when no line waits.
    /// </summary>
    internal static long OfmapLineOfWord(in Geometry g, long x)
    {
        bool os = g.Flow == SystolicDataflow.OutputStationary;
        // Words per column fold of full width (Ca columns): the row folds' band heights summed.
        long perColFold = BandHeights(g) * g.Ca;
        long fc = Math.Min((x - 1) / perColFold, g.ColFolds - 1);
        x -= fc * perColFold;
        long cu = g.ColsUsed(fc), full = (os ? g.Ra : g.T) * cu;
        long fr = Math.Min((x - 1) / full, g.RowFolds - 1);
        x -= fr * full;
        var (a, h) = OfmapBand(g, fr);
        return (fc * g.RowFolds + fr) * g.FoldCycles + a + SkewedLine(x - 1, h, cu);
    }

    /// <summary>Ofmap streams this thread counted without replaying them (for tests: the counted form is taken).</summary>
    [ThreadStatic] internal static long CountedOfmapStreams;

    private static long Gcd(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return Math.Max(1, a);
    }

    /// <summary>Folds this thread's ofmap replays added as repeated periods (for tests: the shortcut is taken).</summary>
    [ThreadStatic] internal static long RepeatedFolds;
}
