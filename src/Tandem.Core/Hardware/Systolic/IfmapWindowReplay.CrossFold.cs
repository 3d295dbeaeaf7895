namespace Tandem.Core.Hardware.Systolic;

internal static partial class IfmapWindowReplay
{
    /// <summary>OS folds counted from their start after a close in an earlier fold (<c>State.Lines</c>), on this thread (for tests).</summary>
    [ThreadStatic] internal static long CrossTails;

    /// <summary>Of <see cref="CrossTails"/>, the folds that did not close the window, on this thread (for tests).</summary>
    [ThreadStatic] internal static long CrossTailsWithoutClose;

    /// <summary>
    /// For tests, on this thread: every OS fold of 32 rows or more after a close in the fold before or an earlier one of its sweep is
    /// counted from its start, whether or not counting pays or the last window's rate says the fold closes the window.
    /// </summary>
    [ThreadStatic] internal static bool CountEveryFoldFromItsStart;

    private partial struct State
    {
        /// <summary>
        /// At the start of OS fold f: whether it is counted from its start (<see cref="Lines"/>, <see cref="CountedTail"/>)
        /// — when the window last closed in the fold before it in time (f − 1: the previous row fold of the sweep, or the
        /// last row fold of the sweep before), or in an earlier fold of the same sweep, and the fold closes the window
        /// (the last window's rate says so, as for a counted tail; a fold after counted blocks always does) — and with
        /// what close: its line and row in its fold, whose first pixel and rows are noted.
        /// </summary>
        private void NoteCrossFold(long f)
        {
            _crossTc = -1;
            var g = _g;
            bool every = CountEveryFoldFromItsStart;
            if (f < 1 || _pCount < CountedTailRows || LastCloseLine < 0 || !(every || CrossPays)) return;
            long closeFold = LastCloseLine / g.FoldCycles;
            if (closeFold >= f || (closeFold < f - 1 && closeFold < f - f % g.RowFolds)) return;
            if (!every && _geoFrom < 0 && FoldLines * _windowRate * _reach < _window - _open) return;
            long fr = closeFold % g.RowFolds;
            (_prevP0, _prevN) = ((int)(fr * g.Ra), (int)g.RowsUsed(fr));
            (_crossTc, _crossRc) = ((int)(LastCloseLine - closeFold * g.FoldCycles), (int)(LastClosePixel - _prevP0));
        }

        /// <summary>
        /// Whether counting a fold from its start pays: its segments (per tap, about one per candidate pixel and ofmap row
        /// the fold spans) are fewer than the 64-bit words its reads mark, by a factor of CrossFactor (layers with few
        /// channels, such as stems, read few words per tap and fold: there the groups of Lines cost less).
        /// </summary>
        private readonly bool CrossPays
        {
            get
            {
                var l = _g.L;
                long candidates = (long)((l.FilterHeight + _sh - 1) / _sh) * ((l.FilterWidth + _sw - 1) / _sw);
                long segments = Taps * candidates * (_pCount / _ew + 2), words = (long)_pCount * _kCount / 64;
                return CrossFactor * segments <= words;
            }
        }

        /// <summary>See <see cref="CrossPays"/>.</summary>
        private const int CrossFactor = 2;

