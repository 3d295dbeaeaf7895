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
        var rng = new Random(8080);
        int closesInFold = 0, sweepsRepeated = 0;
        for (int trial = 0; trial < 400; trial++)
        {
            int ra = rng.Next(1, 9), r = rng.Next(1, 5), s = rng.Next(1, 5), sh = rng.Next(1, 4), sw = rng.Next(1, 4);
            int c = ra * rng.Next(1, 9);
            var shape = SystolicLayerShape.FromScaleSim(rng.Next(r, r + 10), rng.Next(s, s + 10), r, s, c, rng.Next(1, 12), sh, sw);
            var config = new SystolicConfig { Rows = ra, Columns = rng.Next(1, 5), Dataflow = SystolicDataflow.WeightStationary };
            var g = new SystolicModel.Geometry(shape, config);
            Assert.True(AlignedWeightStationaryReplay.Applies(g));
            long foldWords = g.M * ra, window = RandomWindow(rng, foldWords, shape);
            var fast = AlignedWeightStationaryReplay.Run(g, window);
            var slow = IfmapWindowReplay.Reference(g, window);
            Assert.True(fast == slow, $"{shape} on {config.Rows}x{config.Columns} WS, window {window}: per fold {fast}, reference {slow}");
            if (window < foldWords) closesInFold++;
            if (g.ColFolds > 1 && slow.LastCloseLine >= 0) sweepsRepeated++;
        }
        Assert.True(closesInFold >= 100, $"only {closesInFold} trials closed the window inside folds");
        Assert.True(sweepsRepeated >= 50, $"only {sweepsRepeated} trials had several sweeps with closes");
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
        var rng = new Random(9090);
        int closesInFold = 0;
        for (int trial = 0; trial < 400; trial++)
        {
            int ra = rng.Next(1, 9), r = rng.Next(1, 5), s = rng.Next(1, 5), sh = rng.Next(1, 4), sw = rng.Next(1, 4);
            int c = ra * rng.Next(1, 9);
            var shape = SystolicLayerShape.FromScaleSim(rng.Next(r, r + 10), rng.Next(s, s + 10), r, s, c, rng.Next(1, 12), sh, sw);
            var config = new SystolicConfig { Rows = ra, Columns = rng.Next(1, 12), Dataflow = SystolicDataflow.InputStationary };
            var g = new SystolicModel.Geometry(shape, config);
            Assert.True(AlignedInputStationaryReplay.Applies(g));
            long foldWords = Math.Min(g.M, config.Columns) * ra, window = AlignedWeightStationaryReplayTests.RandomWindow(rng, foldWords, shape);
            var fast = AlignedInputStationaryReplay.Run(g, window);
            var slow = IfmapWindowReplay.Reference(g, window);
            Assert.True(fast == slow, $"{shape} on {config.Rows}x{config.Columns} IS, window {window}: per fold {fast}, reference {slow}");
            if (window < foldWords) closesInFold++;
        }
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
}
