using Tandem.Core.Hardware.Systolic;

namespace Tandem.Core.Tests.Hardware.Systolic;

/// <summary>
/// Holds the per-fold count for weight-stationary folds aligned to channel groups to the plainest
/// replay of every demand address: random layers with clipped taps (strides that leave the last
/// window partly outside the ifmap), several column folds (sweeps that repeat), and windows from a
/// few words (several closes per fold) to more than the layer touches.
/// </summary>
public sealed class AlignedWeightStationaryReplayTests
{
    [Fact]
    public void PerFoldCountEqualsAddressByAddressReplay()
    {
        var trials = CheckAgainstReference(8080, SystolicDataflow.WeightStationary, maxColumns: 4,
            g => AlignedWeightStationaryReplay.Applies(g), (g, window) => AlignedWeightStationaryReplay.Run(g, window), g => g.M * g.Ra);
        int closesInFold = trials.Count(t => t.Window < t.FoldWords);
        int sweepsRepeated = trials.Count(t => t.G.ColFolds > 1 && t.Reference.LastCloseLine >= 0);
        Assert.True(closesInFold >= 100, $"only {closesInFold} trials closed the window inside folds");
        Assert.True(sweepsRepeated >= 50, $"only {sweepsRepeated} trials had several sweeps with closes");
    }

    /// <summary>
    /// 400 random aligned layers (Ra up to 8 rows, up to 8 channel groups, filters up to 4×4, strides up
    /// to 3, so some taps are clipped) on arrays of up to <paramref name="maxColumns"/> columns, each with a
    /// <see cref="RandomWindow"/>: the per-fold count must equal the address-by-address replay. Returns
    /// every trial, so that callers can check what the draws covered.
    /// </summary>
    internal static List<(SystolicModel.Geometry G, long Window, long FoldWords, (long Misses, long LastCloseLine) Reference)> CheckAgainstReference(
        int seed, SystolicDataflow flow, int maxColumns, Func<SystolicModel.Geometry, bool> applies,
        Func<SystolicModel.Geometry, long, (long Misses, long LastCloseLine)> run, Func<SystolicModel.Geometry, long> foldWords)
    {
        var rng = new Random(seed);
        var trials = new List<(SystolicModel.Geometry, long, long, (long, long))>();
        for (int trial = 0; trial < 400; trial++)
        {
            int ra = rng.Next(1, 9), r = rng.Next(1, 5), s = rng.Next(1, 5), sh = rng.Next(1, 4), sw = rng.Next(1, 4);
            int c = ra * rng.Next(1, 9);
            var shape = SystolicLayerShape.FromScaleSim(rng.Next(r, r + 10), rng.Next(s, s + 10), r, s, c, rng.Next(1, 12), sh, sw);
            var config = new SystolicConfig { Rows = ra, Columns = rng.Next(1, maxColumns + 1), Dataflow = flow };
            var g = new SystolicModel.Geometry(shape, config);
            Assert.True(applies(g));
            long words = foldWords(g), window = RandomWindow(rng, words, shape);
            var fast = run(g, window);
            var slow = IfmapWindowReplay.Reference(g, window);
            Assert.True(fast == slow, $"{shape} on {config.Rows}x{config.Columns} {flow}, window {window}: per fold {fast}, reference {slow}");
            trials.Add((g, window, words, slow));
        }
        return trials;
    }

    /// <summary>A window of a few words (several closes per fold), under one or four folds' words, or up to more than the layer touches.</summary>
    internal static long RandomWindow(Random rng, long foldWords, SystolicLayerShape shape) => rng.Next(4) switch
    {
        0 => rng.Next(1, 8),
        1 => rng.Next(1, (int)Math.Max(2, foldWords)),
        2 => rng.Next(1, (int)Math.Max(2, 4 * foldWords)),
        _ => rng.Next(1, (int)Math.Max(2, SystolicModel.TouchedIfmapWords(shape) + 10)),
    };

