using Tandem.Core.Configuration;
using Tandem.Core.Workloads;

namespace Tandem.Core.Spaces.Families;

/// <summary>
/// Domains of the MobileNetV2-style family. <see cref="Widths"/> has one list of output-channel
/// choices per stage (the number of stages is its length); <see cref="Strides"/> one stride per stage.
/// All values are positive whole numbers; kernels are odd.
/// </summary>
public sealed record MobileNetV2Options
{
    public int StemChannels { get; init; } = 16;
    public IReadOnlyList<IReadOnlyList<double>> Widths { get; init; } = [[16, 24], [24, 32, 40], [40, 48, 64], [64, 80, 96]];
    public IReadOnlyList<int> Strides { get; init; } = [1, 2, 2, 2];
    public IReadOnlyList<double> Depths { get; init; } = [1, 2, 3];
    public IReadOnlyList<double> Kernels { get; init; } = [3, 5, 7];
    public IReadOnlyList<double> Expansions { get; init; } = [3, 4, 6];
    public int HeadChannels { get; init; } = 192;

    /// <summary>Config keys of <see cref="Bind"/>.</summary>
    public static readonly IReadOnlyList<string> ConfigKeys = ["stem_channels", "widths", "strides", "depths", "kernels", "expansions", "head_channels"];

    /// <summary>
    /// Binds the family's options from a config map: <c>widths</c> is a list with one list of channel
    /// choices per stage, <c>strides</c> one stride (1 or 2) per stage; other lists are shared by all stages.
    /// </summary>
    public static MobileNetV2Options Bind(ConfigMap m)
    {
        m.CheckKeys(ConfigKeys);
        var d = new MobileNetV2Options();
        IReadOnlyList<IReadOnlyList<double>> widths = d.Widths;
        if (m.GetList("widths") is { } list)
        {
            var stages = new List<IReadOnlyList<double>>();
            foreach (var item in list.Items)
            {
                if (item is not ConfigList stage) throw item.Error($"expected a list of channel choices for one stage (e.g. [24, 32]), found {item.KindName}");
                if (stage.Items.Count == 0) throw stage.Error("a stage needs at least one width");
                stages.Add(stage.Items.Select(v => v is ConfigScalar sc ? sc.AsDouble() : throw v.Error($"expected a number, found {v.KindName}")).ToArray());
            }
            widths = stages;
        }
        var strides = m.GetNumberList("strides", 1, 2)?.Select(v => (int)v).ToArray() ?? (widths.Count == d.Widths.Count ? d.Strides : [.. Enumerable.Range(0, widths.Count).Select(i => i == 0 ? 1 : 2)]);
        return new MobileNetV2Options
        {
            StemChannels = m.GetInt("stem_channels", d.StemChannels, 1, 4096),
            Widths = widths,
            Strides = strides,
            Depths = m.GetNumberList("depths", 1, 16) ?? d.Depths,
            Kernels = m.GetNumberList("kernels", 1, 15) ?? d.Kernels,
            Expansions = m.GetNumberList("expansions", 1, 16) ?? d.Expansions,
            HeadChannels = m.GetInt("head_channels", d.HeadChannels, 1, 4096),
        };
    }
}

/// <summary>
/// A MobileNetV2-style family for small images (28×28 or 32×32): a 3×3 stem convolution, then stages
/// of inverted residual blocks, then a 1×1 head convolution, global average pooling and a dense
/// classifier. Stage i has <c>arch.s{i}.depth</c> blocks of output width <c>arch.s{i}.width</c>, each
/// a 1×1 expansion to <c>arch.s{i}.expansion</c> × its input channels (conv-BN-ReLU6; skipped for
/// expansion 1), a depthwise <c>arch.s{i}.kernel</c>² convolution (conv-BN-ReLU6; the stage's stride
/// on its first block) and a linear 1×1 projection (conv-BN); a block adds its input back when its
/// stride is 1 and its input and output widths are equal. Every parameter is used by every design.
/// </summary>
public sealed class MobileNetV2Family : INetworkFamily
{
    public const string FamilyName = "mobilenetv2";

