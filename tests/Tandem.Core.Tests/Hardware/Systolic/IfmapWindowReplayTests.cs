using Tandem.Core.Hardware.Systolic;

namespace Tandem.Core.Tests.Hardware.Systolic;

/// <summary>
/// Holds the fast ifmap replay (bitsets of address runs, in-order replay only around window closes)
/// to the plainest replay of every demand address, on random layers, arrays and windows small
/// enough to close many times per fold, for every dataflow.
/// </summary>
public sealed class IfmapWindowReplayTests
{
    [Theory]
    [InlineData(SystolicDataflow.OutputStationary)]
    [InlineData(SystolicDataflow.WeightStationary)]
    [InlineData(SystolicDataflow.InputStationary)]
    public void FastReplayEqualsAddressByAddressReplay(SystolicDataflow flow)
    {
        CheckAgainstReference(new Random(20260 + (int)flow), 150, rng =>
        {
            int r = rng.Next(1, 6), s = rng.Next(1, 6);
            int h = rng.Next(r, r + 14), w = rng.Next(s, s + 14);
            int stride = rng.Next(1, 4);
            var shape = SystolicLayerShape.FromScaleSim(h, w, r, s, rng.Next(1, 9), rng.Next(1, 9), stride, rng.Next(1, 4));
            var config = new SystolicConfig { Rows = rng.Next(1, 9), Columns = rng.Next(1, 9), Dataflow = flow };
            return (shape, config, rng.Next(1, 200));
        });
    }

    /// <summary>
    /// Stem-like layers (1–4 channels, strides up to 4, ifmaps up to 140 columns wide) on small
    /// arrays: neighbouring pixels' runs do not touch, so whole ofmap rows are marked as strided
    /// patterns starting at every phase of the 64-bit words; and OS / IS arrays of a few rows have
    /// many small folds, which go into the window several at a time while it cannot close.
    /// </summary>
    [Theory]
    [InlineData(SystolicDataflow.OutputStationary)]
    [InlineData(SystolicDataflow.WeightStationary)]
    [InlineData(SystolicDataflow.InputStationary)]
    public void FastReplayEqualsAddressByAddressReplayOnWideFewChannelLayers(SystolicDataflow flow)
    {
        CheckAgainstReference(new Random(880 + (int)flow), 120, rng =>
        {
            int r = rng.Next(1, 8), s = rng.Next(1, 8);
            int h = rng.Next(r, r + 16), w = rng.Next(s + 20, s + 140);
            var shape = SystolicLayerShape.FromScaleSim(h, w, r, s, rng.Next(1, 5), rng.Next(1, 12), rng.Next(1, 5), rng.Next(1, 5));
            var config = new SystolicConfig { Rows = rng.Next(1, 13), Columns = rng.Next(1, 7), Dataflow = flow };
            long touched = SystolicModel.TouchedIfmapWords(shape);
            return (shape, config, rng.Next(20, (int)Math.Max(21, touched)));
        });
    }

    /// <summary>
    /// Layers whose neighbouring pixels' runs start a whole number of 64-bit words apart (stride × channels of 64 or
    /// 128) on arrays whose folds cut the filter rows at arbitrary channels: runs that start at any bit of a word and
    /// span one, two or three words, marked with one set of word masks per ofmap row.
    /// </summary>
    [Theory]
    [InlineData(SystolicDataflow.OutputStationary)]
    [InlineData(SystolicDataflow.WeightStationary)]
    [InlineData(SystolicDataflow.InputStationary)]
    public void FastReplayEqualsAddressByAddressReplayWhenPixelsAreWholeWordsApart(SystolicDataflow flow)
    {
        CheckAgainstReference(new Random(6464 + (int)flow), 60, rng =>
        {
            var (c, stride) = rng.Next(4) switch { 0 => (32, 2), 1 => (64, 2), 2 => (64, 1), _ => (128, 1) };
            int r = rng.Next(1, 4), s = rng.Next(1, 4);
            int h = rng.Next(r, r + 8), w = rng.Next(s + 4, s + 12);
            var shape = SystolicLayerShape.FromScaleSim(h, w, r, s, c, rng.Next(1, 5), stride, stride);
            var config = new SystolicConfig { Rows = rng.Next(5, 90), Columns = rng.Next(1, 9), Dataflow = flow };
            long touched = SystolicModel.TouchedIfmapWords(shape);
            return (shape, config, rng.Next(40, (int)Math.Max(41, touched)));
        });
    }

