using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Workloads;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Parameter = TorchSharp.Modules.Parameter;

namespace Tandem.Torch.Supernet;

/// <summary>
/// Supernet of the MobileNetV2-style family: per stage, the maximum number of inverted residual
/// blocks, each sized for the stage's maximum width, the maximum expansion of the largest possible
/// input width and the largest kernel. A sub-network takes the first blocks, the first input and
/// hidden channels (hidden = its input width × its expansion), the first output channels, and the
/// centre of each depthwise kernel; the stem is shared whole, the head convolution takes the input
/// channels of the last width.
/// </summary>
internal sealed class MobileNetV2Supernet : Supernet
{
    private sealed record Conv(Parameter Weight, Parameter BnWeight, Parameter BnBias, Tensor Mean, Tensor Var);
    private sealed record Block(Conv? Expand, Conv Depthwise, Conv Project);

    private readonly MobileNetV2Family _family;
    private readonly int _maxKernel;
    private readonly Conv _stem, _head;
    private readonly Block[][] _blocks;
    private readonly Parameter _classifierWeight, _classifierBias;
    private MobileNetV2Stage[] _stages;

    public MobileNetV2Supernet(MobileNetV2Family family, TensorShape input, int classes, int seed)
        : base("mobilenetv2_supernet", new DesignSpace(family.Parameters))
    {
        TorchRuntime.EnsureCorrectConvolutions();
        _family = family;
        var o = family.Options;
        _maxKernel = (int)o.Kernels.Max();
        int maxDepth = (int)o.Depths.Max(), maxExpansion = (int)o.Expansions.Max();
        bool anyExpand = o.Expansions.Any(e => e != 1);
        using var g = new Generator((ulong)(uint)seed, CPU);
        _stem = MakeConv("stem", o.StemChannels, input.Channels, 3, 1, g);
        _blocks = new Block[o.Widths.Count][];
        int prevMax = o.StemChannels;
        for (int s = 0; s < o.Widths.Count; s++)
        {
            int wMax = (int)o.Widths[s].Max();
            _blocks[s] = new Block[maxDepth];
            for (int b = 0; b < maxDepth; b++)
            {
                int cinMax = b == 0 ? prevMax : wMax;
                int hiddenMax = cinMax * maxExpansion;
                string n = $"s{s + 1}_b{b + 1}";
                _blocks[s][b] = new Block(
                    anyExpand ? MakeConv(n + "_expand", hiddenMax, cinMax, 1, 1, g) : null,
                    MakeConv(n + "_dw", hiddenMax, 1, _maxKernel, _maxKernel, g),
                    MakeConv(n + "_project", wMax, hiddenMax, 1, 1, g));
            }
            prevMax = wMax;
        }
        _head = MakeConv("head", o.HeadChannels, prevMax, 1, 1, g);
        double bound = 1.0 / Math.Sqrt(o.HeadChannels);
        var cw = empty([classes, o.HeadChannels]);
        cw.uniform_(-bound, bound, g);
        var cb = empty(classes);
        cb.uniform_(-bound, bound, g);
        register_parameter("classifier_weight", _classifierWeight = nn.Parameter(cw));
        register_parameter("classifier_bias", _classifierBias = nn.Parameter(cb));
        _stages = [.. family.Stages(Extreme(largest: true, new Random(0)))];
    }

    private Conv MakeConv(string name, int outChannels, int inChannels, int kernel, int fanOutKernel, Generator g)
    {
        var w = empty([outChannels, inChannels, kernel, kernel]);
        // He-normal over the fan-out; a depthwise filter's fan-out is its own k² taps.
        double fanOut = inChannels == 1 && kernel > 1 ? kernel * kernel : (double)outChannels * kernel * kernel;
        w.normal_(0, Math.Sqrt(2.0 / fanOut), g);
        var conv = new Conv(nn.Parameter(w), nn.Parameter(ones(outChannels)), nn.Parameter(zeros(outChannels)), zeros(outChannels), ones(outChannels));
        register_parameter(name + "_weight", conv.Weight);
        register_parameter(name + "_bn_weight", conv.BnWeight);
        register_parameter(name + "_bn_bias", conv.BnBias);
        register_buffer(name + "_running_mean", conv.Mean);
        register_buffer(name + "_running_var", conv.Var);
        RegisterBatchNorm(conv.Mean, conv.Var);
        return conv;
    }

    public override void Activate(Design design) => _stages = [.. _family.Stages(design)];

    protected override ElasticDimensions DimensionOf(Tandem.Core.Spaces.Parameter parameter) =>
        parameter.Name.EndsWith(".kernel", StringComparison.Ordinal) ? ElasticDimensions.Kernel
        : parameter.Name.EndsWith(".depth", StringComparison.Ordinal) ? ElasticDimensions.Depth
        : ElasticDimensions.Width;