    public MobileNetV2Family(MobileNetV2Options? options = null)
    {
        Options = options ?? new MobileNetV2Options();
        var o = Options;
        if (o.Widths.Count is < 1 or > 8) throw new SpaceException($"mobilenetv2: 1 to 8 stages of widths are needed (got {o.Widths.Count})");
        if (o.Strides.Count != o.Widths.Count) throw new SpaceException($"mobilenetv2: {o.Widths.Count} stages need {o.Widths.Count} strides (got {o.Strides.Count})");
        if (o.Strides.Any(s => s is < 1 or > 2)) throw new SpaceException("mobilenetv2: strides must be 1 or 2");
        if (o.StemChannels < 1 || o.HeadChannels < 1) throw new SpaceException("mobilenetv2: stem and head channels must be ≥ 1");
        static bool Whole(double v) => v >= 1 && v == Math.Floor(v);
        if (o.Widths.Any(w => w.Count == 0 || w.Any(v => !Whole(v)))) throw new SpaceException("mobilenetv2: every stage needs widths that are whole numbers ≥ 1");
        if (o.Depths.Count == 0 || o.Depths.Any(v => !Whole(v))) throw new SpaceException("mobilenetv2: depths must be whole numbers ≥ 1");
        if (o.Kernels.Count == 0 || o.Kernels.Any(k => !Whole(k) || k % 2 == 0)) throw new SpaceException("mobilenetv2: kernel sizes must be odd whole numbers ≥ 1");
        if (o.Expansions.Count == 0 || o.Expansions.Any(v => !Whole(v))) throw new SpaceException("mobilenetv2: expansion ratios must be whole numbers ≥ 1");
        var ps = new List<Parameter>();
        for (int s = 1; s <= o.Widths.Count; s++)
        {
            ps.Add(new OrdinalParameter($"arch.s{s}.depth", o.Depths));
            ps.Add(new OrdinalParameter($"arch.s{s}.kernel", o.Kernels));
            ps.Add(new OrdinalParameter($"arch.s{s}.expansion", o.Expansions));
            ps.Add(new OrdinalParameter($"arch.s{s}.width", o.Widths[s - 1]));
        }
        Parameters = ps;
    }

    public MobileNetV2Options Options { get; }
    public string Name => FamilyName;
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The per-stage choices of a design, with each stage's stride.</summary>
    public IReadOnlyList<MobileNetV2Stage> Stages(Design design)
    {
        var stages = new MobileNetV2Stage[Options.Widths.Count];
        for (int s = 1; s <= stages.Length; s++)
            stages[s - 1] = new MobileNetV2Stage(design.GetInt($"arch.s{s}.depth"), design.GetInt($"arch.s{s}.kernel"),
                design.GetInt($"arch.s{s}.expansion"), design.GetInt($"arch.s{s}.width"), Options.Strides[s - 1]);
        return stages;
    }

    public Workload Lower(Design design, TensorShape input, int numClasses)
    {
        var b = new WorkloadBuilder("mobilenetv2", input);
        b.Conv(Options.StemChannels, 3, activation: Activation.ReLU6, name: "stem");
        var stages = Stages(design);
        for (int s = 0; s < stages.Count; s++)
        {
            var st = stages[s];
            for (int k = 0; k < st.Depth; k++)
            {
                string n = $"s{s + 1}.b{k + 1}";
                int stride = k == 0 ? st.Stride : 1;
                int blockInput = b.Current;
                int cin = b.CurrentShape.Channels;
                if (stride > 1 && (b.CurrentShape.Height < 2 || b.CurrentShape.Width < 2))
                    throw new WorkloadException($"mobilenetv2: stage {s + 1} halves a {b.CurrentShape.Height}x{b.CurrentShape.Width} feature map; the input {input.Height}x{input.Width} is too small for {stages.Count} stages");
                int hidden = cin * st.Expansion;
                if (st.Expansion != 1) b.Conv(hidden, 1, activation: Activation.ReLU6, name: n + ".expand");
                b.Conv(hidden, st.Kernel, stride: stride, groups: hidden, activation: Activation.ReLU6, name: n + ".dw");
                int project = b.Conv(st.Width, 1, activation: Activation.None, name: n + ".project");
                if (stride == 1 && cin == st.Width) b.Add([project, blockInput], name: n + ".add");
            }
        }
        b.Conv(Options.HeadChannels, 1, activation: Activation.ReLU6, name: "head");
        b.Pool(PoolKind.GlobalAverage, name: "gap");
        b.Dense(numClasses, name: "classifier");
        return b.Build();
    }
}

/// <summary>One stage of a MobileNetV2-style design: blocks, depthwise kernel, expansion ratio, output width and the stride of its first block.</summary>
public readonly record struct MobileNetV2Stage(int Depth, int Kernel, int Expansion, int Width, int Stride);
