using Tandem.Core.Configuration;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Workloads;

namespace Tandem.Core.Tests.Spaces.Families;

public sealed class MobileNetV2FamilyTests
{
    private static readonly MobileNetV2Family Family = new();
    private static readonly DesignSpace Space = new(Family.Parameters);

    private static Design Uniform(int depth, int kernel, int expansion, int widthIndex)
    {
        var values = new Dictionary<string, string>();
        for (int s = 1; s <= 4; s++)
        {
            values[$"arch.s{s}.depth"] = depth.ToString();
            values[$"arch.s{s}.kernel"] = kernel.ToString();
            values[$"arch.s{s}.expansion"] = expansion.ToString();
            var widths = Family.Options.Widths[s - 1];
            values[$"arch.s{s}.width"] = widths[Math.Min(widthIndex, widths.Count - 1)].ToString();
        }
        return Space.Parse(values);
    }

    [Fact]
    public void Has_depth_kernel_expansion_and_width_per_stage()
    {
        Assert.Equal(16, Family.Parameters.Count);
        Assert.All(Family.Parameters, p => Assert.StartsWith("arch.s", p.Name));
        Assert.Equal("{3, 5, 7}", Space["arch.s2.kernel"].DescribeDomain());
    }

    [Fact]
    public void Lowers_inverted_residual_blocks_for_28_pixel_images()
    {
        var w = Family.Lower(Uniform(2, 5, 4, 0), new TensorShape(1, 28, 28), 10);
        Assert.Equal(new TensorShape(10, 1, 1), w.Output);
        var names = w.Layers.Select(l => l.Name).ToList();
        Assert.Contains("s1.b1.expand", names);
        var dw = (Conv2dLayer)w.Layers.First(l => l.Name == "s2.b1.dw");
        Assert.True(dw.IsDepthwise);
        Assert.Equal(2, dw.StrideHeight);
        Assert.Equal(5, dw.KernelHeight);
        Assert.Equal(Family.Options.Widths[0][0] * 4, dw.InChannels);
        // Stage 1 keeps width 16 = stem width at stride 1, so even its first block is residual;
        // later stages change width on their first block, so only the second block adds.
        Assert.Contains("s1.b1.add", names);
        Assert.DoesNotContain("s2.b1.add", names);
        Assert.Contains("s2.b2.add", names);
        var last = (Conv2dLayer)w.Layers.First(l => l.Name == "s4.b1.dw");
        Assert.Equal(4, last.OutputHeight); // 28 → 28 → 14 → 7 → 4
    }

    [Fact]
    public void Larger_choices_give_more_parameters_and_macs()
    {
        var small = Family.Lower(Uniform(1, 3, 3, 0), new TensorShape(3, 32, 32), 10);
        var big = Family.Lower(Uniform(3, 7, 6, 2), new TensorShape(3, 32, 32), 10);
        Assert.True(big.TotalParameters > 3 * small.TotalParameters);
        Assert.True(big.TotalMacs > 3 * small.TotalMacs);
    }

    [Fact]
    public void Every_random_design_lowers()
    {
        var rng = new Random(2);
        for (int i = 0; i < 50; i++) Family.Lower(Space.Sample(rng), new TensorShape(1, 28, 28), 10);
    }

    [Fact]
    public void Bad_options_are_rejected()
    {
        Assert.Throws<SpaceException>(() => new MobileNetV2Family(new MobileNetV2Options { Kernels = [4] }));
        Assert.Throws<SpaceException>(() => new MobileNetV2Family(new MobileNetV2Options { Strides = [1, 2] }));
    }

    [Fact]
    public void Binds_options_from_config_and_rejects_unknown_keys()
    {
        var loc = new SourceLocation("f.yaml", 1, 1);
        ConfigNode Num(string path, double v) => new ConfigScalar(path, loc, v.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var widths = new ConfigList("family.widths", loc, [
            new ConfigList("family.widths[0]", loc, [Num("w", 8), Num("w", 12)]),
            new ConfigList("family.widths[1]", loc, [Num("w", 16)]),
        ]);
        var map = new ConfigMap("family", loc, [new("widths", widths), new("kernels", new ConfigList("family.kernels", loc, [Num("k", 3)]))]);
        var o = MobileNetV2Options.Bind(map);
        Assert.Equal(2, o.Widths.Count);
        Assert.Equal([1, 2], o.Strides);
        Assert.Equal([3.0], o.Kernels);
        var bad = new ConfigMap("family", loc, [new("kernel", Num("family.kernel", 3))]);
        var e = Assert.Throws<ConfigException>(() => MobileNetV2Options.Bind(bad));
        Assert.Contains("did you mean 'kernels'", e.Message);
    }
}