    /// <summary>
    /// The four-words-at-a-time marking of whole words, marking with word masks and merging of a group's set into the
    /// window do what the word-by-word loops do: the same new bits counted, the same set and window after, on random bit patterns
    /// and ranges long enough for the byte counters to be summed (more than 31 steps of four words) or not.
    /// </summary>
    [Fact]
    public void WideMarkingAndMergingEqualWordByWord()
    {
        Assert.SkipUnless(System.Runtime.Intrinsics.X86.Avx2.IsSupported, "this machine has no AVX2, so the replay never takes the four-word path");
        var rng = new Random(4096);
        for (int trial = 0; trial < 300; trial++)
        {
            int length = rng.Next(8, 400), w = rng.Next(0, length - 4), fours = rng.Next(1, (length - w) / 4 + 1);
            // Every fourth trial empty, so that a long range brings 8 new bits per byte lane and step.
            bool empty = trial % 4 == 0;
            ulong[] Draw() => Enumerable.Range(0, length).Select(_ => empty ? 0UL : rng.Next(3) switch { 1 => ulong.MaxValue, 2 => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40), _ => 0UL }).ToArray();
            ulong[] win = Draw(), fold = Draw();
            ulong[] expectedFold = (ulong[])fold.Clone();
            long expected = 0;
            for (int i = w; i < w + 4 * fours; i++)
            {
                ulong fresh = ~(win[i] | expectedFold[i]);
                expectedFold[i] |= fresh;
                expected += System.Numerics.BitOperations.PopCount(fresh);
            }
            Assert.Equal(expected, IfmapWindowReplay.MarkWholeWords(win, fold, w, w + 4 * fours));
            Assert.Equal(expectedFold, fold);

            int last = rng.Next(w, length);
            ulong[] expectedWin = (ulong[])win.Clone();
            expectedFold = (ulong[])fold.Clone();
            int next = IfmapWindowReplay.MergeWide(win, fold, w, last);
            Assert.Equal(w + (last - w + 1) / 4 * 4, next);
            for (int i = w; i < next; i++) { expectedWin[i] |= expectedFold[i]; expectedFold[i] = 0; }
            Assert.Equal(expectedWin, win);
            Assert.Equal(expectedFold, fold);

            // Masked words from w (zero masks past count up to a multiple of four; near the arrays' end the
            // four-word steps would leave them, so the words go one by one there).
            (win, fold) = (Draw(), Draw());
            int count = rng.Next(1, length - w + 1), padded = (count + 3) & ~3, at = rng.Next(0, 5);
            var masks = new ulong[at + padded];
            for (int i = 0; i < count; i++) masks[at + i] = empty ? ulong.MaxValue : (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40);
            expectedFold = (ulong[])fold.Clone();
            expected = 0;
            for (int i = 0; i < count; i++)
            {
                ulong fresh = masks[at + i] & ~(win[w + i] | expectedFold[w + i]);
                expectedFold[w + i] |= fresh;
                expected += System.Numerics.BitOperations.PopCount(fresh);
            }
            Assert.Equal(expected, IfmapWindowReplay.MarkMasked(win, fold, w, masks, at, count));
            Assert.Equal(expectedFold, fold);
        }
    }

    /// <summary>Draws <paramref name="trials"/> (layer, array, window) cases and compares the fast replay's count with the address-by-address one on each.</summary>
    private static void CheckAgainstReference(Random rng, int trials, Func<Random, (SystolicLayerShape Shape, SystolicConfig Config, long Window)> draw)
    {
        for (int trial = 0; trial < trials; trial++)
        {
            var (shape, config, window) = draw(rng);
            var g = new SystolicModel.Geometry(shape, config);
            var fast = IfmapWindowReplay.Run(g, window);
            var slow = IfmapWindowReplay.Reference(g, window);
            Assert.True(fast == slow, $"{shape} on {config.Rows}x{config.Columns} {config.Dataflow}, window {window}: fast {fast}, reference {slow}");
        }
    }

    /// <summary>
    /// Taller arrays, more channels and windows that close a few times per fold: groups of lines
    /// start well after the last close (so WS marks whole pixel prefixes, see
    /// <c>prefixInWindow</c>) and closes are found both by shrinking groups and by replaying the
    /// few lines the rate of new words points at.
    /// </summary>
    [Theory]
    [InlineData(SystolicDataflow.OutputStationary)]
    [InlineData(SystolicDataflow.WeightStationary)]
    [InlineData(SystolicDataflow.InputStationary)]
    public void FastReplayEqualsAddressByAddressReplayOnTallerArrays(SystolicDataflow flow)
    {
        CheckAgainstReference(new Random(7100 + (int)flow), 100, rng =>
        {
            int r = rng.Next(1, 6), s = rng.Next(1, 6);
            int h = rng.Next(r, r + 12), w = rng.Next(s, s + 12);
            var shape = SystolicLayerShape.FromScaleSim(h, w, r, s, rng.Next(1, 33), rng.Next(1, 10), rng.Next(1, 4), rng.Next(1, 4));
            var config = new SystolicConfig { Rows = rng.Next(4, 41), Columns = rng.Next(1, 9), Dataflow = flow };
            return (shape, config, rng.Next(50, 1500));
        });
    }

    /// <summary>
    /// Output-stationary arrays of 16–130 rows with up to 64 channels and windows that close several
    /// times per fold: in folds of 32 rows or more, after the first close the rest of the fold is
    /// counted from each read's latest earlier read of the same word (<c>CountedTail</c>), including
    /// the lines on which a small window closes more than once and pixels whose earlier readers wrap
    /// to the next ofmap row; smaller folds are marked as before. The new reads per line are summed
    /// both ways the model has — per row and tap, and per segment of rows with the same earlier reader
    /// (second differences of trapezoids) — and each must be taken many times.
    /// </summary>
    [Fact]
    public void OutputStationaryFoldsCountedAfterACloseEqualTheAddressByAddressReplay()
    {
        IfmapWindowReplay.SegmentFills = IfmapWindowReplay.RowFills = 0;
        CheckAgainstReference(new Random(4242), 400, rng =>
        {
            int r = rng.Next(1, 6), s = rng.Next(1, 6);
            int h = rng.Next(r, r + 14), w = rng.Next(s, s + 14);
            // One case in five a GEMM (an M×K ifmap read by a 1×K filter: no two pixels share a word).
            var shape = rng.Next(5) == 0
                ? SystolicLayerShape.FromGemm(rng.Next(20, 300), rng.Next(1, 6), rng.Next(1, 200))
                : SystolicLayerShape.FromScaleSim(h, w, r, s, rng.Next(1, 65), rng.Next(1, 6), rng.Next(1, 4), rng.Next(1, 4));
            var config = new SystolicConfig { Rows = rng.Next(16, 131), Columns = rng.Next(1, 5), Dataflow = SystolicDataflow.OutputStationary };
            long touched = SystolicModel.TouchedIfmapWords(shape);
            return (shape, config, rng.Next(2, (int)Math.Max(3, touched / 2)));
        });
        Assert.True(IfmapWindowReplay.SegmentFills >= 100 && IfmapWindowReplay.RowFills >= 100,
            $"counted-tail chunks: {IfmapWindowReplay.SegmentFills} by segments, {IfmapWindowReplay.RowFills} by rows");
    }

    /// <summary>
    /// Output-stationary folds of 32–130 rows with many channels (64–400), where a fold that starts after a close in the
    /// fold before — or, past folds counted whole or with no close, in an earlier fold of the sweep — is counted from its
    /// start up to its first close (<c>PrepareCross</c>: each read's latest earlier read in this fold, by a pixel between,
    /// or in the close's fold), and then goes on as after any close. Windows from a few hundred words to most of the
    /// ifmap, so folds close zero to many times, one to four column folds (sweeps that wrap), strides 1–3 and GEMMs (no
    /// shared words). Then again with every such fold counted from its start, whatever the heuristics say
    /// (<c>CountEveryFoldFromItsStart</c>), half the layers with windows that overlap only down the ifmap (every fold
    /// replayed) and windows of half the ifmap or more: folds that do not close the window, whose reads are then marked
    /// after the fold before's unmarked tail (<c>MaterializeTail</c>).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OutputStationaryFoldsCountedFromTheirStartEqualTheAddressByAddressReplay(bool everyFold)
    {
        IfmapWindowReplay.CrossTails = IfmapWindowReplay.CrossTailsWithoutClose = 0;
        IfmapWindowReplay.CountEveryFoldFromItsStart = everyFold;
        try
        {
            CheckFoldsCountedFromTheirStart(everyFold ? 200 : 600, everyFold);
        }
        finally
        {
            IfmapWindowReplay.CountEveryFoldFromItsStart = false;
        }
        // 424 and 296 are; 109 without a close when every fold is counted so.
        Assert.True(IfmapWindowReplay.CrossTails >= 250, $"folds counted from their start: {IfmapWindowReplay.CrossTails}");
        if (everyFold)
            Assert.True(IfmapWindowReplay.CrossTailsWithoutClose >= 80, $"folds counted from their start without a close: {IfmapWindowReplay.CrossTailsWithoutClose}");
    }

    private static void CheckFoldsCountedFromTheirStart(int trials, bool everyFold)
    {
        CheckAgainstReference(new Random(5151), trials, rng =>
        {
            int r = rng.Next(1, 6), s = rng.Next(1, 6);
            if (everyFold && rng.Next(2) == 0)
            {
                // Windows that overlap down the ifmap but not across it (horizontal stride longer than the filter: no pixel
                // blocks counted whole, so every fold between closes is replayed and counted from its start), and windows of
                // half the ifmap or more: many folds do not close them.
                int fr = rng.Next(2, 6), fs = rng.Next(1, 3);
                var sparse = SystolicLayerShape.FromScaleSim(rng.Next(fr + 8, fr + 40), rng.Next(fs + 4, fs + 30), fr, fs,
                    rng.Next(48, 161), rng.Next(1, 5), rng.Next(1, fr), fs + rng.Next(1, 3));
                var tall = new SystolicConfig { Rows = rng.Next(32, 65), Columns = rng.Next(1, 5), Dataflow = SystolicDataflow.OutputStationary };
                long all = SystolicModel.TouchedIfmapWords(sparse);
                return (sparse, tall, rng.Next((int)(all / 2), (int)Math.Max(all / 2 + 1, all * 9 / 10)));
            }
            // Narrow ofmaps as often as wide ones: a fold then spans many ofmap rows, and earlier readers wrap rows.
            int h = rng.Next(r + 8, r + 28), w = rng.Next(2) == 0 ? rng.Next(s + 1, s + 8) : rng.Next(s + 8, s + 30);
            var shape = rng.Next(8) == 0
                ? SystolicLayerShape.FromGemm(rng.Next(40, 400), rng.Next(1, 4), rng.Next(200, 800))
                : SystolicLayerShape.FromScaleSim(h, w, r, s, rng.Next(48, 161), rng.Next(1, 5), rng.Next(1, 3), rng.Next(1, 3));
            var config = new SystolicConfig { Rows = rng.Next(32, 131), Columns = rng.Next(1, 5), Dataflow = SystolicDataflow.OutputStationary };
            long touched = SystolicModel.TouchedIfmapWords(shape);
            return (shape, config, rng.Next(200, (int)Math.Max(201, touched * 3 / 4)));
        });
    }

    /// <summary>
    /// The counted tails' scan for the line of a close (<c>FindClose</c>), which takes runs of lines without an entry in
    /// closed form, against summing line by line, on random first and second differences whose per-line counts stay ≥ 0,
    /// with long runs of zeros, and needs that fall on every kind of line or beyond the chunk.
    /// </summary>
    [Fact]
    public void FindCloseEqualsSummingLineByLine()
    {
        var rng = new Random(77);
        for (int trial = 0; trial < 20000; trial++)
        {
            int count = rng.Next(1, 300);
            bool second = rng.Next(2) == 0;
            // Per-line counts ≥ 0, piecewise constant or linear with breaks at a few lines.
            var perLine = new long[count];
            long value = rng.Next(0, 50), slope = 0;
            for (int t = 0; t < count; t++)
            {
                if (rng.Next(12) == 0)
                {
                    if (second) slope = rng.Next(-3, 4);
                    else value = rng.Next(0, 60);
                }
                if (second) value = Math.Max(0, value + slope);
                perLine[t] = value;
            }
            // Their first or second differences (the running sum(s) give them back).
            var diff = new int[count + 2];
            for (int t = 0; t < count; t++)
            {
                long prev = t > 0 ? perLine[t - 1] : 0, prev2 = t > 1 ? perLine[t - 2] : 0;
                diff[t] = (int)(second ? perLine[t] - 2 * prev + prev2 : perLine[t] - prev);
            }
            long total = perLine.Sum(), need = 1 + (long)(rng.NextDouble() * 1.2 * total);
            long expectedNeed = need;
            int expected = -1;
            for (int t = 0; t < count; t++)
            {
                if (perLine[t] >= expectedNeed) { expected = t; break; }
                expectedNeed -= perLine[t];
            }
            long got = need;
            int at = IfmapWindowReplay.FindClose(diff, count, second, ref got);
            Assert.True(at == expected && got == expectedNeed,
                $"trial {trial}: count {count}, second {second}, need {need}: line {at} (left {got}), expected {expected} (left {expectedNeed})");
        }
    }

    /// <summary>
    /// Where pixels' windows touch or overlap (stride ≤ filter size), OS folds and IS column folds (blocks of consecutive
    /// pixels read whole) are counted from the geometry of their windows (<c>SkipBlocks</c>) up to the block in which
    /// the window closes, which is replayed after the counted words on its rows are marked (on IS arrays, whose closing
    /// block may have many row folds, after all counted words are marked). Stem-like and wider layers (ofmaps rounded up as SCALE-Sim
    /// does, so the last windows stick out of the ifmap), blocks of 1–40 pixels (that wrap ofmap rows or span several),
    /// OS arrays with several column folds (sweeps that start with counted words pending), windows small enough to
    /// close inside every block or only a few times per sweep. Each path must be taken many times.
    /// </summary>
    [Theory]
    [InlineData(SystolicDataflow.OutputStationary)]
    [InlineData(SystolicDataflow.InputStationary)]
    public void PixelBlocksCountedWholeEqualTheAddressByAddressReplay(SystolicDataflow flow)
    {
        IfmapWindowReplay.CountedBlocks = IfmapWindowReplay.CountedMarkedForFold = IfmapWindowReplay.CountedMarkedWhole = 0;
        CheckAgainstReference(new Random(9191 + (int)flow), 400, rng =>
        {
            int r = rng.Next(1, 6), s = rng.Next(1, 6);
            int h = rng.Next(r, r + 30), w = rng.Next(s, s + 40);
            var shape = SystolicLayerShape.FromScaleSim(h, w, r, s, rng.Next(1, 9), rng.Next(1, 13), rng.Next(1, r + 1), rng.Next(1, s + 1));
            var config = flow == SystolicDataflow.OutputStationary
                ? new SystolicConfig { Rows = rng.Next(1, 41), Columns = rng.Next(1, 5), Dataflow = flow }
                : new SystolicConfig { Rows = rng.Next(1, 30), Columns = rng.Next(1, 41), Dataflow = flow };
            long touched = SystolicModel.TouchedIfmapWords(shape);
            return (shape, config, rng.Next(2, (int)Math.Max(3, touched * 3 / 4)));
        });
        // OS: the counted words on a closing fold's rows marked before it, all of them at a sweep's end; IS: all of them
        // before a closing block.
        bool os = flow == SystolicDataflow.OutputStationary;
        Assert.True(IfmapWindowReplay.CountedBlocks >= 2500
            && (os ? IfmapWindowReplay.CountedMarkedForFold >= 500 && IfmapWindowReplay.CountedMarkedWhole >= 100 : IfmapWindowReplay.CountedMarkedWhole >= 500),
            $"blocks counted whole: {IfmapWindowReplay.CountedBlocks}; counted words marked for a fold {IfmapWindowReplay.CountedMarkedForFold} times, "
            + $"all of them {IfmapWindowReplay.CountedMarkedWhole} times");
    }

    /// <summary>
    /// Weight-stationary arrays with a row for every window element (one row fold) read pixel p's element k on line
    /// p + k; where windows touch, the lines that cannot close the window are counted from the geometry of the pixels'
    /// windows (<c>SkipLines</c>) once per window, from where no pixel that still reads straddles the fold's last close.
    /// Stem-like and wider layers, several column folds (the counted words are marked at each fold's end), windows that
    /// close a few times per fold. The path must be taken many times.
    /// </summary>
    [Fact]
    public void WeightStationaryLinesCountedWholeEqualTheAddressByAddressReplay()
    {
        IfmapWindowReplay.CountedLines = 0;
        CheckAgainstReference(new Random(5353), 400, rng =>
        {
            int r = rng.Next(1, 6), s = rng.Next(1, 6), c = rng.Next(1, 4);
            int h = rng.Next(r + 40, r + 120), w = rng.Next(s + 10, s + 50);
            // Half the layers with windows that touch but do not overlap (stride = filter size): a word is then read
            // once per fold, so a read the count drops or adds is never made up by a later read of the same word.
            bool apart = rng.Next(2) == 0;
            int sh = apart ? r : rng.Next(1, r + 1), sw = apart ? s : rng.Next(1, s + 1);
            var shape = SystolicLayerShape.FromScaleSim(h, w, r, s, c, rng.Next(1, 9), sh, sw);
            var config = new SystolicConfig { Rows = r * s * c + rng.Next(0, 5), Columns = rng.Next(1, 5), Dataflow = SystolicDataflow.WeightStationary };
            // Windows of several ifmap rows (a count is tried only when more than four rows' words are needed) up to
            // three quarters of the words read.
            long touched = SystolicModel.TouchedIfmapWords(shape), rows = (long)w * c;
            return (shape, config, rng.Next((int)Math.Min(touched / 2, 6 * rows), (int)Math.Max(6 * rows + 1, touched * 3 / 4)));
        });
        Assert.True(IfmapWindowReplay.CountedLines >= 100000, $"lines counted whole: {IfmapWindowReplay.CountedLines}");
    }

    /// <summary>
    /// Weight-stationary folds whose elements span fewer filter rows than the vertical stride (stems: few channels,
    /// strides up to 4, either stride 1 in one direction) are counted by ofmap rows (<c>CountRows</c>): whole rows by
    /// their words less those already in the window, the rows around a close per line, the close's line read by read.
    /// Windows small enough to close several times in one ofmap row and on one line; ofmaps whose last rows read only
    /// some of a fold's filter rows. The first close of a fold and later ones are found by different rules, and each
    /// must be taken many times.
    /// </summary>
    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    public void WeightStationaryFoldsCountedByRowsEqualTheAddressByAddressReplay(long templateBytes)
    {
        // templateBytes 1: one row template at a time, rebuilt for every fold (as for layers whose templates would not
        // all fit in memory); 0: the usual budget, one kept per row fold.
        IfmapWindowReplay.RowCountedFolds = IfmapWindowReplay.RowCountedFirstCloses = IfmapWindowReplay.RowCountedLaterCloses = 0;
        IfmapWindowReplay.TemplateBytesOnThisThread = templateBytes;
        try
        {
            CheckRowCountedFolds();
        }
        finally
        {
            IfmapWindowReplay.TemplateBytesOnThisThread = 0;
        }
    }

    private static void CheckRowCountedFolds()
    {
        CheckAgainstReference(new Random(6060), 400, rng =>
        {
            int r = rng.Next(1, 8), s = rng.Next(1, 8);
            int h = rng.Next(r, r + 24), w = rng.Next(s, s + 60);
            var shape = SystolicLayerShape.FromScaleSim(h, w, r, s, rng.Next(1, 5), rng.Next(1, 6), rng.Next(1, 5), rng.Next(1, 5));
            var config = new SystolicConfig { Rows = rng.Next(1, 41), Columns = rng.Next(1, 6), Dataflow = SystolicDataflow.WeightStationary };
            long touched = SystolicModel.TouchedIfmapWords(shape);
            return (shape, config, rng.Next(2, (int)Math.Max(3, touched / 2)));
        });
        Assert.True(IfmapWindowReplay.RowCountedFolds >= 1000 && IfmapWindowReplay.RowCountedFirstCloses >= 100
            && IfmapWindowReplay.RowCountedLaterCloses >= 100,
            $"folds counted by rows: {IfmapWindowReplay.RowCountedFolds}, first closes {IfmapWindowReplay.RowCountedFirstCloses}, later {IfmapWindowReplay.RowCountedLaterCloses}");
    }
}

