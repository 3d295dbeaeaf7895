using Tandem.Core.Hardware.Systolic;

namespace Tandem.Core.Tests.Hardware.Systolic;

/// <summary>
/// Holds the run-level write-buffer replay to a word-by-word model of SCALE-Sim v2's write buffer
/// (store, drain when more than the active half is pending and no drain is in flight, stall only
/// when full during a drain, padding subtracted on a drain's last line only), on random buffer
/// sizes, bandwidths and demand-line widths.
/// </summary>
public sealed class WriteBufferReplayTests
{
    [Fact]
    public void RunReplayEqualsWordByWordModel()
    {
        var rng = new Random(4242);
        for (int trial = 0; trial < 300; trial++)
        {
            long total = rng.Next(8, 400), bw = rng.Next(1, 40);
            var runs = new List<(long Lines, long Width)>();
            for (int i = 0, n = rng.Next(1, 40); i < n; i++) runs.Add((rng.Next(1, 30), rng.Next(0, 50)));

            var fast = new WriteBufferReplay(total, bw);
            long line = 0;
            foreach (var (lines, width) in runs)
            {
                if (rng.Next(4) == 0 && fast.TryWriteQuietly(lines * width)) { line += lines; continue; }
                fast.WriteRun(line, lines, width);
                line += lines;
            }
            long lastCycle = line - 1 + fast.Stalls;
            fast.DrainAll(lastCycle);

            var slow = new WordByWord(total, bw);
            foreach (var (lines, width) in runs)
                for (long i = 0; i < lines; i++) slow.Line(width);
            slow.Finish();

            string where = $"trial {trial}: total {total}, bandwidth {bw}";
            AssertSame(where, fast, slow.Stalls, slow.Accesses, slow.First, slow.Last);
        }
    }

    /// <summary>
    /// <see cref="WriteBufferReplay.Repeat"/>: feeding a buffer the same block of demand lines again and again,
    /// once its state at a block's start (<see cref="WriteBufferReplay.TryState"/>) equals an earlier one, adding
    /// the whole periods left at once and feeding the rest gives what feeding every block gives — including
    /// repeats taken with a drain still in flight and with partly filled DRAM lines waiting.
    /// </summary>
    [Fact]
    public void RepeatedPeriodsEqualFeedingThem()
    {
        var rng = new Random(5150);
        int repeats = 0, inFlight = 0, partial = 0;
        for (int trial = 0; trial < 3000; trial++)
        {
            long total = rng.Next(8, 300), bw = rng.Next(1, 12);
            // One block: runs of lines (ramps, plateaus, empty lines), then its length in lines.
            var block = new List<(long Offset, long Lines, long Width, long Step)>();
            long length = 0;
            for (int i = 0, n = rng.Next(1, 5); i < n; i++)
            {
                long lines = rng.Next(1, 12), width = rng.Next(0, 2 * (int)bw + 2), step = rng.Next(3) - 1;
                if (width + step * (lines - 1) < 0) step = 0;
                if (width == 0 && step == 0) width = 1;
                block.Add((length + rng.Next(0, 3), lines, width, step));
                length = block[^1].Offset + lines;
            }
            length += rng.Next(0, 4);
            int blocks = rng.Next(10, 120);

            var full = new WriteBufferReplay(total, bw);
            for (int b = 0; b < blocks; b++) Feed(ref full, block, b * length);
            full.DrainAll(blocks * length - 1 + full.Stalls);

            var fast = new WriteBufferReplay(total, bw);
            var seen = new Dictionary<WriteBufferReplay.State, WriteBufferReplay.Mark>();
            bool repeated = false;
            for (int b = 0; b < blocks; b++)
            {
                if (!repeated && fast.TryState(b * length, out var state))
                {
                    if (seen.TryGetValue(state, out var mark) && (blocks - b) / (b - mark.At) > 0)
                    {
                        long period = b - mark.At, times = (blocks - b) / period;
                        fast.Repeat(mark, period * length, times, b * length);
                        b += (int)(times * period);
                        repeated = true;
                        repeats++;
                        if (state.DrainEndAfter > 0) inFlight++;
                        if (state.Partial0 >= 0) partial++;
                        if (b >= blocks) break;
                    }
                    else seen.TryAdd(state, fast.MarkAt(b));
                }
                Feed(ref fast, block, b * length);
            }
            fast.DrainAll(blocks * length - 1 + fast.Stalls);

            string where = $"trial {trial}: total {total}, bandwidth {bw}, {blocks} blocks of {length} lines";
            AssertSame(where, fast, full.Stalls, full.Accesses, full.FirstDrainCycle, full.LastDrainCycle);
        }
        Assert.True(repeats >= 500 && inFlight >= 100 && partial >= 20, $"repeats {repeats}, with a drain in flight {inFlight}, with partial lines {partial}");

        static void Feed(ref WriteBufferReplay wb, List<(long Offset, long Lines, long Width, long Step)> block, long first)
        {
            foreach (var (offset, lines, width, step) in block) wb.WriteRun(first + offset, lines, width, step);
        }
    }