        /// <summary>
        /// The reads of this OS fold before its first close, after a close (tc, rc) in fold f_c before it (the fold just
        /// before, or one of the same sweep): the window holds exactly the words read after that close — f_c's reads
        /// after it and all reads of the folds between (of the pixels between f_c's and this fold's); every earlier read
        /// came before it. So a read is new iff its word was not read earlier in this fold (<see cref="PrepareFold"/>:
        /// none, <c>NoPredecessor</c>), nor by a pixel between, and the latest read of it in f_c, if any, came at or
        /// before the close. Pixel p + dr (dr = a·Ew + b: a ofmap rows, b columns on) reads the word pixel p
        /// reads at tap j at tap j − a·sh·S − b·sw, dl = a·(sh·S·C − Ew) + b·(sw·C − 1) lines earlier within a fold; with
        /// f_c starting Δ pixels after this fold (Δ = −Ra for the row fold just before in a sweep, 0 when a sweep is one
        /// fold), that read lies on line t − dl − Δ of f_c and on its row r + dr − Δ. For a row and tap, rows with such a
        /// pixel between f_c and this fold (in the ofmap row) hit; otherwise the latest read is the first such pixel,
        /// fewest lines back, that lies in f_c and in the ofmap row: the segments of this fold's <c>NoPredecessor</c> rows
        /// are painted with them as <see cref="BuildSegments"/> paints its own (line distance dl + Δ, biased by
        /// <c>_crossBias</c> to stay positive for <see cref="FillCountsBySegments"/>; row offset dr − Δ). Rows whose reads
        /// hit have no segment.
        /// </summary>
        private void PrepareCross()
        {
            if (_crossP0 == _p0 && _crossN == _pCount && _crossPrev == _prevP0) return;
            (_crossP0, _crossN, _crossPrev) = (_p0, _pCount, _prevP0);
            // Pixels [p0 + hitFrom, p0) lie between f_c and this fold (none when hitFrom ≥ 0).
            int taps = Taps, delta = _prevP0 - _p0, hitFrom = delta + _prevN;
            if (_xStart is null) ListCrossCandidates();
            bool caches = CachesFolds;
            if (caches && (_crossCache ??= new()).TryGetValue((_p0, _prevP0), out var keptCross))
            {
                keptCross.Segs.CopyTo(Rent(ref _xSegs, Math.Max(keptCross.Segs.Length, SegmentInts * 16)), 0);
                keptCross.TapStart.CopyTo(Rent(ref _xTapStart, taps + 1), 0);
                (_xSegCount, _crossBias) = (keptCross.Count, keptCross.Bias);
                return;
            }
            // dl + Δ + bias ≥ 1 for every candidate.
            _crossBias = (int)Math.Max(1, 1L - _xLowest - delta);
            var st = _xStart!;
            var cLine = _xLine!;
            var cRow = _xRow!;
            var cShift = _xShift!;
            var segs = _segs!;
            var tapSegments = _tapSegments!;
            var tapStart = Rent(ref _xTapStart, taps + 1);
            Rent(ref _xSegs, SegmentInts * Math.Max(16, 4 * taps));
            _xSegCount = 0;
            int maxCandidates = 1;
            for (int j = 0; j < taps; j++) maxCandidates = Math.Max(maxCandidates, st[j + 1] - st[j]);
            int half = 2 * (maxCandidates + 2);
            Span<int> pieces = 3 * half <= 384 ? stackalloc int[384] : new int[3 * half];
            var painted = pieces.Slice(2 * half, half);
            for (int j = 0; j < taps; j++)
            {
                tapStart[j] = _xSegCount;
                // When f_c lies wholly before this fold, rows from `reach` on have every pixel that reads their word inside
                // this fold (reading it after them, as they have no earlier reader here): nothing to paint. (When f_c is
                // these pixels or the sweep's first ones, after a sweep that wraps, its pixels are also this fold's.)
                int reach = 0;
                if (hitFrom <= 0)
                    for (int q = st[j]; q < st[j + 1]; q++) reach = Math.Max(reach, -cRow[q]);
                else reach = int.MaxValue;
                for (int q0 = SegmentInts * tapSegments[j], q0End = SegmentInts * tapSegments[j + 1]; q0 < q0End; q0 += SegmentInts)
                {
                    if (segs[q0 + 3] != NoPredecessor) continue;
                    int r1 = segs[q0 + 1], r2 = segs[q0 + 2];
                    if (r1 >= reach)
                    {
                        AddCrossSegment(j, r1, r2, NoPredecessor, 0);
                        continue;
                    }
                    int rEnd = Math.Min(r2, reach - 1);
                    if (rEnd < r2) AddCrossSegment(j, rEnd + 1, r2, NoPredecessor, 0);
                    // The segment lies in one ofmap row: row r has column ox1 + r − r1.
                    int ox1 = (_p0 + r1) % _ew, count = 1, from = 0;
                    (pieces[0], pieces[1]) = (r1, rEnd + 1);
                    // First the rows whose word a pixel between f_c and this fold read (hits: cut out, no segment), then
                    // f_c's pixels in order (none within reach when f_c's last row lies before row r1 − reach).
                    int passEnd = delta + _prevN - 1 < r1 - reach ? 1 : 2;
                    for (int pass = hitFrom < 0 ? 0 : 1; pass < passEnd; pass++)
                    for (int q = st[j]; q < st[j + 1] && count > 0; q++)
                    {
                        // Rows whose pixel p + dr lies in f_c (pass 1) or between it and this fold (pass 0), and in the ofmap row.
                        long lo = Math.Max(pass == 0 ? (long)hitFrom - cRow[q] : (long)delta - cRow[q], (long)r1 - ox1 - cShift[q]);
                        long hi = Math.Min(pass == 0 ? -(long)cRow[q] : (long)delta - cRow[q] + _prevN, (long)r1 - ox1 - cShift[q] + _ew);
                        if (lo >= hi) continue;
                        int parts = Paint(pieces, ref from, ref count, half, lo, hi, painted);
                        if (pass == 1)
                            for (int u = 0; u < parts; u++)
                                AddCrossSegment(j, painted[2 * u], painted[2 * u + 1] - 1, cLine[q] + delta + _crossBias, cRow[q] - delta);
                    }
                    for (int u = 0; u < count; u++) AddCrossSegment(j, pieces[from + 2 * u], pieces[from + 2 * u + 1] - 1, NoPredecessor, 0);
                }
            }
            tapStart[taps] = _xSegCount;
            if (caches)
                _crossCache![(_p0, _prevP0)] = (_xSegs!.AsSpan(0, SegmentInts * _xSegCount).ToArray(), _xSegCount, tapStart.AsSpan(0, taps + 1).ToArray(), _crossBias);
        }