/// <summary>
/// OS and WS sweep the same ifmap stream once per column fold; sweeps that repeat (with any period)
/// are multiplied out. Many column folds and small windows make that happen; the count must still
/// equal the address-by-address replay.
/// </summary>
public sealed class RepeatedSweepTests
{
    [Theory]
    [InlineData(SystolicDataflow.OutputStationary)]
    [InlineData(SystolicDataflow.WeightStationary)]
    public void SkippingRepeatedSweepsKeepsTheCount(SystolicDataflow flow)
    {
        var rng = new Random(606 + (int)flow);
        long skipped = 0, skippedCases = 0;
        for (int trial = 0; trial < 150; trial++)
        {
            int r = rng.Next(1, 4), s = rng.Next(1, 4);
            var shape = SystolicLayerShape.FromScaleSim(rng.Next(r, r + 8), rng.Next(s, s + 8), r, s, rng.Next(1, 6), rng.Next(8, 80), rng.Next(1, 3), rng.Next(1, 3));
            var config = new SystolicConfig { Rows = rng.Next(1, 7), Columns = rng.Next(1, 4), Dataflow = flow };
            var g = new SystolicModel.Geometry(shape, config);
            long window = rng.Next(2, 60);
            var fast = IfmapWindowReplay.Run(g, window, out long skippedSweeps);
            var slow = IfmapWindowReplay.Reference(g, window);
            Assert.True(fast == slow, $"{shape} on {config.Rows}x{config.Columns} {flow}, window {window}: fast {fast}, reference {slow}");
            skipped += skippedSweeps;
            if (skippedSweeps > 0) skippedCases++;
        }
        Assert.True(skippedCases >= 20, $"only {skippedCases} trials skipped sweeps ({skipped} sweeps)");
    }
}

