namespace Tandem.Core.Hardware.Systolic;

/// <summary>
/// Exact replay of SCALE-Sim v2's double-buffered ofmap write buffer, fed in runs of demand lines of
/// equal width instead of word by word. Words fill DRAM lines of <c>bandwidth</c> words; once more
/// than the active half is pending and no drain is in flight, the partly filled line is closed
/// (padding and all) and the next ⌈drain half / bandwidth⌉ lines are written, one per cycle. Only the
/// last line of a drain has its padding subtracted, so padding closed earlier is counted as written,
/// as SCALE-Sim counts it. The array stalls only if the buffer is full while a drain is in flight.
/// </summary>
internal struct WriteBufferReplay
{
    private readonly long _active, _drain, _bandwidth;
    private long _free, _lineFill, _closedLines, _drainStartLine, _drainEnd;
    private Queue<(long Line, long Valid)>? _partialLines;

    public long Accesses { get; private set; }
    public long Stalls { get; private set; }
    public long FirstDrainCycle { get; private set; }
    public long LastDrainCycle { get; private set; }

    public WriteBufferReplay(long totalWords, long bandwidth)
    {
        _active = (totalWords + 1) / 2;
        _drain = totalWords - _active;
        _bandwidth = Math.Max(1, bandwidth);
        _free = totalWords;
        FirstDrainCycle = -1;
        LastDrainCycle = -1;
    }

    /// <summary>The words of the DRAM lines one drain writes when enough are waiting (the drain half, in whole lines).</summary>
    public readonly long DrainWords => DrainLines * _bandwidth;

    /// <summary>DRAM lines one drain writes when enough are waiting: the drain half, rounded up to whole lines.</summary>
    private readonly long DrainLines => (_drain + _bandwidth - 1) / _bandwidth;

    /// <summary>Words that <see cref="TryWriteQuietly"/> would still accept.</summary>
    public readonly long QuietCapacity => Math.Max(0, _free - _active);

    /// <summary>
    /// Whether a whole demand stream whose lines carry at most <paramref name="maxLineWords"/> words can be counted
    /// without replaying it (<see cref="CountStream"/>): nothing stored yet, no demand line carrying more words than the
    /// drain writes per cycle (one DRAM line), and a drain half of at least two DRAM lines.
    /// </summary>
    public readonly bool Countable(long maxLineWords) =>
        _free == _active + _drain && _closedLines == 0 && _lineFill == 0 && maxLineWords <= _bandwidth
        && DrainLines >= 2;

    /// <summary>
    /// Words from one drain's first word to the next one's in a countable stream: the drain half when it is a whole
    /// number of DRAM lines, else one more (<see cref="CountStream"/>).
    /// </summary>
    private readonly long Period => _drain % _bandwidth == 0 ? _drain : _drain + 1;

    /// <summary>How many drains a countable stream of <paramref name="totalWords"/> words starts before the final flush (<see cref="CountStream"/>).</summary>
    public readonly long DrainsIn(long totalWords) => totalWords > _drain ? (totalWords - _drain - 1) / Period + 1 : 0;

    /// <summary>The word (1-based, in stream order) whose store starts drain <paramref name="k"/> (1-based) in a countable stream.</summary>
    public readonly long DrainWord(long k) => _drain + 1 + (k - 1) * Period;

    /// <summary>
    /// The buffer after a whole countable stream (<see cref="Countable"/>) of <paramref name="totalWords"/> words,
    /// without replaying it; <paramref name="firstDrainLine"/> and <paramref name="lastDrainLine"/> are the demand lines
    /// that carry <see cref="DrainWord"/> of the first and the last of its <see cref="DrainsIn"/> drains. Why no replay
    /// is needed (D the drain half, b the DRAM line, L = ⌈D/b⌉ the lines a drain writes): the first drain starts with
    /// word D + 1, whose store leaves fewer than the active half free, after ⌊(D + 1)/b⌋ whole lines and a partial one
    /// if b does not divide D + 1. When b divides D, that is L whole lines and a partial line of one word; the drain
    /// writes the L whole lines, D words, and the buffer is one word short of empty. Otherwise those are exactly L
    /// lines; the drain writes all of them, D + 1 words (the last line's padding not counted), and the buffer is empty.
    /// A drain takes L cycles, and since no demand line carries more than b words the next D (or D + 1) words take at
    /// least as many lines: every drain has ended before the next is due, so no line waits, and from the same state
    /// the same happens every <see cref="Period"/> words. When b divides D the words after the first drain fill whole
    /// lines at every later drain, so no other partial line is closed before the final flush, and every drain writes
    /// D words (the one-word line starts the second drain and counts whole, as <see cref="DrainChunk"/> counts it).
    /// </summary>
    public void CountStream(long totalWords, long firstDrainLine, long lastDrainLine)
    {
        long drains = DrainsIn(totalWords);
        if (drains == 0)
        {
            Store(totalWords);
            return;
        }
        long lines = DrainLines, after = totalWords - DrainWord(drains);
        Accesses = drains * Period;
        if (_drain % _bandwidth == 0)
        {
            // The first drain closes its L whole lines and line L, its partial line of one word (a whole line when b = 1);
            // one line stays pending after every drain.
            _free = _active + _drain - 1 - after;
            _closedLines = drains * lines + 1 + after / _bandwidth;
            if (_bandwidth > 1 && drains == 1) (_partialLines ??= new()).Enqueue((lines, 1));
        }
        else
        {
            _free = _active + _drain - after;
            _closedLines = drains * lines + after / _bandwidth;
        }
        _lineFill = after % _bandwidth;
        _drainStartLine = drains * lines;
        FirstDrainCycle = firstDrainLine;
        _drainEnd = LastDrainCycle = lastDrainLine + lines - 1;
    }

