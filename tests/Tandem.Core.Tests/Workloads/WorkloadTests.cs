using Tandem.Core.Workloads;

namespace Tandem.Core.Tests.Workloads;

public class WorkloadTests
{
    private static readonly TensorShape Grey28 = new(1, 28, 28);

    [Theory]
    [InlineData(28, 3, 1, 1, false, 28)]
    [InlineData(28, 5, 1, 0, false, 24)]
    [InlineData(224, 11, 4, 2, false, 55)]
    [InlineData(7, 2, 2, 0, false, 3)]  // floor((7-2)/2)+1
    [InlineData(7, 2, 2, 0, true, 4)]   // SCALE-Sim / ceil rule: ceil((7-2+2)/2)
    [InlineData(56, 3, 2, 0, true, 28)] // ceil((56-3+2)/2) = 28 (PyTorch's floor rule gives 27)
    public void Convolution_output_size_follows_the_floor_or_ceil_rule(int h, int k, int s, int p, bool ceil, int expected)
    {
        var conv = new Conv2dLayer
        {
            Name = "c", Input = new TensorShape(3, h, h), OutChannels = 8, KernelHeight = k, KernelWidth = k,
            StrideHeight = s, StrideWidth = s, PadHeight = p, PadWidth = p, CeilMode = ceil,
        };
        Assert.Equal(expected, conv.OutputHeight);
    }

    [Fact]
    public void Depthwise_convolution_counts_one_filter_per_channel()
    {
        var dw = new Conv2dLayer
        {
            Name = "dw", Input = new TensorShape(32, 14, 14), OutChannels = 32, KernelHeight = 3, KernelWidth = 3,
            PadHeight = 1, PadWidth = 1, Groups = 32, BatchNorm = true,
        };
        Assert.True(dw.IsDepthwise);
        Assert.Equal(14L * 14 * 32 * 9, dw.Macs);
        Assert.Equal(32L * 9 + 64, dw.Parameters);
    }

    [Fact]
    public void Filter_larger_than_input_is_rejected_with_the_layer_name()
    {
        var b = new WorkloadBuilder("bad", new TensorShape(1, 4, 4));
        b.Conv(8, 7, pad: 0, name: "big");
        var e = Assert.Throws<WorkloadException>(() => b.Build());
        Assert.Contains("big", e.Message);
        Assert.Contains("exceeds", e.Message);
    }

    [Fact]
    public void Residual_add_of_mismatched_shapes_is_rejected()
    {
        var b = new WorkloadBuilder("bad", Grey28);
        int a = b.Conv(8, 3);
        int c = b.Conv(16, 3);
        Assert.Throws<WorkloadException>(() => b.Add([a, c]));
    }

    [Fact]
    public void A_layer_reading_a_later_layer_is_rejected()
    {
        var conv = new Conv2dLayer { Name = "c", Input = Grey28, Inputs = [3], OutChannels = 4, KernelHeight = 3, KernelWidth = 3, PadHeight = 1, PadWidth = 1 };
        Assert.Throws<WorkloadException>(() => new Workload("w", Grey28, [conv]));
    }

    [Fact]
    public void Declared_input_shape_must_match_the_producer()
    {
        var conv = new Conv2dLayer { Name = "c", Input = new TensorShape(3, 28, 28), OutChannels = 4, KernelHeight = 3, KernelWidth = 3 };
        var e = Assert.Throws<WorkloadException>(() => new Workload("w", Grey28, [conv]));
        Assert.Contains("expects input 3x28x28", e.Message);
    }

    [Fact]
    public void Dense_flattens_and_global_pool_reduces()
    {
        var b = new WorkloadBuilder("n", Grey28);
        b.Conv(8, 3);
        b.Pool(PoolKind.Max);
        b.Dense(10);
        var w = b.Build();
        Assert.Equal(8L * 14 * 14 * 10, w.Layers[2].Macs);
        var g = new WorkloadBuilder("g", Grey28);
        g.Conv(8, 3);
        g.Pool(PoolKind.GlobalAverage);
        Assert.Equal(new TensorShape(8, 1, 1), g.Build().Output);
    }

    [Fact]
    public void Names_must_be_unique() =>
        Assert.Throws<WorkloadException>(() =>
        {
            var b = new WorkloadBuilder("n", Grey28);
            b.Conv(8, 3, name: "x");
            b.Conv(8, 3, name: "x");
            b.Build();
        });

    [Fact]
    public void Non_positive_shapes_are_input_errors() =>
        Assert.Throws<WorkloadException>(() => new TensorShape(0, 28, 28));
}
