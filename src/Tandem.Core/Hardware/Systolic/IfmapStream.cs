namespace Tandem.Core.Hardware.Systolic;

/// <summary>
/// Counting over SCALE-Sim's CALC ifmap demand stream without walking it: how many (pixel, window
/// element) pairs are valid (inside the ifmap) in a range of pixels, elements, folds or lines, and
/// on which demand line the n-th valid pair falls. A pair is valid when its filter row and column
/// land inside the ifmap, so the count factors into rows × columns per pixel or per filter tap; every
/// count here is a closed form or a sum over at most one filter's taps or one fold's array rows.
/// </summary>
internal readonly struct IfmapStream
{
    private readonly SystolicModel.Geometry _g;
    private readonly long _h, _w, _c, _r, _s, _sh, _sw, _eh, _ew, _sc;

    public IfmapStream(in SystolicModel.Geometry g)
    {
        _g = g;
        var l = g.L;
        (_h, _w, _c, _r, _s, _sh, _sw, _eh, _ew) = (l.IfmapHeight, l.IfmapWidth, l.Channels, l.FilterHeight, l.FilterWidth,
            l.StrideHeight, l.StrideWidth, l.OfmapHeight, l.OfmapWidth);
        _sc = _s * _c;
    }

    // ---------------------------------------------------------------- per pixel and per tap

    /// <summary>Filter rows of ofmap row <paramref name="oy"/> inside the ifmap (0 for round-up rows past it).</summary>
    private long RowsValid(long oy) => Math.Clamp(_h - oy * _sh, 0, _r);
    private long ColsValid(long ox) => Math.Clamp(_w - ox * _sw, 0, _s);

    /// <summary>Ofmap rows whose filter row <paramref name="kr"/> lands inside the ifmap.</summary>
    internal long PixelRowsValid(long kr) => Math.Min(_eh, (_h - kr + _sh - 1) / _sh);
    internal long PixelColsValid(long kc) => Math.Min(_ew, (_w - kc + _sw - 1) / _sw);

    /// <summary>Σ_{o &lt; n} clamp(size − o·stride, 0, kernel): the valid filter rows (or columns) of the first n ofmap rows.</summary>
    private static long PrefixClamped(long n, long size, long kernel, long stride)
    {
        if (n <= 0) return 0;
        long full = Math.Min(n, (size - kernel) / stride + 1); // o·stride + kernel ≤ size
        long sum = full * kernel;
        long last = Math.Min(n - 1, (size - 1) / stride);      // last o with size − o·stride > 0
        if (last >= full)
        {
            long count = last - full + 1;
            sum += count * size - stride * (full + last) * count / 2;
        }
        return sum;
    }

    /// <summary>Valid pairs of pixels [0, p) over their whole windows.</summary>
    public long PixelPrefix(long p)
    {
        long oy = p / _ew, ox = p - oy * _ew;
        long colsAll = PrefixClamped(_ew, _w, _s, _sw);
        long sum = PrefixClamped(oy, _h, _r, _sh) * colsAll;
        if (ox > 0) sum += RowsValid(oy) * PrefixClamped(ox, _w, _s, _sw);
        return sum * _c;
    }

    /// <summary>Valid elements among window elements [0, n) of pixel p.</summary>
    public long ElementPrefixOfPixel(long p, long n)
    {
        if (n <= 0) return 0;
        long oy = p / _ew, ox = p - oy * _ew;
        long rv = RowsValid(oy), cv = ColsValid(ox);
        long kr = n / _sc, rem = n - kr * _sc;
        long sum = Math.Min(kr, rv) * cv * _c;
        if (kr < rv) sum += Math.Min(rem, cv * _c);
        return sum;
    }

    /// <summary>Valid pairs of window elements [0, n) over all pixels.</summary>
    public long ElementPrefix(long n) => ElementPrefixOfBlock(n, 0, _g.M);

    /// <summary>
    /// Valid pairs of window elements [0, n) over pixels [pa, pb). An element's valid pixels depend
    /// only on its filter tap (kr, kc), through the ofmap rows and columns it reaches (vr, vc); taps
    /// below <c>H − (E_h − 1)·stride</c> rows and <c>W − (E_w − 1)·stride</c> columns reach them all, so only
    /// the clipped taps are summed one by one (a GEMM, one filter row of K taps, has none).
    /// </summary>
    private long ElementPrefixOfBlock(long n, long pa, long pb)
    {
        if (n <= 0 || pb <= pa) return 0;
        long kr = n / _sc, rem = n - kr * _sc, kc = rem / _c, ch = rem - kc * _c;
        long krFull = Math.Clamp(_h - (_eh - 1) * _sh, 0, _r);
        long fullRows = Math.Min(kr, krFull);
        long sum = fullRows * RowOfTaps(PixelRowsValid(0), _s, pa, pb);
        for (long j = fullRows; j < kr && j < _r; j++) sum += RowOfTaps(PixelRowsValid(j), _s, pa, pb);
        sum *= _c;
        if (kr < _r)
        {
            long vr = PixelRowsValid(kr);
            sum += _c * RowOfTaps(vr, kc, pa, pb);
            if (kc < _s) sum += ch * Block(vr, PixelColsValid(kc), pa, pb);
        }
        return sum;
    }

    /// <summary>Σ over taps kc &lt; <paramref name="taps"/> of one filter row reaching <paramref name="vr"/> ofmap rows: pixels of [pa, pb) each tap reaches.</summary>
    private long RowOfTaps(long vr, long taps, long pa, long pb)
    {
        long kcFull = Math.Clamp(_w - (_ew - 1) * _sw, 0, _s);
        long full = Math.Min(taps, kcFull);
        long sum = full * Block(vr, _ew, pa, pb);
        for (long j = full; j < taps; j++) sum += Block(vr, PixelColsValid(j), pa, pb);
        return sum;
    }

    /// <summary>Pixels of [pa, pb) in the first <paramref name="vr"/> ofmap rows and <paramref name="vc"/> columns.</summary>
    private long Block(long vr, long vc, long pa, long pb) => Reached(vr, vc, pb) - Reached(vr, vc, pa);

    private long Reached(long vr, long vc, long p)
    {
        long oy = p / _ew, ox = p - oy * _ew;
        long sum = Math.Min(oy, vr) * vc;
        if (oy < vr) sum += Math.Min(ox, vc);
        return sum;
    }

    /// <summary>Valid pairs of one sweep of the stream: every pixel's window once.</summary>
    public long PerSweep => PixelPrefix(_g.M);

    /// <summary>Valid pairs of the whole stream (OS and WS sweep the ifmap once per column fold).</summary>
    public long Total => _g.Flow == SystolicDataflow.InputStationary ? PerSweep : PerSweep * _g.ColFolds;

    // ---------------------------------------------------------------- where the n-th valid pair falls

    /// <summary>Demand line of the valid pair with 0-based index <paramref name="n"/> of the stream.</summary>
    public long LineOfValidPair(long n)
    {
        var g = _g;
        if (EveryPairValid) return LineOfPair(n);
        // Each search below finds the largest x whose count of valid pairs before it is at most n.
        long lo, hi, mid;
        switch (g.Flow)
        {
            case SystolicDataflow.OutputStationary:
            {
                long per = PerSweep, sweep = n / per;
                n -= sweep * per;
                for (lo = 0, hi = g.RowFolds - 1; lo < hi;)
                    if (PixelPrefix((mid = lo + (hi - lo + 1) / 2) * g.Ra) <= n) lo = mid; else hi = mid - 1;
                long fr = lo, p0 = fr * g.Ra, ru = g.RowsUsed(fr);
                n -= PixelPrefix(p0);
                for (lo = 0, hi = g.K + ru - 2; lo < hi;)
                    if (OutputStationaryLines(p0, ru, mid = lo + (hi - lo + 1) / 2) <= n) lo = mid; else hi = mid - 1;
                return (sweep * g.RowFolds + fr) * g.FoldCycles + lo;
            }
            case SystolicDataflow.WeightStationary:
            {
                long per = PerSweep, sweep = n / per;
                n -= sweep * per;
                for (lo = 0, hi = g.RowFolds - 1; lo < hi;)
                    if (ElementPrefix((mid = lo + (hi - lo + 1) / 2) * g.Ra) <= n) lo = mid; else hi = mid - 1;
                long fr = lo, k0 = fr * g.Ra, ru = g.RowsUsed(fr);
                n -= ElementPrefix(k0);
                for (lo = 0, hi = g.M + ru - 2; lo < hi;)
                    if (WeightStationaryLines(k0, ru, mid = lo + (hi - lo + 1) / 2) <= n) lo = mid; else hi = mid - 1;
                return (sweep * g.RowFolds + fr) * g.FoldCycles + g.Ra + lo;
            }
            default:
            {
                for (lo = 0, hi = g.ColFolds - 1; lo < hi;)
                    if (PixelPrefix((mid = lo + (hi - lo + 1) / 2) * g.Ca) <= n) lo = mid; else hi = mid - 1;
                long fc = lo, pa = fc * g.Ca, pb = pa + g.ColsUsed(fc);
                n -= PixelPrefix(pa);
                for (lo = 0, hi = g.RowFolds - 1; lo < hi;)
                    if (ElementPrefixOfBlock((mid = lo + (hi - lo + 1) / 2) * g.Ra, pa, pb) <= n) lo = mid; else hi = mid - 1;
                long fr = lo, k0 = fr * g.Ra, ru = g.RowsUsed(fr), foldLine = (fc * g.RowFolds + fr) * g.FoldCycles;
                n -= ElementPrefixOfBlock(k0, pa, pb);
                // Line Ra − 1 − row carries element k0 + row of every pixel of the block, highest row first, so the lines up
                // to row r's carry the pairs of elements k0 + r … k0 + ru − 1: the pair is on the line of the largest row r
                // whose lines so far carry more than n pairs (row 0 if no other).
                long top = ElementPrefixOfBlock(k0 + ru, pa, pb);
                for (lo = 0, hi = ru - 1; lo < hi;)
                    if (top - ElementPrefixOfBlock(k0 + (mid = lo + (hi - lo + 1) / 2), pa, pb) > n) lo = mid; else hi = mid - 1;
                return foldLine + g.Ra - 1 - lo;
            }
        }
    }

    /// <summary>Whether every window element of every pixel lies inside the ifmap (no ofmap rounded up past it).</summary>
    private bool EveryPairValid => (_eh - 1) * _sh + _r <= _h && (_ew - 1) * _sw + _s <= _w;

    /// <summary>
    /// <see cref="LineOfValidPair"/> when every pair is valid: every fold of Ra·Ca array cells reads rows used × columns
    /// used pairs, so the fold follows by division, and inside it the line of an OS fold's pair (ramp, plateau, ramp of
    /// rows used × K) or a WS fold's (rows used × M) inverts in closed form (<see cref="SystolicModel.SkewedLine"/>); an
    /// IS fold's lines each carry one element of all its pixels, highest array row first.
    /// </summary>
    private long LineOfPair(long n)
    {
        var g = _g;
        if (g.Flow == SystolicDataflow.InputStationary)
        {
            long fc = n / (g.Ca * g.K);
            n -= fc * g.Ca * g.K;
            long cu = g.ColsUsed(fc), fr = n / (g.Ra * cu);
            n -= fr * g.Ra * cu;
            return (fc * g.RowFolds + fr) * g.FoldCycles + g.Ra - g.RowsUsed(fr) + n / cu;
        }
        // OS and WS sweep all M·K pairs once per column fold; a row fold's block is rows used × K (OS) or × M (WS), and a
        // WS fold's lines start after its Ra cycles of weight loading.
        bool os = g.Flow == SystolicDataflow.OutputStationary;
        long width = os ? g.K : g.M, per = g.M * g.K, sweep = n / per;
        n -= sweep * per;
        long row = n / (g.Ra * width);
        n -= row * g.Ra * width;
        return (sweep * g.RowFolds + row) * g.FoldCycles + (os ? 0 : g.Ra) + SystolicModel.SkewedLine(n, g.RowsUsed(row), width);
    }

    /// <summary>Valid pairs on lines [0, t) of the OS fold of pixels [p0, p0 + ru): line t carries element t − r of array row r.</summary>
    private long OutputStationaryLines(long p0, long ru, long t)
    {
        // Pixels whose whole window lies inside the ifmap have every element valid: runs of them
        // along an ofmap row are summed as a series.
        long oyFull = Math.Min(_eh, _h >= _r ? (_h - _r) / _sh + 1 : 0), oxFull = Math.Min(_ew, _w >= _s ? (_w - _s) / _sw + 1 : 0);
        long sum = 0, end = Math.Min(ru, t);
        for (long r = 0; r < end;)
        {
            long p = p0 + r, oy = p / _ew, ox = p - oy * _ew;
            if (oy < oyFull && ox < oxFull)
            {
                // Up to the row's last full pixel, or through all full rows when every column is.
                long runEnd = Math.Min(end, oxFull == _ew ? oyFull * _ew - p0 : r + oxFull - ox);
                sum += SumOfMin(r, runEnd, t, _g.K);
                r = runEnd;
            }
            else
            {
                sum += ElementPrefixOfPixel(p, Math.Min(_g.K, t - r));
                r++;
            }
        }
        return sum;
    }

    /// <summary>Valid pairs on relative lines [0, u) of the WS fold of elements [k0, k0 + ru): line u carries pixel u − r against element k0 + r.</summary>
    private long WeightStationaryLines(long k0, long ru, long u)
    {
        // Elements of taps that reach every ofmap pixel: runs of them within a filter row are
        // summed as a series.
        long krFull = Math.Clamp(_h - (_eh - 1) * _sh, 0, _r), kcFull = Math.Clamp(_w - (_ew - 1) * _sw, 0, _s);
        long sum = 0, end = Math.Min(ru, u);
        for (long r = 0; r < end;)
        {
            long k = k0 + r, kr = k / _sc, kc = (k - kr * _sc) / _c;
            if (kr < krFull && kc < kcFull)
            {
                long runEnd = Math.Min(end, kr * _sc + kcFull * _c - k0);
                sum += SumOfMin(r, runEnd, u, _g.M);
                r = runEnd;
            }
            else
            {
                // The channels of one clipped tap share its reach (vr, vc): element k0 + r meets
                // pixels [0, min(M, u − r)), a run of consecutive prefixes summed through F.
                long runEnd = Math.Min(end, (k / _c + 1) * _c - k0);
                long vr = PixelRowsValid(kr), vc = PixelColsValid(kc), m = _g.M;
                long capped = Math.Clamp(u - m + 1, r, runEnd); // r < capped: u − r ≥ M
                sum += (capped - r) * vr * vc;
                if (capped < runEnd) sum += PrefixSumOfReach(vr, vc, u - capped + 1) - PrefixSumOfReach(vr, vc, u - runEnd + 1);
                r = runEnd;
            }
        }
        return sum;
    }

    /// <summary>
    /// F(P) = Σ_{p &lt; P} f(p), f(p) = the pixels of [0, p) in the first vr ofmap rows and vc
    /// columns (the pixels of [0, p) that reach a tap valid for vr × vc pixels).
    /// </summary>
    private long PrefixSumOfReach(long vr, long vc, long count)
    {
        long oyP = count / _ew, oxP = count - oyP * _ew;
        long y1 = Math.Min(oyP, vr);
        long sum = _ew * vc * (y1 * (y1 - 1) / 2) + y1 * MinSum(_ew, vc) + (oyP - y1) * _ew * vr * vc;
        if (oxP > 0) sum += oyP < vr ? oxP * oyP * vc + MinSum(oxP, vc) : oxP * vr * vc;
        return sum;
    }

    /// <summary>Σ_{x &lt; n} min(x, v).</summary>
    private static long MinSum(long n, long v) => n <= v ? n * (n - 1) / 2 : v * (v - 1) / 2 + (n - v) * v;

    /// <summary>Σ_{r = r1}^{r2 − 1} min(cap, u − r), for r2 ≤ u.</summary>
    private static long SumOfMin(long r1, long r2, long u, long cap)
    {
        long a = Math.Clamp(u - cap + 1, r1, r2); // r < a: u − r ≥ cap
        return (a - r1) * cap + (r2 - a) * u - (a + r2 - 1) * (r2 - a) / 2;
    }

    // ---------------------------------------------------------------- streams in which every read misses

    /// <summary>
    /// Whether every valid read of the stream is a miss of a window that closes after
    /// <paramref name="window"/> misses, whatever the closes: true when between any two reads of the
    /// same address at least window − 1 other distinct addresses are read (a window that held the
    /// address would have closed in between). Three cases are recognised:
    /// windows of different pixels never overlap (each sweep reads every touched word once, and the
    /// caller has checked that the touched words fill a window); weight-stationary folds whose
    /// reads of one address are separated by folds of the other channels; and weight-stationary
    /// folds aligned to channel groups with no clipped read, where the rest of the two folds that
    /// read the address are counted as well.
    /// </summary>
    public bool EveryReadMisses(long window)
    {
        // Vertically (or horizontally) neighbouring pixels share words when the filter is taller (wider)
        // than the stride; a window has no word twice. Without either, every sweep reads each touched
        // word once.
        bool overlapRows = _r > _sh && _eh > 1, overlapCols = _s > _sw && _ew > 1;
        if (!overlapRows && !overlapCols) return true;
        if (_g.Flow != SystolicDataflow.WeightStationary) return false;
        // Successive reads of a word come from window elements of the same channel at least C apart
        // in the element order (across sweeps too, since K is a multiple of C). The folds wholly
        // between them cover at least C − 2·Ra + 1 of the other C − 1 channels (C − Ra when folds are
        // aligned to channel groups), each reading as many distinct words as its tap has valid pixels.
        long ra = _g.Ra;
        long channels = _c % ra == 0 ? _c - ra : _c - 2 * ra + 1;
        long minPixels = PixelRowsValid(_r - 1) * PixelColsValid(_s - 1);
        if (channels > 0 && channels * minPixels >= window - 1) return true;
        // Folds aligned to channel groups (Ra divides C: each fold is one tap × Ra channels) and no
        // read outside the ifmap (every fold reads M·Ra distinct words). Two successive reads of a
        // word w come from folds (t1, b) and (t2, b) of its channel group b; pixel p1, array row r
        // then pixel p2 = p1 − shift, the same row, with |shift| ≤ shiftMax = ⌊(R−1)/sh⌋·Ew +
        // ⌊(S−1)/sw⌋. Between them are read: the other C − Ra channels' folds (M words per channel),
        // the pairs of fold 1 after w's and the pairs of fold 2 before w's. A pair of fold 2 reads
        // the word of the fold-1 pair shifted by the same amount, which comes before w's in fold 1,
        // so the three sets are disjoint; the last two hold at least M·Ra − 1 − shiftMax·Ra pairs
        // (the pairs between w's two positions span at most shift lines of at most Ra pairs). With
        // at least W − 1 distinct words between, a window closes in between and w misses again.
        if (_c % ra != 0 || minPixels < _eh * _ew) return false;
        long shiftMax = (_r - 1) / _sh * _ew + (_s - 1) / _sw;
        return _c * _eh * _ew - shiftMax * ra >= window;
    }
}