        /// <summary>
        /// Whether folds' segments (<see cref="BuildSegments"/>, <see cref="PrepareCross"/>) are kept for the evaluation:
        /// when every column fold's sweep repeats the same few row folds (AlexNet's 13×13 layers on 32-row arrays: 4 row
        /// folds, 8–12 sweeps), each fold's are built once instead of once per sweep. (A sweep of one fold keeps its
        /// segments anyway: they are rebuilt only for another fold.)
        /// </summary>
        private readonly bool CachesFolds => _g.ColFolds > 1 && _g.RowFolds is > 1 and <= MaxCachedRowFolds;

        private const int MaxCachedRowFolds = 16;

        /// <summary><see cref="BuildSegments"/>, or, when folds are kept (<see cref="CachesFolds"/>), this fold's as built before.</summary>
        private void BuildOrRestoreSegments(int n, int rr, int ss)
        {
            int taps = rr * ss;
            if (!CachesFolds)
            {
                BuildSegments(n, rr, ss);
                return;
            }
            if ((_foldCache ??= new()).TryGetValue(_p0, out var kept))
            {
                kept.Segs.CopyTo(Rent(ref _segs, Math.Max(kept.Segs.Length, SegmentInts * Math.Max(16, 4 * taps))), 0);
                kept.TapStart.CopyTo(Rent(ref _tapSegments, taps + 1), 0);
                _segCount = kept.Count;
                return;
            }
            BuildSegments(n, rr, ss);
            _foldCache[_p0] = (_segs!.AsSpan(0, SegmentInts * _segCount).ToArray(), _segCount, _tapSegments!.AsSpan(0, taps + 1).ToArray());
        }

