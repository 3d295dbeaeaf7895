using Tandem.Core.Hardware.Systolic;

namespace Tandem.Core.Tests.Hardware.Systolic;

/// <summary>
/// Holds the per-fold weight-stationary count from partner reads to the address-by-address replay on random
/// layers, aligned to channel groups or not (a fold holding parts of several taps, or many whole taps), with
/// clipped taps, several column folds and windows from a few words (several closes per line) to more than the
/// layer touches.
/// </summary>
public sealed class WeightStationaryFoldCountTests
{
    [Fact]
    public void PerFoldCountEqualsAddressByAddressReplay() =>
        WeightStationaryReadRuleTests.CheckAgainstReference(77, 800, (g, window) => WeightStationaryFoldCount.Run(g, window));

    /// <summary>
    /// The count replaces the replay only for unaligned WS layers with at least half as many channels as rows, on
    /// arrays of 32 rows or more, and strided both ways, or with at least as many channels as rows, or on 128 rows or
    /// more — where it was measured faster; either way the count is exact.
    /// </summary>
    [Fact]
    public void The_count_is_used_only_where_it_was_measured_faster()
    {
        bool Used(int h, int c, int stride, int rows, SystolicDataflow flow = SystolicDataflow.WeightStationary) =>
            WeightStationaryFoldCount.IsCheaper(new SystolicModel.Geometry(SystolicLayerShape.FromScaleSim(h, h, 3, 3, c, 64, stride, stride),
                new SystolicConfig { Rows = rows, Columns = rows, Dataflow = flow }));
        Assert.True(Used(58, 64, 2, 128));   // ResNet-18 Conv3_1a on 128 rows
        Assert.True(Used(56, 64, 1, 128));   // ResNet-18 Conv2_1a on 128 rows: stride 1, 128 rows
        Assert.True(Used(30, 80, 1, 64));    // stride 1, at least as many channels as rows
        Assert.False(Used(28, 48, 1, 64));   // stride 1, fewer channels than rows, 64 rows
        Assert.True(Used(30, 96, 2, 64));
        Assert.True(Used(29, 40, 2, 32));
        Assert.False(Used(58, 40, 2, 128));  // fewer than half as many channels as rows
        Assert.False(Used(58, 12, 2, 8));    // 8 rows
        Assert.False(Used(58, 128, 2, 128)); // aligned: the aligned count
        Assert.False(Used(58, 64, 2, 128, SystolicDataflow.OutputStationary));
    }
}
