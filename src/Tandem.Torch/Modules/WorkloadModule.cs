using Tandem.Core.Workloads;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Tandem.Torch.Modules;

/// <summary>
/// Options of one forward pass that the proxies need: skip batch normalisation (synflow scores the
/// network without it) and observe every rectified activation (NASWOT codes samples by which units fire).
/// </summary>
internal sealed class ForwardHooks
{
    public bool BypassBatchNorm { get; init; }
    /// <summary>Called with each layer's output after a ReLU-family activation (layer index, tensor).</summary>
    public Action<int, Tensor>? OnActivation { get; init; }
}

/// <summary>
/// A trainable TorchSharp module built from a <see cref="Workload"/>: one sub-module per layer, named
/// after the layer (dots become underscores), evaluated in the workload's DAG order. Parameter counts
/// equal <see cref="Workload.TotalParameters"/> (batch-norm running statistics are buffers, not
/// parameters). Weights are initialised from a seed: He-normal (fan-out) convolutions, PyTorch's
/// uniform default for dense layers, unit batch-norm scale and zero shift.
/// </summary>
internal sealed class WorkloadModule : nn.Module<Tensor, Tensor>
{
    private readonly LayerOp[] _ops;
    private readonly int[][] _producers;

    public WorkloadModule(Workload workload, int seed, ScalarType dtype = ScalarType.Float32) : base("workload")
    {
        TorchRuntime.EnsureCorrectConvolutions();
        Workload = workload;
        _ops = new LayerOp[workload.Layers.Length];
        _producers = new int[workload.Layers.Length][];
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var generator = new Generator((ulong)(uint)seed, CPU);
        for (int i = 0; i < workload.Layers.Length; i++)
        {
            var layer = workload.Layers[i];
            string name = Sanitize(layer.Name);
            while (!names.Add(name)) name += "_";
            _producers[i] = workload.ProducersOf(i).ToArray();
            _ops[i] = layer switch
            {
                Conv2dLayer c => new ConvOp(name, c, generator, dtype),
                DenseLayer d => new DenseOp(name, d, generator, dtype),
                PoolLayer p => new PoolOp(name, p),
                ElementwiseLayer e => new ElementwiseOpModule(name, e),
                MatMulLayer => throw new WorkloadException(
                    $"{workload.Name}: layer '{layer.Name}' is a GEMM (MatMul) with streamed operands, which Tandem cannot train; trainable networks use conv, dense, pool and element-wise layers"),
                _ => throw new WorkloadException($"{workload.Name}: layer '{layer.Name}' of kind {layer.GetType().Name} cannot be built as a TorchSharp module"),
            };
            register_module(name, _ops[i]);
        }
    }

    public Workload Workload { get; }

    /// <summary>Sub-module of each layer, in workload order.</summary>
    public IReadOnlyList<nn.Module> Layers => _ops;

    public override Tensor forward(Tensor input) => Forward(input, null);

    public Tensor Forward(Tensor input, ForwardHooks? hooks)
    {
        var outputs = new Tensor[_ops.Length];
        var ctx = new OpContext(training, hooks);
        for (int i = 0; i < _ops.Length; i++)
        {
            var producers = _producers[i];
            var inputs = new Tensor[producers.Length];
            for (int k = 0; k < producers.Length; k++) inputs[k] = producers[k] < 0 ? input : outputs[producers[k]];
            outputs[i] = _ops[i].Apply(inputs, ctx, i);
        }
        var result = outputs.Length == 0 ? input : outputs[^1];
        return result.dim() > 2 ? result.flatten(1) : result;
    }

    /// <summary>Weights of convolutions and dense layers (not biases, not batch norm): what SNIP and synflow score.</summary>
    public IEnumerable<Tensor> PrunableWeights()
    {
        foreach (var op in _ops)
            if (op is ConvOp c) yield return c.Weight;
            else if (op is DenseOp d) yield return d.Weight;
    }

    private static string Sanitize(string name)
    {
        var chars = name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_' ? ch : '_').ToArray();
        var s = new string(chars);
        return s.Length == 0 ? "layer" : s;
    }
}

internal readonly record struct OpContext(bool Training, ForwardHooks? Hooks);

internal abstract class LayerOp(string name) : nn.Module(name)
{
    public abstract Tensor Apply(Tensor[] inputs, OpContext ctx, int index);

    internal static Tensor Activate(Tensor x, Activation activation, OpContext ctx, int index)
    {
        var y = activation switch
        {
            Activation.None => x,
            Activation.ReLU => F.relu(x),
            Activation.ReLU6 => F.relu6(x),
            Activation.Sigmoid => F.sigmoid(x),
            Activation.HardSwish => F.hardswish(x),
            _ => throw new NotSupportedException($"activation {activation}"),
        };
        if (activation is Activation.ReLU or Activation.ReLU6) ctx.Hooks?.OnActivation?.Invoke(index, y);
        return y;
    }
}

internal sealed class ConvOp : LayerOp
{
    private readonly Conv2dLayer _layer;
    private readonly long[] _stride, _padding;
    private readonly long[]? _ceilPad;