/// <summary>
/// Holds the closed forms over the ifmap stream (valid-pair counts, the line of the n-th valid pair,
/// and the layers whose every read misses) to a plain enumeration and to the address-by-address
/// replay, on random layers that include 1×1, strided, GEMM-shaped and many-channel layers.
/// </summary>
public sealed class IfmapStreamTests
{
    private static (SystolicLayerShape Shape, SystolicConfig Config) RandomCase(Random rng, SystolicDataflow flow)
    {
        int kind = rng.Next(4);
        int r = kind == 0 ? 1 : rng.Next(1, 5), s = kind == 0 ? 1 : rng.Next(1, 5);
        int sh = kind == 1 ? rng.Next(r, r + 3) : rng.Next(1, 4), sw = kind == 1 ? rng.Next(s, s + 3) : rng.Next(1, 4);
        int c = kind == 3 ? rng.Next(8, 40) : rng.Next(1, 9);
        var shape = kind == 2
            ? SystolicLayerShape.FromGemm(rng.Next(1, 40), rng.Next(1, 20), rng.Next(1, 40))
            : SystolicLayerShape.FromScaleSim(rng.Next(r, r + 12), rng.Next(s, s + 12), r, s, c, rng.Next(1, 12), sh, sw);
        var config = new SystolicConfig { Rows = rng.Next(1, 10), Columns = rng.Next(1, 10), Dataflow = flow };
        return (shape, config);
    }