    /// <summary>
    /// Takes <paramref name="words"/> words in bulk when they cannot trigger a drain or a stall
    /// wherever they fall (the buffer stays at least half free); returns false, changing nothing,
    /// when the caller must feed them line by line.
    /// </summary>
    public bool TryWriteQuietly(long words)
    {
        if (_free - words < _active) return false;
        Store(words);
        return true;
    }

    /// <summary>
    /// <paramref name="lines"/> consecutive demand lines from <paramref name="firstLine"/>, line i
    /// carrying <paramref name="width"/> + <paramref name="step"/>·i words (a plateau or a ramp of a
    /// fold's skewed ofmap block; every line carries at least one word), delayed by the stalls so far.
    /// </summary>
    public void WriteRun(long firstLine, long lines, long width, long step = 0)
    {
        if (width <= 0 && step == 0) return;
        long i = 0;
        while (i < lines)
        {
            long cycle = firstLine + i + Stalls, w = width + step * i;
            long safe = cycle < _drainEnd
                ? Fitting(w, step, Math.Min(lines - i, _drainEnd - cycle), _free - 1)
                : Fitting(w, step, lines - i, _free - _active);
            if (safe > 0)
            {
                Store(safe * w + step * safe * (safe - 1) / 2);
                i += safe;
            }
            else
            {
                Line(firstLine + i, cycle, w);
                i++;
            }
        }
    }

    /// <summary>
    /// The most lines, up to <paramref name="most"/>, of widths w, w + step, … whose words fit in
    /// <paramref name="room"/>: all of them store without closing a line or waiting.
    /// </summary>
    private static long Fitting(long w, long step, long most, long room)
    {
        if (room < w || most <= 0) return 0;
        if (step == 0) return Math.Min(most, room / Math.Max(1, w));
        long lo = 1, hi = most;
        while (lo < hi)
        {
            long mid = lo + (hi - lo + 1) / 2;
            if (mid * w + step * mid * (mid - 1) / 2 <= room) lo = mid; else hi = mid - 1;
        }
        return lo;
    }

    /// <summary>
    /// <paramref name="lines"/> consecutive demand lines, the first at <paramref name="firstCycle"/>,
    /// line i carrying width0 + step·i words (≥ 0); a line's stall delays the lines after it. Lines
    /// that can neither start a drain nor wait are stored in bulk. Returns the stall cycles.
    /// </summary>
    public long WriteLinesFrom(long firstCycle, long lines, long width0, long step)
    {
        if (width0 == 0 && step == 0) return 0; // empty lines change nothing
        long i = 0, stall = 0;
        while (i < lines)
        {
            long cycle = firstCycle + i + stall, width = width0 + step * i;
            long n = cycle < _drainEnd
                ? Fitting(width, step, Math.Min(lines - i, _drainEnd - cycle), _free - 1)
                : Fitting(width, step, lines - i, _free - _active);
            if (n > 0)
            {
                Store(n * width + step * n * (n - 1) / 2);
                i += n;
            }
            else
            {
                stall += WriteLine(cycle, width);
                i++;
            }
        }
        return stall;
    }

    private void Line(long line, long cycle, long width)
    {
        long stall = WriteLine(cycle, width);
        if (stall == 0) return;
        Stalls += stall;
        (_stallSteps ??= []).Add((line, Stalls));
    }

    private List<(long Line, long StallsAfter)>? _stallSteps;

    /// <summary>Stall cycles accumulated by runs fed through <see cref="WriteRun"/> up to and including demand line <paramref name="line"/>.</summary>
    public readonly long StallsThrough(long line)
    {
        long stalls = 0;
        if (_stallSteps is null) return 0;
        foreach (var (l, after) in _stallSteps)
        {
            if (l > line) break;
            stalls = after;
        }
        return stalls;
    }