    public ConvOp(string name, Conv2dLayer layer, Generator generator, ScalarType dtype) : base(name)
    {
        _layer = layer;
        long fanOut = (long)layer.OutChannels * layer.KernelHeight * layer.KernelWidth;
        var w = empty([layer.OutChannels, layer.InChannels / layer.Groups, layer.KernelHeight, layer.KernelWidth]);
        w.normal_(0, Math.Sqrt(2.0 / fanOut), generator);
        Weight = nn.Parameter(w.to_type(dtype));
        register_parameter("weight", Weight);
        if (layer.Bias)
        {
            Bias = nn.Parameter(zeros(layer.OutChannels, dtype: dtype));
            register_parameter("bias", Bias);
        }
        if (layer.BatchNorm)
        {
            BnWeight = nn.Parameter(ones(layer.OutChannels, dtype: dtype));
            BnBias = nn.Parameter(zeros(layer.OutChannels, dtype: dtype));
            RunningMean = zeros(layer.OutChannels, dtype: dtype);
            RunningVar = ones(layer.OutChannels, dtype: dtype);
            register_parameter("bn_weight", BnWeight);
            register_parameter("bn_bias", BnBias);
            register_buffer("running_mean", RunningMean);
            register_buffer("running_var", RunningVar);
        }
        _stride = [layer.StrideHeight, layer.StrideWidth];
        _padding = [layer.PadHeight, layer.PadWidth];
        if (layer.CeilMode)
        {
            // PyTorch convolutions round down; SCALE-Sim's ceil convention is the same convolution
            // with extra zeros at the bottom/right, just enough for the last partial window.
            long extraH = Math.Max(0, (long)(layer.OutputHeight - 1) * layer.StrideHeight + layer.KernelHeight - (layer.Input.Height + 2L * layer.PadHeight));
            long extraW = Math.Max(0, (long)(layer.OutputWidth - 1) * layer.StrideWidth + layer.KernelWidth - (layer.Input.Width + 2L * layer.PadWidth));
            if (extraH > 0 || extraW > 0) _ceilPad = [0, extraW, 0, extraH];
        }
    }

    public Parameter Weight { get; }
    public Parameter? Bias { get; }
    public Parameter? BnWeight { get; }
    public Parameter? BnBias { get; }
    public Tensor? RunningMean { get; }
    public Tensor? RunningVar { get; }

    public override Tensor Apply(Tensor[] inputs, OpContext ctx, int index)
    {
        var x = inputs[0];
        if (_ceilPad != null) x = F.pad(x, _ceilPad);
        var y = TorchRuntime.Conv2d(x, Weight, Bias, _stride, _padding, _layer.Groups);
        if (_layer.BatchNorm && ctx.Hooks?.BypassBatchNorm != true)
            y = F.batch_norm(y, RunningMean!, RunningVar!, BnWeight, BnBias, ctx.Training, 0.1, 1e-5);
        return Activate(y, _layer.Activation, ctx, index);
    }
}

internal sealed class DenseOp : LayerOp
{
    private readonly DenseLayer _layer;

    public DenseOp(string name, DenseLayer layer, Generator generator, ScalarType dtype) : base(name)
    {
        _layer = layer;
        double bound = 1.0 / Math.Sqrt(layer.InFeatures);
        var w = empty([layer.OutFeatures, layer.InFeatures]);
        w.uniform_(-bound, bound, generator);
        Weight = nn.Parameter(w.to_type(dtype));
        register_parameter("weight", Weight);
        if (layer.Bias)
        {
            var b = empty(layer.OutFeatures);
            b.uniform_(-bound, bound, generator);
            Bias = nn.Parameter(b.to_type(dtype));
            register_parameter("bias", Bias);
        }
    }

    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public override Tensor Apply(Tensor[] inputs, OpContext ctx, int index) =>
        Activate(F.linear(inputs[0].flatten(1), Weight, Bias), _layer.Activation, ctx, index);
}

internal sealed class PoolOp(string name, PoolLayer layer) : LayerOp(name)
{
    public override Tensor Apply(Tensor[] inputs, OpContext ctx, int index) => layer.Kind switch
    {
        PoolKind.GlobalAverage => inputs[0].mean([2L, 3L], keepdim: true),
        PoolKind.Max => F.max_pool2d(inputs[0], [layer.Kernel, layer.Kernel], [layer.Stride, layer.Stride], [layer.Pad, layer.Pad], ceil_mode: layer.CeilMode),
        _ => F.avg_pool2d(inputs[0], [layer.Kernel, layer.Kernel], [layer.Stride, layer.Stride], [layer.Pad, layer.Pad], ceil_mode: layer.CeilMode),
    };
}

internal sealed class ElementwiseOpModule(string name, ElementwiseLayer layer) : LayerOp(name)
{
    public override Tensor Apply(Tensor[] inputs, OpContext ctx, int index)
    {
        var y = inputs[0];
        if (layer.Op == ElementwiseOp.Add) for (int k = 1; k < inputs.Length; k++) y = y + inputs[k];
        else if (layer.Op == ElementwiseOp.Multiply) for (int k = 1; k < inputs.Length; k++) y = y * inputs[k];
        return Activate(y, layer.Activation, ctx, index);
    }
}