    [Fact]
    public void UnalignedOrOtherDataflowsAreNotTaken()
    {
        var shape = SystolicLayerShape.FromScaleSim(8, 8, 3, 3, 6, 4, 1, 1);
        Assert.False(AlignedWeightStationaryReplay.Applies(new SystolicModel.Geometry(shape, new SystolicConfig { Rows = 4, Columns = 4, Dataflow = SystolicDataflow.WeightStationary })));
        Assert.True(AlignedWeightStationaryReplay.Applies(new SystolicModel.Geometry(shape, new SystolicConfig { Rows = 3, Columns = 4, Dataflow = SystolicDataflow.WeightStationary })));
        Assert.False(AlignedWeightStationaryReplay.Applies(new SystolicModel.Geometry(shape, new SystolicConfig { Rows = 3, Columns = 4, Dataflow = SystolicDataflow.OutputStationary })));
    }
}

/// <summary>
/// Holds the per-fold count for input-stationary folds aligned to channel groups to the plainest
/// replay of every demand address: random layers with clipped taps, pixel blocks whose shifted pixels
/// fall in earlier blocks, and windows from a few words (several closes per fold) to more than the
/// layer touches.
/// </summary>
public sealed class AlignedInputStationaryReplayTests
{
    [Fact]
    public void PerFoldCountEqualsAddressByAddressReplay()
    {
        var trials = AlignedWeightStationaryReplayTests.CheckAgainstReference(9090, SystolicDataflow.InputStationary, maxColumns: 11,
            g => AlignedInputStationaryReplay.Applies(g), (g, window) => AlignedInputStationaryReplay.Run(g, window), g => Math.Min(g.M, g.Ca) * g.Ra);
        int closesInFold = trials.Count(t => t.Window < t.FoldWords);
        Assert.True(closesInFold >= 100, $"only {closesInFold} trials closed the window inside folds");
    }

    [Fact]
    public void UnalignedOrOtherDataflowsAreNotTaken()
    {
        var shape = SystolicLayerShape.FromScaleSim(8, 8, 3, 3, 6, 4, 1, 1);
        Assert.False(AlignedInputStationaryReplay.Applies(new SystolicModel.Geometry(shape, new SystolicConfig { Rows = 4, Columns = 4, Dataflow = SystolicDataflow.InputStationary })));
        Assert.True(AlignedInputStationaryReplay.Applies(new SystolicModel.Geometry(shape, new SystolicConfig { Rows = 2, Columns = 4, Dataflow = SystolicDataflow.InputStationary })));
        Assert.False(AlignedInputStationaryReplay.Applies(new SystolicModel.Geometry(shape, new SystolicConfig { Rows = 2, Columns = 4, Dataflow = SystolicDataflow.WeightStationary })));
    }

    /// <summary>
    /// Both replays are exact; the general one is chosen for stride-1 layers of many pixels on narrow
    /// arrays (every pair of taps can read one word, so this replay's work per column fold is largest),
    /// not for strided layers or wide arrays. Either way the count is the model's.
    /// </summary>
    [Fact]
    public void TheWindowReplayIsChosenOnlyWhereItIsExpectedToBeMuchCheaper()
    {
        bool Cheaper(SystolicLayerShape shape, int columns)
        {
            var config = new SystolicConfig { Rows = 8, Columns = columns, Dataflow = SystolicDataflow.InputStationary };
            var g = new SystolicModel.Geometry(shape, config);
            long window = SystolicModel.Window(config.IfmapSramWords);
            return AlignedInputStationaryReplay.WindowReplayIsCheaper(g, window, SystolicModel.TouchedIfmapWords(shape));
        }
        var stride1 = SystolicLayerShape.FromScaleSim(58, 58, 3, 3, 64, 64, 1, 1);
        var stride2 = SystolicLayerShape.FromScaleSim(58, 58, 3, 3, 128, 128, 2, 2);
        Assert.True(Cheaper(stride1, 8));
        Assert.True(Cheaper(stride1, 32));
        Assert.False(Cheaper(stride1, 512)); // 7 column folds
        Assert.False(Cheaper(stride2, 8));
    }
}