    [Theory]
    [InlineData(SystolicDataflow.OutputStationary)]
    [InlineData(SystolicDataflow.WeightStationary)]
    [InlineData(SystolicDataflow.InputStationary)]
    public void LineOfEveryValidPairMatchesEnumeration(SystolicDataflow flow)
    {
        var rng = new Random(4242 + (int)flow);
        for (int trial = 0; trial < 120; trial++)
        {
            var (shape, config) = RandomCase(rng, flow);
            var g = new SystolicModel.Geometry(shape, config);
            var lines = ValidPairLines(g);
            var stream = new IfmapStream(g);
            Assert.Equal(lines.Count, stream.Total);
            for (int n = 0; n < lines.Count; n += 1 + lines.Count / 300)
                Assert.True(lines[n] == stream.LineOfValidPair(n), $"{shape} on {config.Rows}x{config.Columns} {flow}: pair {n} on line {lines[n]}, closed form {stream.LineOfValidPair(n)}");
        }
    }

    [Theory]
    [InlineData(SystolicDataflow.OutputStationary)]
    [InlineData(SystolicDataflow.WeightStationary)]
    [InlineData(SystolicDataflow.InputStationary)]
    public void IfmapDramReadsEqualAddressByAddressReplay(SystolicDataflow flow)
    {
        var rng = new Random(917 + (int)flow);
        int closedForm = 0;
        for (int trial = 0; trial < 200; trial++)
        {
            var (shape, config) = RandomCase(rng, flow);
            var g = new SystolicModel.Geometry(shape, config);
            long window = rng.Next(1, 120);
            if (SystolicModel.TouchedIfmapWords(shape) >= window && new IfmapStream(g).EveryReadMisses(window)) closedForm++;
            var fast = SystolicModel.IfmapDramReads(g, window);
            var slow = IfmapWindowReplay.Reference(g, window);
            Assert.True(fast == slow, $"{shape} on {config.Rows}x{config.Columns} {flow}, window {window}: model {fast}, reference {slow}");
        }
        Assert.True(closedForm >= 40, $"only {closedForm} trials took the every-read-misses closed form");
    }

