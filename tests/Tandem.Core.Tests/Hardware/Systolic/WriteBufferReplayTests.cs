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
            Assert.True(slow.Stalls == fast.Stalls, $"{where}: stalls {fast.Stalls} vs {slow.Stalls}");
            Assert.True(slow.Accesses == fast.Accesses, $"{where}: DRAM writes {fast.Accesses} vs {slow.Accesses}");
            Assert.True(slow.First == fast.FirstDrainCycle && slow.Last == fast.LastDrainCycle,
                $"{where}: drain cycles {fast.FirstDrainCycle}..{fast.LastDrainCycle} vs {slow.First}..{slow.Last}");
        }
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