    /// <summary>
    /// Sorts the hidden channels of every inverted residual block (Once-for-All's reorganisation of the
    /// middle weights): a hidden channel's importance is the L1 norm of the projection weights that read
    /// it; the permutation is applied to the expansion's output filters and batch norm, the depthwise
    /// filters and batch norm, and the projection's input channels. Block outputs (stage widths) are
    /// not sorted: residual joins tie them across stages and to the stem. When the family offers
    /// expansion 1 a block's depthwise filters also act directly on its input channels, so nothing is
    /// sorted (returns 0).
    /// </summary>
    public override int ReorderChannels()
    {
        if (_family.Options.Expansions.Contains(1)) return 0;
        int groups = 0;
        using var scope = NewDisposeScope();
        foreach (var block in _blocks.SelectMany(b => b))
        {
            if (block.Expand is not { } expand) continue;
            Tensor importance;
            using (no_grad()) importance = block.Project.Weight.abs().sum([0L, 2L, 3L]);
            var order = tensor(DescendingOrder(importance.data<float>().ToArray()));
            foreach (var c in new[] { expand, block.Depthwise })
            {
                PermuteInPlace(c.Weight, 0, order);
                PermuteInPlace(c.BnWeight, 0, order);
                PermuteInPlace(c.BnBias, 0, order);
                PermuteInPlace(c.Mean, 0, order);
                PermuteInPlace(c.Var, 0, order);
            }
            PermuteInPlace(block.Project.Weight, 1, order);
            groups++;
        }
        return groups;
    }

    public override Tensor forward(Tensor x)
    {
        foreach (var (_, op) in Ops(x.shape[1])) x = op(x);
        return F.linear(x.mean([2L, 3L]), _classifierWeight, _classifierBias);
    }

    public override IEnumerable<(string Name, Tensor Tensor)> ActiveTensors()
    {
        foreach (var (name, sliced) in Slices())
        {
            yield return ($"{name}.weight", sliced.W);
            yield return ($"{name}.bn_weight", sliced.BnW);
            yield return ($"{name}.bn_bias", sliced.BnB);
            yield return ($"{name}.running_mean", sliced.Mean);
            yield return ($"{name}.running_var", sliced.Var);
        }
        yield return ("classifier.weight", _classifierWeight);
        yield return ("classifier.bias", _classifierBias);
    }

    private readonly record struct Sliced(Tensor W, Tensor BnW, Tensor BnB, Tensor Mean, Tensor Var, int Stride, int Groups, int Kernel, bool Act);

    /// <summary>The active sub-network's convolutions in order, named as the lowered workload names them.</summary>
    private IEnumerable<(string Name, Sliced Conv)> Slices()
    {
        var o = _family.Options;
        yield return ("stem", Slice(_stem, o.StemChannels, (int)_stem.Weight.shape[1], 3, 1, 1, true));
        int cin = o.StemChannels;
        for (int s = 0; s < _stages.Length; s++)
        {
            var st = _stages[s];
            for (int b = 0; b < st.Depth; b++)
            {
                var block = _blocks[s][b];
                int hidden = cin * st.Expansion;
                string n = $"s{s + 1}_b{b + 1}";
                if (st.Expansion != 1) yield return (n + "_expand", Slice(block.Expand!, hidden, cin, 1, 1, 1, true));
                yield return (n + "_dw", Slice(block.Depthwise, hidden, 1, st.Kernel, b == 0 ? st.Stride : 1, hidden, true));
                yield return (n + "_project", Slice(block.Project, st.Width, hidden, 1, 1, 1, false));
                cin = st.Width;
            }
        }
        yield return ("head", Slice(_head, o.HeadChannels, cin, 1, 1, 1, true));
    }

    private Sliced Slice(Conv c, int outC, int inC, int k, int stride, int groups, bool act)
    {
        var w = c.Weight.narrow(0, 0, outC).narrow(1, 0, inC);
        int full = (int)c.Weight.shape[2];
        if (k < full)
        {
            int off = (full - k) / 2;
            w = w.narrow(2, off, k).narrow(3, off, k);
        }
        return new Sliced(w, c.BnWeight.narrow(0, 0, outC), c.BnBias.narrow(0, 0, outC), c.Mean.narrow(0, 0, outC), c.Var.narrow(0, 0, outC), stride, groups, k, act);
    }

    /// <summary>The forward pass as a sequence of functions, so residual joins can be placed per block.</summary>
    private IEnumerable<(string Name, Func<Tensor, Tensor> Op)> Ops(long inputChannels)
    {
        var slices = Slices().ToList();
        int i = 0;
        yield return ("stem", x => Apply(slices[0].Conv, x));
        i = 1;
        int cin = _family.Options.StemChannels;
        for (int s = 0; s < _stages.Length; s++)
        {
            var st = _stages[s];
            for (int b = 0; b < st.Depth; b++)
            {
                int stride = b == 0 ? st.Stride : 1;
                int count = st.Expansion != 1 ? 3 : 2;
                var convs = slices.Skip(i).Take(count).Select(t => t.Conv).ToArray();
                i += count;
                bool residual = stride == 1 && cin == st.Width;
                yield return ($"s{s + 1}_b{b + 1}", x =>
                {
                    var y = x;
                    foreach (var c in convs) y = Apply(c, y);
                    return residual ? y + x : y;
                });
                cin = st.Width;
            }
        }
        var head = slices[i].Conv;
        yield return ("head", x => Apply(head, x));
    }

    private Tensor Apply(Sliced c, Tensor x)
    {
        var y = TorchRuntime.Conv2d(x, c.W, null, [c.Stride, c.Stride], [c.Kernel / 2, c.Kernel / 2], c.Groups);
        y = F.batch_norm(y, c.Mean, c.Var, c.BnW, c.BnB, training, BatchNormMomentum, 1e-5);
        return c.Act ? F.relu6(y) : y;
    }
}