    /// <summary>
    /// The model's ofmap replay over whole layers — run-level, whole quiet folds at once and repeated periods of
    /// equal folds added at once — equals the word-by-word buffer fed every demand line of every fold (each fold's
    /// block of h rows × used columns, skewed one line per column), on random layers, arrays, dataflows, buffer
    /// sizes and drain bandwidths (the array's columns, as in CALC, or a random one that can stall, as in USER).
    /// </summary>
    [Fact]
    public void FoldReplayEqualsWordByWordModel()
    {
        var rng = new Random(977);
        long repeatedBefore = SystolicModel.RepeatedFolds;
        int repeatedLayers = 0, countedLayers = 0;
        var countedByDrains = new int[3]; // counted streams with no drain before the final flush, one, more
        int countedUneven = 0; // counted streams whose drain half is not a whole number of DRAM lines
        for (int trial = 0; trial < 2000; trial++)
        {
            var flow = (SystolicDataflow)rng.Next(3);
            int ra = rng.Next(1, 7), ca = rng.Next(1, 7), r = rng.Next(1, 4), sh = rng.Next(1, 3);
            int c = rng.Next(1, 24), n = rng.Next(1, 30), h = rng.Next(r, r + 5), w = rng.Next(r, r + 5);
            var shape = SystolicLayerShape.FromScaleSim(h, w, r, r, c, n, sh, sh);
            var g = new SystolicModel.Geometry(shape, new SystolicConfig { Rows = ra, Columns = ca, Dataflow = flow });
            if (g.Folds * g.FoldCycles > 200_000) continue;
            long total = rng.Next(8, 600), bw = rng.Next(3) switch { 0 => ca, 1 => rng.Next(1, 4), _ => rng.Next(1, 12) };
            // Every fourth layer DRAM lines of at least the array's columns, as CALC mode drains, so the stream is counted
            // without replay: every other one of those with a drain half of whole lines (SCALE-Sim's power-of-two SRAMs and
            // columns), the rest with any drain half of at least two lines.
            if (trial % 4 == 0)
            {
                long line = bw * ca, half = line * rng.Next(2, 40) + (trial % 8 == 0 ? 0 : rng.Next((int)line));
                (total, bw) = (2 * half + rng.Next(2), line);
            }

            long before = SystolicModel.RepeatedFolds, countedBefore = SystolicModel.CountedOfmapStreams;
            var fast = new WriteBufferReplay(total, bw);
            // The other layers go through the replay even where they could be counted, so that it stays tested.
            SystolicModel.ReplayOfmap(g, ref fast, count: trial % 4 == 0);
            if (SystolicModel.RepeatedFolds > before) repeatedLayers++;
            if (SystolicModel.CountedOfmapStreams > countedBefore)
            {
                countedLayers++;
                countedByDrains[Math.Min(2, new WriteBufferReplay(total, bw).DrainsIn(SystolicModel.OfmapWords(g)))]++;
                if ((total - (total + 1) / 2) % bw != 0) countedUneven++;
            }
            fast.DrainAll(g.Folds * g.FoldCycles - 1 + fast.Stalls);

            var slow = new WordByWord(total, bw);
            for (long fold = 0; fold < g.Folds; fold++)
            {
                long cu = g.ColsUsed(fold / g.RowFolds), rows = g.RowsUsed(fold % g.RowFolds);
                // The fold's ofmap block: OS writes its used rows at the end of the stream, WS and IS one
                // row per ofmap pixel (T of them) after the array has filled.
                var (a, hb) = flow == SystolicDataflow.OutputStationary ? (g.T - 1 + ra - rows, rows) : (2L * ra - 1, g.T);
                for (long line = 0; line < g.FoldCycles; line++)
                {
                    long j = line - a;
                    slow.Line(j < 0 || j >= hb + cu - 1 ? 0 : Math.Min(Math.Min(j + 1, hb), Math.Min(cu, hb + cu - 1 - j)));
                }
            }
            slow.Finish();

            string where = $"trial {trial}: {flow} {ra}x{ca}, {h}x{w}x{c} {r}x{r}/{sh} N={n}, buffer {total}, bandwidth {bw}";
            AssertSame(where, fast, slow.Stalls, slow.Accesses, slow.First, slow.Last);
        }
        // The repeated-period shortcut must have been taken, or this test would not hold it to anything.
        Assert.True(repeatedLayers >= 50, $"only {repeatedLayers} layers added repeated periods ({SystolicModel.RepeatedFolds - repeatedBefore} folds)");
        Assert.True(countedLayers >= 300 && countedByDrains.Min() >= 20 && countedUneven >= 100,
            $"only {countedLayers} layers were counted without replay ({string.Join(", ", countedByDrains)} with no drain, one, more; {countedUneven} with a drain half of part lines)");
    }

