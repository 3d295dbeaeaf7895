using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Workloads;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Tandem.Torch.Supernet;

/// <summary>
/// Supernet of the plain-CNN family: per stage, the maximum number of layers, each a convolution of
/// the maximum channels and kernel with its batch norm; a dense head over the maximum channels at the
/// final resolution. A sub-network uses the first layers of each stage, the first channels (of inputs
/// and outputs) and the centre of each kernel; its head takes the weights of its channels. With
/// independent kernels, each layer instead holds one weight tensor per kernel size of the family (the
/// choice blocks of single-path one-shot NAS, Guo et al. 2020), so a 3×3 sub-network does not run on the
/// centre of weights trained together with their outer ring; channels and layers stay shared.
/// </summary>
internal sealed class PlainCnnSupernet : Supernet
{
    private readonly PlainCnnFamily _family;
    private readonly int _classes, _maxLayers, _maxChannels, _maxKernel, _finalH, _finalW;
    private readonly Parameter[][] _conv, _bnWeight, _bnBias;
    // Independent kernels: per stage, layer and kernel size of the family, its own weights (null: shared centres).
    private readonly Dictionary<int, Parameter>[][]? _kernelConv;
    private readonly Tensor[][] _runningMean, _runningVar;
    private readonly Parameter _headWeight, _headBias;
    private PlainCnnStage[] _stages;
    private bool _maxPool = true;

    public PlainCnnSupernet(PlainCnnFamily family, TensorShape input, int classes, int seed, bool independentKernels = false)
        : base("plain_cnn_supernet", new DesignSpace(family.Parameters))
    {
        TorchRuntime.EnsureCorrectConvolutions();
        _family = family;
        _classes = classes;
        var o = family.Options;
        _maxLayers = (int)o.Layers.Max();
        _maxChannels = (int)o.Channels.Max();
        _maxKernel = (int)o.Kernels.Max();
        int h = input.Height, w = input.Width;
        for (int s = 1; s < o.Stages; s++) { h /= 2; w /= 2; }
        if (h < 1 || w < 1) throw new WorkloadException($"plain-cnn supernet: {o.Stages} stages need an input of at least {1 << (o.Stages - 1)} pixels (got {input.Height}x{input.Width})");
        (_finalH, _finalW) = (h, w);
        using var g = new Generator((ulong)(uint)seed, CPU);
        _conv = new Parameter[o.Stages][];
        _bnWeight = new Parameter[o.Stages][];
        _bnBias = new Parameter[o.Stages][];
        _runningMean = new Tensor[o.Stages][];
        _runningVar = new Tensor[o.Stages][];
        int[] kernels = [.. o.Kernels.Select(k => (int)k).Distinct().Order()];
        if (independentKernels) _kernelConv = new Dictionary<int, Parameter>[o.Stages][];
        for (int s = 0; s < o.Stages; s++)
        {
            _conv[s] = new Parameter[_maxLayers];
            _bnWeight[s] = new Parameter[_maxLayers];
            _bnBias[s] = new Parameter[_maxLayers];
            _runningMean[s] = new Tensor[_maxLayers];
            _runningVar[s] = new Tensor[_maxLayers];
            if (_kernelConv != null) _kernelConv[s] = new Dictionary<int, Parameter>[_maxLayers];
            for (int l = 0; l < _maxLayers; l++)
            {
                int cin = s == 0 && l == 0 ? input.Channels : _maxChannels;
                string n = $"s{s + 1}_l{l + 1}";
                // A k×k weight initialised for its own fan-out (He et al.).
                Parameter Weight(string name, int k)
                {
                    var w = empty([_maxChannels, cin, k, k]);
                    w.normal_(0, Math.Sqrt(2.0 / (_maxChannels * k * k)), g);
                    var p = nn.Parameter(w);
                    register_parameter(name, p);
                    return p;
                }
                if (_kernelConv != null)
                {
                    // One tensor per kernel size.
                    _kernelConv[s][l] = [];
                    foreach (int k in kernels) _kernelConv[s][l][k] = Weight($"{n}_k{k}_weight", k);
                    _conv[s][l] = _kernelConv[s][l][_maxKernel];
                }
                else _conv[s][l] = Weight($"{n}_weight", _maxKernel);
                register_parameter($"{n}_bn_weight", _bnWeight[s][l] = nn.Parameter(ones(_maxChannels)));
                register_parameter($"{n}_bn_bias", _bnBias[s][l] = nn.Parameter(zeros(_maxChannels)));
                register_buffer($"{n}_running_mean", _runningMean[s][l] = zeros(_maxChannels));
                register_buffer($"{n}_running_var", _runningVar[s][l] = ones(_maxChannels));
                RegisterBatchNorm(_runningMean[s][l], _runningVar[s][l]);
            }
        }
        long features = (long)_maxChannels * _finalH * _finalW;
        double bound = 1.0 / Math.Sqrt(features);
        var hw = empty([classes, features]);
        hw.uniform_(-bound, bound, g);
        var hb = empty(classes);
        hb.uniform_(-bound, bound, g);
        register_parameter("head_weight", _headWeight = nn.Parameter(hw));
        register_parameter("head_bias", _headBias = nn.Parameter(hb));
        _stages = [.. Enumerable.Repeat(new PlainCnnStage(_maxLayers, _maxChannels, _maxKernel, false), o.Stages)];
    }