    /// <summary>
    /// WS folds aligned to channel groups (Ra divides C) without clipped reads: the every-read-misses
    /// bound that also counts the rest of the two folds reading an address, held to the
    /// address-by-address replay with windows up to twice the bound, where it fails.
    /// </summary>
    [Fact]
    public void AlignedWeightStationaryBoundEqualsAddressByAddressReplay()
    {
        var rng = new Random(5150);
        int refined = 0, hits = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            int ra = rng.Next(1, 9), r = rng.Next(1, 4), s = rng.Next(1, 4), sh = rng.Next(1, 3), sw = rng.Next(1, 3);
            int eh = rng.Next(1, 8), ew = rng.Next(1, 8), c = ra * rng.Next(1, 6);
            // No clipped read: the last window ends on the ifmap's last row and column.
            var shape = SystolicLayerShape.FromScaleSim((eh - 1) * sh + r, (ew - 1) * sw + s, r, s, c, rng.Next(1, 6), sh, sw);
            var config = new SystolicConfig { Rows = ra, Columns = rng.Next(1, 5), Dataflow = SystolicDataflow.WeightStationary };
            var g = new SystolicModel.Geometry(shape, config);
            long bound = (long)c * eh * ew - ((r - 1) / sh * ew + (s - 1) / sw) * ra;
            long window = rng.Next(1, (int)Math.Max(2, 2 * bound + 2));
            var stream = new IfmapStream(g);
            bool closedForm = SystolicModel.TouchedIfmapWords(shape) >= window && stream.EveryReadMisses(window);
            long older = (long)(c - ra) * eh * ew;
            if (closedForm && !(c > ra && older >= window - 1)) refined++;
            var fast = SystolicModel.IfmapDramReads(g, window);
            var slow = IfmapWindowReplay.Reference(g, window);
            Assert.True(fast == slow, $"{shape} on {config.Rows}x{config.Columns} WS, window {window}: model {fast}, reference {slow}");
            if (slow.Misses < stream.Total) hits++;
        }
        Assert.True(refined >= 50, $"only {refined} trials took the aligned bound");
        Assert.True(hits >= 20, $"only {hits} trials had a hit (windows above the bound)");
    }

    [Fact]
    public void ElementPrefixMatchesEnumeration()
    {
        var rng = new Random(31337);
        for (int trial = 0; trial < 200; trial++)
        {
            var (shape, config) = RandomCase(rng, (SystolicDataflow)rng.Next(3));
            var g = new SystolicModel.Geometry(shape, config);
            var stream = new IfmapStream(g);
            long count = 0;
            for (long k = 0; k <= g.K; k++)
            {
                Assert.True(count == stream.ElementPrefix(k), $"{shape}: elements [0, {k}) have {count} valid pairs, closed form {stream.ElementPrefix(k)}");
                if (k < g.K)
                    for (long p = 0; p < g.M; p++)
                        if (g.Valid(p, k)) count++;
            }
        }
    }

    /// <summary>The demand line of every valid (pixel, element) pair, in SCALE-Sim's CALC order.</summary>
    private static List<long> ValidPairLines(SystolicModel.Geometry g)
    {
        var lines = new List<long>();
        void Add(long p, long k, long line)
        {
            if (g.Valid(p, k)) lines.Add(line);
        }
        long f = 0;
        for (long fc = 0; fc < g.ColFolds; fc++)
            for (long fr = 0; fr < g.RowFolds; fr++, f++)
            {
                long lineBase = f * g.FoldCycles;
                switch (g.Flow)
                {
                    case SystolicDataflow.OutputStationary:
                        for (long t = 0; t < g.K + g.RowsUsed(fr) - 1; t++)
                            for (long r = 0; r < g.RowsUsed(fr); r++)
                                if (t - r >= 0 && t - r < g.K) Add(fr * g.Ra + r, t - r, lineBase + t);
                        break;
                    case SystolicDataflow.WeightStationary:
                        for (long t = 0; t < g.FoldCycles; t++)
                            for (long r = 0; r < g.RowsUsed(fr); r++)
                                if (t - r - g.Ra >= 0 && t - r - g.Ra < g.M) Add(t - r - g.Ra, fr * g.Ra + r, lineBase + t);
                        break;
                    default:
                        for (long t = 0; t < g.Ra; t++)
                        {
                            long row = g.Ra - 1 - t;
                            if (row >= g.RowsUsed(fr)) continue;
                            for (long c = 0; c < g.ColsUsed(fc); c++) Add(fc * g.Ca + c, fr * g.Ra + row, lineBase + t);
                        }
                        break;
                }
            }
        return lines;
    }
}

