namespace Tandem.Core.Workloads;

/// <summary>Non-linearity applied to a layer's output.</summary>
public enum Activation { None, ReLU, ReLU6, Sigmoid, HardSwish }

/// <summary>
/// One node of the layer IR. Every layer knows its input shape (per input for multi-input
/// layers), infers its output shape, and counts its multiply-accumulates and parameters per sample.
/// <see cref="Inputs"/> lists producer layers by index in the owning <see cref="Workload"/>;
/// <see cref="NetworkInput"/> (-1) is the network's input; empty means "the previous layer".
/// </summary>
public abstract record Layer
{
    /// <summary>Index that stands for the network input in <see cref="Inputs"/>.</summary>
    public const int NetworkInput = -1;

    public required string Name { get; init; }

    /// <summary>Shape of (each) input tensor.</summary>
    public required TensorShape Input { get; init; }

    /// <summary>Producer layer indices; empty = previous layer (or the network input for layer 0).</summary>
    public IReadOnlyList<int> Inputs { get; init; } = [];

    public abstract TensorShape Output { get; }

    /// <summary>Multiply-accumulate operations per sample.</summary>
    public abstract long Macs { get; }

    /// <summary>Trainable parameters (weights, biases, batch-norm scale and shift).</summary>
    public abstract long Parameters { get; }

    /// <summary>Non-MAC arithmetic per sample (comparisons, additions of pooling and element-wise ops).</summary>
    public virtual long OtherOperations => 0;

    /// <summary>Short human-readable description, e.g. "conv 3x3/1 16→32".</summary>
    public abstract string Describe();

    /// <summary>Throws <see cref="WorkloadException"/> when the layer cannot exist.</summary>
    public abstract void Validate();
}

/// <summary>
/// 2-D convolution. <see cref="Groups"/> = input channels = output channels gives a depthwise
/// convolution. Output size: floor((H + 2·pad − k) / stride) + 1, or ceil(…) + 1 when
/// <see cref="CeilMode"/> is set (SCALE-Sim's convention, which pads nothing and rounds up).
/// <see cref="BatchNorm"/> and <see cref="Activation"/> follow the convolution (conv-BN-act).
/// </summary>
public sealed record Conv2dLayer : Layer
{
    public required int OutChannels { get; init; }
    public required int KernelHeight { get; init; }
    public required int KernelWidth { get; init; }
    public int StrideHeight { get; init; } = 1;
    public int StrideWidth { get; init; } = 1;
    public int PadHeight { get; init; }
    public int PadWidth { get; init; }
    public int Groups { get; init; } = 1;
    public bool Bias { get; init; }
    public bool BatchNorm { get; init; }
    public Activation Activation { get; init; }
    public bool CeilMode { get; init; }

    public int InChannels => Input.Channels;
    public bool IsDepthwise => Groups > 1 && Groups == InChannels && OutChannels == InChannels;
    public int OutputHeight => OutSize(Input.Height, KernelHeight, StrideHeight, PadHeight, CeilMode);
    public int OutputWidth => OutSize(Input.Width, KernelWidth, StrideWidth, PadWidth, CeilMode);

    public override TensorShape Output => new(OutChannels, OutputHeight, OutputWidth);

    public override long Macs =>
        (long)OutputHeight * OutputWidth * OutChannels * (InChannels / Groups) * KernelHeight * KernelWidth;

    public override long Parameters =>
        (long)OutChannels * (InChannels / Groups) * KernelHeight * KernelWidth
        + (Bias ? OutChannels : 0) + (BatchNorm ? 2L * OutChannels : 0);

    public override string Describe() =>
        $"conv {KernelHeight}x{KernelWidth}/{StrideHeight}{(Groups > 1 ? $" g{Groups}" : "")} {InChannels}→{OutChannels}";

    public override void Validate()
    {
        if (OutChannels < 1) throw new WorkloadException($"{Name}: output channels must be ≥ 1 (got {OutChannels})");
        if (KernelHeight < 1 || KernelWidth < 1) throw new WorkloadException($"{Name}: kernel {KernelHeight}x{KernelWidth} must be ≥ 1x1");
        if (StrideHeight < 1 || StrideWidth < 1) throw new WorkloadException($"{Name}: stride must be ≥ 1");
        if (PadHeight < 0 || PadWidth < 0) throw new WorkloadException($"{Name}: padding must be ≥ 0");
        if (Groups < 1 || InChannels % Groups != 0 || OutChannels % Groups != 0)
            throw new WorkloadException($"{Name}: groups {Groups} must divide input channels {InChannels} and output channels {OutChannels}");
        if (KernelHeight > Input.Height + 2 * PadHeight || KernelWidth > Input.Width + 2 * PadWidth)
            throw new WorkloadException(
                $"{Name}: filter {KernelHeight}x{KernelWidth} exceeds the (padded) input {Input.Height + 2 * PadHeight}x{Input.Width + 2 * PadWidth}");
    }