    protected override ElasticDimensions DimensionOf(Tandem.Core.Spaces.Parameter parameter) =>
        parameter.Name.EndsWith(".kernel", StringComparison.Ordinal) ? ElasticDimensions.Kernel
        : parameter.Name.EndsWith(".layers", StringComparison.Ordinal) ? ElasticDimensions.Depth
        : ElasticDimensions.Width;

    /// <summary>
    /// One permutation per stage: residual joins add layer l's channel i to layer l−1's channel i, so
    /// every layer of a stage must keep the same channel order. A channel's importance is the sum over
    /// the stage's layers of the L1 norm of its output filter. The permutation is applied to the
    /// stage's output filters, batch-norm parameters and statistics, the input channels of the stage's
    /// later layers and of the next stage's first layer, and (last stage) the head's columns.
    /// </summary>
    public override int ReorderChannels()
    {
        using var scope = NewDisposeScope();
        for (int s = 0; s < _conv.Length; s++)
        {
            var importance = zeros(_maxChannels);
            using (no_grad())
                for (int l = 0; l < _maxLayers; l++)
                    foreach (var w in Weights(s, l)) importance.add_(w.abs().sum([1L, 2L, 3L]));
            var order = tensor(DescendingOrder(importance.data<float>().ToArray()));
            for (int l = 0; l < _maxLayers; l++)
            {
                foreach (var w in Weights(s, l))
                {
                    PermuteInPlace(w, 0, order);
                    if (l > 0) PermuteInPlace(w, 1, order);
                }
                PermuteInPlace(_bnWeight[s][l], 0, order);
                PermuteInPlace(_bnBias[s][l], 0, order);
                PermuteInPlace(_runningMean[s][l], 0, order);
                PermuteInPlace(_runningVar[s][l], 0, order);
            }
            if (s + 1 < _conv.Length) foreach (var w in Weights(s + 1, 0)) PermuteInPlace(w, 1, order);
            else
            {
                using var noGrad = no_grad();
                var head = _headWeight.view(_classes, _maxChannels, _finalH, _finalW);
                head.copy_(head.index_select(1, order).clone());
            }
        }
        return _conv.Length;
    }

    public override void Activate(Design design)
    {
        _stages = [.. _family.Stages(design)];
        _maxPool = design.GetString("arch.pool") == "max";
    }

    public override Tensor forward(Tensor x)
    {
        for (int s = 0; s < _stages.Length; s++)
        {
            if (s > 0) x = _maxPool ? F.max_pool2d(x, 2, 2) : F.avg_pool2d(x, 2, 2);
            var st = _stages[s];
            for (int l = 0; l < st.Layers; l++)
            {
                var (w, bw, bb, rm, rv) = Slice(s, l, (int)x.shape[1], st.Channels, st.Kernel);
                var y = TorchRuntime.Conv2d(x, w, null, null, [st.Kernel / 2, st.Kernel / 2]);
                y = F.batch_norm(y, rm, rv, bw, bb, training, BatchNormMomentum, 1e-5);
                x = st.Residual && l > 0 ? F.relu(y + x) : F.relu(y);
            }
        }
        int c = _stages[^1].Channels;
        return F.linear(x.flatten(1), HeadSlice(c), _headBias);
    }

    public override IEnumerable<(string Name, Tensor Tensor)> ActiveTensors()
    {
        int cin = (int)_conv[0][0].shape[1];
        for (int s = 0; s < _stages.Length; s++)
        {
            var st = _stages[s];
            for (int l = 0; l < st.Layers; l++)
            {
                var (w, bw, bb, rm, rv) = Slice(s, l, cin, st.Channels, st.Kernel);
                string n = $"s{s + 1}_conv{l + 1}";
                yield return ($"{n}.weight", w);
                yield return ($"{n}.bn_weight", bw);
                yield return ($"{n}.bn_bias", bb);
                yield return ($"{n}.running_mean", rm);
                yield return ($"{n}.running_var", rv);
                cin = st.Channels;
            }
        }
        yield return ("classifier.weight", HeadSlice(_stages[^1].Channels));
        yield return ("classifier.bias", _headBias);
    }

    /// <summary>Every convolution weight tensor of layer l of stage s (one, or one per kernel size).</summary>
    private IEnumerable<Parameter> Weights(int s, int l) => _kernelConv is null ? [_conv[s][l]] : _kernelConv[s][l].Values;

    private (Tensor W, Tensor BnW, Tensor BnB, Tensor Mean, Tensor Var) Slice(int s, int l, int cin, int c, int k)
    {
        var w = (_kernelConv is null ? _conv[s][l] : _kernelConv[s][l][k]).narrow(0, 0, c).narrow(1, 0, cin);
        if (_kernelConv is null && k < _maxKernel)
        {
            int off = (_maxKernel - k) / 2;
            w = w.narrow(2, off, k).narrow(3, off, k);
        }
        return (w, _bnWeight[s][l].narrow(0, 0, c), _bnBias[s][l].narrow(0, 0, c), _runningMean[s][l].narrow(0, 0, c), _runningVar[s][l].narrow(0, 0, c));
    }

    private Tensor HeadSlice(int c) =>
        _headWeight.view(_classes, _maxChannels, _finalH, _finalW).narrow(1, 0, c).reshape(_classes, (long)c * _finalH * _finalW);
}