        /// <summary>
        /// For <see cref="PrepareCross"/>, once per layer: per tap, every pixel shift (a, b) whose pixel's window holds the
        /// tap's word, the pixel itself included, sorted latest first (fewest lines back, then furthest down the array,
        /// which reads later on its line).
        /// </summary>
        private void ListCrossCandidates()
        {
            var l = _g.L;
            int rr = l.FilterHeight, ss = l.FilterWidth, taps = rr * ss;
            long alpha = (long)_sh * _sc - _ew, beta = (long)_sw * _c - 1, lowest = 0;
            // Per tap at most ⌈R / sh⌉ · ⌈S / sw⌉ shifts.
            int most = ((rr + _sh - 1) / _sh) * ((ss + _sw - 1) / _sw), total = 0;
            var start = Rent(ref _xStart, taps + 1);
            var xl = Rent(ref _xLine, taps * most);
            var xr = Rent(ref _xRow, taps * most);
            var xs = Rent(ref _xShift, taps * most);
            for (int kr = 0; kr < rr; kr++)
                for (int kc = 0; kc < ss; kc++)
                {
                    int first = total;
                    start[kr * ss + kc] = first;
                    for (int a = -((rr - 1 - kr) / _sh); a <= kr / _sh; a++)
                        for (int b = -((ss - 1 - kc) / _sw); b <= kc / _sw; b++)
                        {
                            long dl = a * alpha + b * beta, dr = (long)a * _ew + b;
                            lowest = Math.Min(lowest, dl);
                            // Inserted in order (a few per tap).
                            int at = total++;
                            for (; at > first && (xl[at - 1] > dl || (xl[at - 1] == dl && xr[at - 1] < dr)); at--)
                                (xl[at], xr[at], xs[at]) = (xl[at - 1], xr[at - 1], xs[at - 1]);
                            (xl[at], xr[at], xs[at]) = ((int)dl, (int)dr, b);
                        }
                }
            start[taps] = total;
            _xLowest = (int)lowest;
        }

        /// <summary>
        /// For a read of tap j by row r with no earlier read of its word in this fold: the biased line distance to the latest
        /// read of it in the fold before (<c>NoPredecessor</c> if none) and that read's row there (as a segment of
        /// <see cref="PrepareCross"/> holds them; for the line on which the window closes, walked read by read); Invalid
        /// when a pixel between f_c and this fold read it (a hit).
        /// </summary>
        private readonly int CrossPredecessor(int j, int r, out int predRow)
        {
            var st = _xStart!;
            int delta = _prevP0 - _p0, ox = (_p0 + r) % _ew, hitFrom = delta + _prevN;
            if (hitFrom < 0)
                for (int q = st[j]; q < st[j + 1]; q++)
                {
                    int between = r + _xRow![q], column = ox + _xShift![q];
                    if (between >= hitFrom && between < 0 && column >= 0 && column < _ew)
                    {
                        predRow = 0;
                        return Invalid;
                    }
                }
            for (int q = st[j]; q < st[j + 1]; q++)
            {
                int rowBefore = r + _xRow![q] - delta, column = ox + _xShift![q];
                if (rowBefore < 0 || rowBefore >= _prevN || column < 0 || column >= _ew) continue;
                predRow = rowBefore;
                return _xLine![q] + delta + _crossBias;
            }
            predRow = 0;
            return NoPredecessor;
        }

        private void AddCrossSegment(int tap, int r1, int r2, int d, int dr) => AppendSegment(ref _xSegs!, ref _xSegCount, tap, r1, r2, d, dr);

        /// <summary>Returns the arrays <see cref="PrepareCross"/> rented.</summary>
        private readonly void ReleaseCross()
        {
            var ints = System.Buffers.ArrayPool<int>.Shared;
            if (_xStart is not null) ints.Return(_xStart);
            if (_xLine is not null) ints.Return(_xLine);
            if (_xRow is not null) ints.Return(_xRow);
            if (_xShift is not null) ints.Return(_xShift);
            if (_xSegs is not null) ints.Return(_xSegs);
            if (_xTapStart is not null) ints.Return(_xTapStart);
        }
    }
}