/// <summary>Holds the closed-form filter DRAM count to a replay of every filter demand address.</summary>
public sealed class FilterWindowTests
{
    [Theory]
    [InlineData(SystolicDataflow.OutputStationary)]
    [InlineData(SystolicDataflow.WeightStationary)]
    [InlineData(SystolicDataflow.InputStationary)]
    public void ClosedFormEqualsAddressByAddressReplay(SystolicDataflow flow)
    {
        var rng = new Random(777 + (int)flow);
        for (int trial = 0; trial < 150; trial++)
        {
            var shape = SystolicLayerShape.FromScaleSim(rng.Next(3, 12), rng.Next(3, 12), rng.Next(1, 4), rng.Next(1, 4), rng.Next(1, 6), rng.Next(1, 20), 1, 1);
            int kib = 1;
            var config = new SystolicConfig { Rows = rng.Next(1, 9), Columns = rng.Next(1, 9), Dataflow = flow, FilterSramKiB = kib };
            long window = SystolicModel.Window(config.FilterSramWords);
            // Scale the layer so its filter (K·N words) overflows the 1 KiB window (500 words) sometimes.
            shape = shape with { Filters = rng.Next(1, 3) == 1 ? shape.Filters : shape.Filters * 40 };
            var result = SystolicModel.Evaluate(shape, config);
            Assert.Equal(Replay(shape, config, window), result.DramFilterReads);
        }
    }