    /// <summary>One demand line of <paramref name="width"/> words arriving at <paramref name="cycle"/>; returns the cycles it stalled.</summary>
    public long WriteLine(long cycle, long width)
    {
        long start = cycle, left = width;
        while (left > 0)
        {
            if (cycle < _drainEnd)
            {
                long n = _free >= 1 ? _free : 1;
                if (n > left) { Store(left); break; }
                Store(n);
                left -= n;
                cycle = _drainEnd;
            }
            else
            {
                long n = Math.Max(1, _free - _active + 1);
                if (n > left) { Store(left); break; }
                Store(n);
                left -= n;
                CloseLine();
                _drainEnd = DrainChunk(cycle);
            }
        }
        return cycle - start;
    }

    private void Store(long words)
    {
        _free -= words;
        _lineFill += words;
        _closedLines += _lineFill / _bandwidth;
        _lineFill %= _bandwidth;
    }

    private void CloseLine()
    {
        if (_lineFill == 0) return;
        (_partialLines ??= new()).Enqueue((_closedLines, _lineFill));
        _closedLines++;
        _lineFill = 0;
    }

    private long DrainChunk(long start)
    {
        long lines = DrainLines;
        long end = Math.Min(_drainStartLine + lines, _closedLines);
        long n = end - _drainStartLine;
        if (n <= 0) return _drainEnd;
        long words = n * _bandwidth;
        while (_partialLines is { Count: > 0 } q && q.Peek().Line < end)
        {
            var (line, valid) = q.Dequeue();
            if (line == end - 1) words -= _bandwidth - valid;
        }
        Accesses += words;
        _free += words;
        _drainStartLine = end;
        if (FirstDrainCycle < 0) FirstDrainCycle = start;
        // SCALE-Sim reports the cycle of the last line written, not the latest one.
        LastDrainCycle = start + n - 1;
        return start + n - 1;
    }

    /// <summary>
    /// Everything that decides how the buffer goes on from demand line <paramref name="baseLine"/>, relative to
    /// that line and to the next DRAM line to drain: two moments with equal states, fed the same demand from
    /// there on, repeat each other (shifted in lines and DRAM lines). False when stalls have already shifted the
    /// cycles or more partial lines are waiting than the state holds.
    /// </summary>
    public readonly bool TryState(long baseLine, out State state)
    {
        state = default;
        if (Stalls != 0 || _partialLines is { Count: > 2 }) return false;
        long q0 = -1, v0 = 0, q1 = -1, v1 = 0;
        if (_partialLines is { Count: > 0 } q)
        {
            int i = 0;
            foreach (var (line, valid) in q)
            {
                if (i++ == 0) (q0, v0) = (line - _drainStartLine, valid);
                else (q1, v1) = (line - _drainStartLine, valid);
            }
        }
        // A drain that ended before the line cannot delay anything any more: all such are the same.
        state = new State(_free, _lineFill, _closedLines - _drainStartLine, Math.Max(0, _drainEnd - baseLine), q0, v0, q1, v1);
        return true;
    }

    /// <summary>The buffer's state relative to a demand line (<see cref="TryState"/>).</summary>
    public readonly record struct State(long Free, long LineFill, long PendingLines, long DrainEndAfter, long Partial0, long Valid0, long Partial1, long Valid1);

    /// <summary>What <see cref="Repeat"/> needs of the earlier of two equal states.</summary>
    public readonly record struct Mark(long At, long Accesses, long ClosedLines, long LastDrainCycle);

    /// <summary>This buffer's counters, to be kept with the state taken at <paramref name="at"/>.</summary>
    public readonly Mark MarkAt(long at) => new(at, Accesses, _closedLines, LastDrainCycle);

    /// <summary>
    /// The buffer is in the state it was in at <paramref name="mark"/>, <paramref name="lines"/> demand lines
    /// ago, and will be fed that same demand <paramref name="times"/> more times: adds those periods at once
    /// (their DRAM writes, DRAM lines and drain cycles). <paramref name="baseLine"/> is the line the state was
    /// taken at now.
    /// </summary>
    public void Repeat(in Mark mark, long lines, long times, long baseLine)
    {
        long dAccesses = Accesses - mark.Accesses, dLines = _closedLines - mark.ClosedLines, shift = times * lines;
        Accesses += times * dAccesses;
        _closedLines += times * dLines;
        _drainStartLine += times * dLines;
        if (_partialLines is { Count: > 0 } q)
        {
            int n = q.Count;
            for (int i = 0; i < n; i++)
            {
                var (line, valid) = q.Dequeue();
                q.Enqueue((line + times * dLines, valid));
            }
        }
        if (_drainEnd > baseLine) _drainEnd += shift;
        // A drain within the period: the last one is the period's last, that many periods on.
        if (LastDrainCycle != mark.LastDrainCycle) LastDrainCycle += shift;
    }

    /// <summary>SCALE-Sim's final flush, starting at the cycle of the last demand line.</summary>
    public void DrainAll(long cycle)
    {
        CloseLine();
        while (_drainStartLine < _closedLines)
        {
            _drainEnd = DrainChunk(cycle);
            cycle = _drainEnd + 1;
        }
    }
}