    /// <summary>
    /// A stream counted without replay (<see cref="WriteBufferReplay.CountStream"/>) equals the word-by-word buffer fed
    /// the same demand lines, on random streams whose lines carry at most the drain bandwidth, through buffers whose
    /// drain half is a whole number of DRAM lines or not — including streams that end just before, on and just after
    /// the word that starts a drain (the first drain's one-word partial line then ends the final flush's first chunk).
    /// </summary>
    [Fact]
    public void CountedStreamEqualsWordByWordModel()
    {
        var rng = new Random(4242);
        int oneLine = 0;
        for (int trial = 0; trial < 3000; trial++)
        {
            // Drain halves of whole DRAM lines (every other trial) and of any length, down to under two lines, which
            // must not be counted (a drain of one line ends on its first cycle and the rest of its line can start another).
            long bw = rng.Next(1, 9), drain = Math.Max(1, bw * rng.Next(0, 13) + (trial % 2 == 0 ? 0 : rng.Next((int)bw))), total = 2 * drain + rng.Next(2);
            long[] ends = [drain - 1, drain, drain + 1, drain + 2, 2 * drain, 2 * drain + 1, 2 * drain + 2, 2 * drain + 3, rng.Next(1, (int)(7 * drain))];
            long words = ends[trial % ends.Length], maxLine = rng.Next(1, (int)bw + 1);
            var lines = new List<long>();
            for (long sum = 0; sum < words;)
            {
                long w = Math.Min(words - sum, rng.Next(4) == 0 ? 0 : rng.Next(1, (int)maxLine + 1));
                lines.Add(w);
                sum += w;
            }
            lines.Add(0);

            var counted = new WriteBufferReplay(total, bw);
            if (!counted.Countable(maxLine))
            {
                Assert.True(drain <= bw, $"trial {trial}: a drain half of {drain} words in lines of {bw} words is not countable");
                oneLine++;
                continue;
            }
            long drains = counted.DrainsIn(words);
            counted.CountStream(words, drains > 0 ? LineOf(counted.DrainWord(1)) : 0, drains > 0 ? LineOf(counted.DrainWord(drains)) : 0);
            counted.DrainAll(lines.Count - 1);

            var slow = new WordByWord(total, bw);
            foreach (long w in lines) slow.Line(w);
            slow.Finish();
            AssertSame($"trial {trial}: buffer {total}, bandwidth {bw}, {words} words on {lines.Count} lines", counted, slow.Stalls, slow.Accesses, slow.First, slow.Last);

            long LineOf(long word)
            {
                long sum = 0;
                for (int i = 0; i < lines.Count; i++)
                    if ((sum += lines[i]) >= word) return i;
                throw new InvalidOperationException("word past the stream");
            }
        }
        Assert.True(oneLine >= 50 && oneLine <= 1000, $"{oneLine} of 3000 drain halves of at most one line");
    }

    /// <summary>The replay's stalls, DRAM writes and first and last drain cycles are the expected ones.</summary>
    private static void AssertSame(string where, in WriteBufferReplay fast, long stalls, long accesses, long first, long last)
    {
        Assert.True(stalls == fast.Stalls, $"{where}: stalls {fast.Stalls} vs {stalls}");
        Assert.True(accesses == fast.Accesses, $"{where}: DRAM writes {fast.Accesses} vs {accesses}");
        Assert.True(first == fast.FirstDrainCycle && last == fast.LastDrainCycle,
            $"{where}: drain cycles {fast.FirstDrainCycle}..{fast.LastDrainCycle} vs {first}..{last}");
    }

    /// <summary>SCALE-Sim's write buffer, one word at a time, with the trace as a list of line fills.</summary>
    private sealed class WordByWord(long total, long bw)
    {
        private readonly long _active = (total + 1) / 2, _drain = total - (total + 1) / 2;
        private readonly List<long> _lines = [];
        private long _free = total, _fill, _drainStart, _drainEnd, _line;
        public long Stalls, Accesses, First = -1, Last = -1;

        public void Line(long width)
        {
            long cycle = _line + Stalls, start = cycle;
            for (long e = 0; e < width; e++)
            {
                _free--;
                if (++_fill == bw) { _lines.Add(bw); _fill = 0; }
                if (cycle < _drainEnd)
                {
                    if (_free <= 0) cycle = _drainEnd;
                }
                else if (_free < _active)
                {
                    Close();
                    _drainEnd = Drain(cycle);
                }
            }
            Stalls += cycle - start;
            _line++;
        }

        private void Close()
        {
            if (_fill == 0) return;
            _lines.Add(_fill);
            _fill = 0;
        }

        private long Drain(long start)
        {
            long end = Math.Min(_drainStart + (_drain + bw - 1) / bw, _lines.Count), n = end - _drainStart;
            if (n <= 0) return _drainEnd;
            long words = n * bw - (bw - _lines[(int)end - 1]);
            Accesses += words;
            _free += words;
            _drainStart = end;
            if (First < 0) First = start;
            Last = start + n - 1;
            return start + n - 1;
        }

        public void Finish()
        {
            long cycle = _line - 1 + Stalls;
            Close();
            while (_drainStart < _lines.Count)
            {
                _drainEnd = Drain(cycle);
                cycle = _drainEnd + 1;
            }
        }
    }
}