    private static long Replay(SystolicLayerShape l, SystolicConfig c, long window)
    {
        long m = l.M, k = l.K, n = l.N;
        int ra = c.Rows, ca = c.Columns;
        var stamps = new int[k * n];
        int gen = 1;
        long open = 0, misses = 0;
        void Touch(long kk, long nn)
        {
            long a = nn * k + kk;
            if (stamps[a] == gen) return;
            stamps[a] = gen;
            misses++;
            if (++open == window) { open = 0; gen++; }
        }
        switch (c.Dataflow)
        {
            case SystolicDataflow.OutputStationary:
                for (long n0 = 0; n0 < n; n0 += ca)
                    for (long p0 = 0; p0 < m; p0 += ra)
                    {
                        long cu = Math.Min(ca, n - n0);
                        for (long t = 0; t < k + cu - 1; t++)
                            for (long col = 0; col < cu; col++)
                                if (t - col >= 0 && t - col < k) Touch(t - col, n0 + col);
                    }
                break;
            case SystolicDataflow.WeightStationary:
                for (long n0 = 0; n0 < n; n0 += ca)
                    for (long k0 = 0; k0 < k; k0 += ra)
                    {
                        long cu = Math.Min(ca, n - n0), ru = Math.Min(ra, k - k0);
                        for (long row = ru - 1; row >= 0; row--)
                            for (long col = 0; col < cu; col++) Touch(k0 + row, n0 + col);
                    }
                break;
            default:
                for (long p0 = 0; p0 < m; p0 += ca)
                    for (long k0 = 0; k0 < k; k0 += ra)
                    {
                        long ru = Math.Min(ra, k - k0);
                        for (long t = 0; t < n + ru - 1; t++)
                            for (long r = 0; r < ru; r++)
                                if (t - r >= 0 && t - r < n) Touch(k0 + r, t - r);
                    }
                break;
        }
        return misses;
    }
}
