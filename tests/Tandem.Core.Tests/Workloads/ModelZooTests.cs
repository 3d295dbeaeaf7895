using Tandem.Core.Workloads;

namespace Tandem.Core.Tests.Workloads;

/// <summary>
/// Parameter counts are torchvision's published totals (sum of p.numel() over the model, BN scale
/// and shift included); MAC counts are recomputed by hand from the layer shapes below.
/// </summary>
public class ModelZooTests
{
    [Theory]
    [InlineData("alexnet", 61_100_840)]
    [InlineData("vgg16", 138_357_544)]
    [InlineData("resnet18", 11_689_512)]
    [InlineData("resnet50", 25_557_032)]
    [InlineData("mobilenetv2", 3_504_872)]
    public void Parameter_counts_match_torchvision(string model, long expected) =>
        Assert.Equal(expected, ModelZoo.Get(model).TotalParameters);

    [Fact]
    public void AlexNet_conv_layers_have_the_hand_computed_shapes_and_macs()
    {
        var w = ModelZoo.AlexNet();
        var convs = w.Layers.OfType<Conv2dLayer>().ToArray();
        // (out H, MACs) per conv: 224→55 (k11 s4 p2), 27→27 (k5 p2), 13→13 ×3.
        (int h, long macs)[] expected =
        [
            (55, 55L * 55 * 64 * 3 * 11 * 11),
            (27, 27L * 27 * 192 * 64 * 5 * 5),
            (13, 13L * 13 * 384 * 192 * 3 * 3),
            (13, 13L * 13 * 256 * 384 * 3 * 3),
            (13, 13L * 13 * 256 * 256 * 3 * 3),
        ];
        Assert.Equal(expected.Length, convs.Length);
        for (int i = 0; i < convs.Length; i++)
        {
            Assert.Equal(expected[i].h, convs[i].OutputHeight);
            Assert.Equal(expected[i].macs, convs[i].Macs);
        }
        Assert.Equal(new TensorShape(256, 6, 6), w.Layers[7].Output); // after the last max pool
        Assert.Equal(655_566_528L + 9216L * 4096 + 4096L * 4096 + 4096L * 1000, w.TotalMacs);
    }

    [Fact]
    public void ResNet18_macs_match_the_hand_computed_total()
    {
        var w = ModelZoo.ResNet18();
        long expected = 112L * 112 * 64 * 3 * 49; // stem
        long[] hw = [56, 28, 14, 7];
        long[] c = [64, 128, 256, 512];
        for (int s = 0; s < 4; s++)
        {
            long cin = s == 0 ? 64 : c[s - 1];
            long per = hw[s] * hw[s] * c[s] * 9;
            expected += per * cin + per * c[s]; // first block: conv1 (from cin), conv2
            if (s > 0) expected += hw[s] * hw[s] * c[s] * cin; // 1×1 downsample
            expected += 2 * per * c[s]; // second block
        }
        expected += 512L * 1000;
        Assert.Equal(expected, w.TotalMacs);
        Assert.Equal(1_814_073_344L, w.TotalMacs);
        Assert.Equal(new TensorShape(1000, 1, 1), w.Output);
    }

    [Fact]
    public void ResNet50_has_53_convolutions_and_4_1_gmacs()
    {
        var w = ModelZoo.ResNet50();
        Assert.Equal(53, w.Layers.OfType<Conv2dLayer>().Count());
        Assert.InRange(w.TotalMacs, 4_080_000_000L, 4_130_000_000L); // 4.09 GMACs is the usual figure
    }

    [Fact]
    public void MobileNets_use_depthwise_convolutions()
    {
        var v1 = ModelZoo.MobileNetV1();
        Assert.Equal(13, v1.Layers.OfType<Conv2dLayer>().Count(c => c.IsDepthwise));
        Assert.InRange(v1.TotalMacs, 565_000_000L, 575_000_000L); // 569 M in the paper
        var v2 = ModelZoo.MobileNetV2();
        Assert.Equal(17, v2.Layers.OfType<Conv2dLayer>().Count(c => c.IsDepthwise));
        Assert.InRange(v2.TotalMacs, 295_000_000L, 305_000_000L); // 300 M in the paper
    }

    [Fact]
    public void Unknown_model_is_an_input_error() =>
        Assert.Contains("known: alexnet", Assert.Throws<WorkloadException>(() => ModelZoo.Get("lenet")).Message);
}
