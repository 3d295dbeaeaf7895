namespace Tandem.Core.Workloads;

/// <summary>
/// Builds a <see cref="Workload"/> layer by layer with shape inference: each call appends a layer
/// whose input is the current tensor (or named producers) and returns the new layer's index.
/// Names are generated ("conv1", "pool1", …) unless given.
/// </summary>
public sealed class WorkloadBuilder
{
    private readonly List<Layer> _layers = [];
    private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);
    private readonly string _name;
    private readonly TensorShape _input;

    public WorkloadBuilder(string name, TensorShape input)
    {
        _name = name;
        _input = input;
        Current = Layer.NetworkInput;
    }

    /// <summary>Index of the layer whose output is the "current" tensor (-1 = network input).</summary>
    public int Current { get; private set; }

    public TensorShape ShapeOf(int index) => index == Layer.NetworkInput ? _input : _layers[index].Output;
    public TensorShape CurrentShape => ShapeOf(Current);
    public int Count => _layers.Count;

    public int Conv(int outChannels, int kernel, int stride = 1, int? pad = null, int groups = 1,
        bool batchNorm = true, Activation activation = Activation.ReLU, bool bias = false, string? name = null, int? from = null)
    {
        int src = from ?? Current;
        return Append(new Conv2dLayer
        {
            Name = name ?? NextName("conv"),
            Input = ShapeOf(src),
            Inputs = [src],
            OutChannels = outChannels,
            KernelHeight = kernel,
            KernelWidth = kernel,
            StrideHeight = stride,
            StrideWidth = stride,
            PadHeight = pad ?? kernel / 2,
            PadWidth = pad ?? kernel / 2,
            Groups = groups,
            BatchNorm = batchNorm,
            Activation = activation,
            Bias = bias,
        });
    }

    public int Pool(PoolKind kind, int kernel = 2, int stride = 2, int pad = 0, string? name = null, int? from = null)
    {
        int src = from ?? Current;
        return Append(new PoolLayer
        {
            Name = name ?? NextName(kind == PoolKind.GlobalAverage ? "gap" : "pool"),
            Input = ShapeOf(src),
            Inputs = [src],
            Kind = kind,
            Kernel = kernel,
            Stride = stride,
            Pad = pad,
        });
    }

    public int Dense(int outFeatures, Activation activation = Activation.None, bool bias = true, string? name = null, int? from = null)
    {
        int src = from ?? Current;
        return Append(new DenseLayer
        {
            Name = name ?? NextName("fc"),
            Input = ShapeOf(src),
            Inputs = [src],
            OutFeatures = outFeatures,
            Activation = activation,
            Bias = bias,
        });
    }

    /// <summary>Element-wise sum of two or more producers of equal shape (a residual join).</summary>
    public int Add(IReadOnlyList<int> producers, Activation activation = Activation.None, string? name = null)
    {
        if (producers.Count < 2) throw new WorkloadException("an addition needs at least two producers");
        var shape = ShapeOf(producers[0]);
        foreach (int p in producers)
            if (ShapeOf(p) != shape)
                throw new WorkloadException($"cannot add tensors of shapes {shape} and {ShapeOf(p)}");
        return Append(new ElementwiseLayer
        {
            Name = name ?? NextName("add"),
            Input = shape,
            Inputs = producers.ToArray(),
            Op = ElementwiseOp.Add,
            Activation = activation,
        });
    }

    /// <summary>Appends an already-formed layer (its Inputs are taken as given, or the current tensor if empty).</summary>
    public int Append(Layer layer)
    {
        if (layer.Inputs.Count == 0) layer = layer with { Inputs = [Current] };
        _layers.Add(layer);
        Current = _layers.Count - 1;
        return Current;
    }

    /// <summary>Makes <paramref name="index"/> the current tensor (to branch from an earlier layer).</summary>
    public void MoveTo(int index) => Current = index;

    public Workload Build() => new(_name, _input, _layers);

    private string NextName(string prefix)
    {
        _counters.TryGetValue(prefix, out int n);
        _counters[prefix] = ++n;
        return prefix + n;
    }
}