    internal static int OutSize(int input, int kernel, int stride, int pad, bool ceil)
    {
        int span = input + 2 * pad - kernel;
        if (span < 0 || stride < 1) return 0;
        return (ceil ? (span + stride - 1) / stride : span / stride) + 1;
    }
}

/// <summary>Fully connected layer; flattens its input (C·H·W features).</summary>
public sealed record DenseLayer : Layer
{
    public required int OutFeatures { get; init; }
    public bool Bias { get; init; } = true;
    public Activation Activation { get; init; }

    public long InFeatures => Input.Elements;
    public override TensorShape Output => new(OutFeatures, 1, 1);
    public override long Macs => InFeatures * OutFeatures;
    public override long Parameters => InFeatures * OutFeatures + (Bias ? OutFeatures : 0);
    public override string Describe() => $"dense {InFeatures}→{OutFeatures}";

    public override void Validate()
    {
        if (OutFeatures < 1) throw new WorkloadException($"{Name}: output features must be ≥ 1 (got {OutFeatures})");
    }
}

/// <summary>
/// Matrix multiply of an M × K operand by a K × N operand (a GEMM, e.g. a transformer projection).
/// Input shape is (1, M, K), output (1, M, N). Both operands are streamed, so no parameters are counted
/// unless <see cref="WeightsAreParameters"/> is set.
/// </summary>
public sealed record MatMulLayer : Layer
{
    public required int M { get; init; }
    public required int N { get; init; }
    public required int K { get; init; }
    public bool WeightsAreParameters { get; init; }

    public override TensorShape Output => new(1, M, N);
    public override long Macs => (long)M * N * K;
    public override long Parameters => WeightsAreParameters ? (long)K * N : 0;
    public override string Describe() => $"gemm {M}x{K}·{K}x{N}";

    public override void Validate()
    {
        if (M < 1 || N < 1 || K < 1) throw new WorkloadException($"{Name}: GEMM sizes M={M}, N={N}, K={K} must all be ≥ 1");
    }
}

/// <summary>Pooling kind.</summary>
public enum PoolKind { Max, Average, GlobalAverage }

/// <summary>Spatial pooling; <see cref="PoolKind.GlobalAverage"/> ignores kernel and stride and outputs C × 1 × 1.</summary>
public sealed record PoolLayer : Layer
{
    public required PoolKind Kind { get; init; }
    public int Kernel { get; init; } = 2;
    public int Stride { get; init; } = 2;
    public int Pad { get; init; }
    public bool CeilMode { get; init; }

    public override TensorShape Output => Kind == PoolKind.GlobalAverage
        ? new(Input.Channels, 1, 1)
        : new(Input.Channels,
              Conv2dLayer.OutSize(Input.Height, Kernel, Stride, Pad, CeilMode),
              Conv2dLayer.OutSize(Input.Width, Kernel, Stride, Pad, CeilMode));

    public override long Macs => 0;
    public override long Parameters => 0;

    public override long OtherOperations => Kind == PoolKind.GlobalAverage
        ? Input.Elements
        : Output.Elements * Kernel * Kernel;

    public override string Describe() => Kind switch
    {
        PoolKind.GlobalAverage => "global avg pool",
        PoolKind.Max => $"max pool {Kernel}x{Kernel}/{Stride}",
        _ => $"avg pool {Kernel}x{Kernel}/{Stride}",
    };

    public override void Validate()
    {
        if (Kind == PoolKind.GlobalAverage) return;
        if (Kernel < 1 || Stride < 1 || Pad < 0) throw new WorkloadException($"{Name}: pool kernel and stride must be ≥ 1, padding ≥ 0");
        if (Kernel > Input.Height + 2 * Pad || Kernel > Input.Width + 2 * Pad)
            throw new WorkloadException($"{Name}: pool window {Kernel} exceeds the input {Input.Height}x{Input.Width}");
    }
}

/// <summary>Element-wise operation kind.</summary>
public enum ElementwiseOp { Add, Multiply, Activation }

/// <summary>
/// Element-wise op over one or more inputs of equal shape: a residual addition (Add of two
/// producers), a product (with one input: a product by a constant, e.g. NAS-Bench-201's zero op),
/// or a standalone activation. When <see cref="Affine"/> is set, a per-channel scale and shift
/// (an inference-form batch norm, 2·C parameters) is applied before the activation.
/// </summary>
public sealed record ElementwiseLayer : Layer
{
    public required ElementwiseOp Op { get; init; }
    public Activation Activation { get; init; }

    /// <summary>A per-channel scale and shift (a standalone batch norm) precedes the activation.</summary>
    public bool Affine { get; init; }

    public int Arity => Math.Max(1, Inputs.Count);
    public override TensorShape Output => Input;
    public override long Macs => 0;
    public override long Parameters => Affine ? 2L * Input.Channels : 0;
    public override long OtherOperations => Input.Elements * Math.Max(1, Arity - 1);
    public override string Describe() => Op == ElementwiseOp.Activation ? $"{Activation}" : $"{Op.ToString().ToLowerInvariant()} ×{Arity}";
    public override void Validate() { }
}
