using BenchmarkDotNet.Attributes;
using Tandem.Core.Hardware;
using Tandem.Core.Hardware.Systolic;
using Tandem.Core.Workloads;

namespace Tandem.Benchmarks;

/// <summary>
/// Speed of the systolic model on one core: single layers of a small 28×28 grey-image CNN (the
/// edge search the template is built for) and of ResNet-50 / MobileNetV1, and whole networks over a
/// sweep of nine arrays (8×8, 32×32, 128×128 × OS/WS/IS, 64 KiB SRAMs, CALC). "Cold" runs bypass
/// the per-instance memo so every layer is computed; the memoised run shows a search loop's case.
/// </summary>
[MemoryDiagnoser]
public class SystolicBenchmarks
{
    private SystolicConfig[] _sweep = [];
    private SystolicLayerShape[] _edge = [], _resnet = [], _mobilenet = [];
    private Workload _resnet50 = null!, _mobilenetV1 = null!;
    private SystolicCostModel _cold = null!, _memoised = null!;

    public static readonly int[] ArraySizes = [8, 32, 128];

    [GlobalSetup]
    public void Setup()
    {
        _sweep = ArraySizes.SelectMany(n => new[] { SystolicDataflow.OutputStationary, SystolicDataflow.WeightStationary, SystolicDataflow.InputStationary }
            .Select(d => new SystolicConfig { Rows = n, Columns = n, Dataflow = d })).ToArray();
        _resnet50 = ModelZoo.ResNet50();
        _mobilenetV1 = ModelZoo.MobileNetV1();
        _edge = Shapes(EdgeCnn());
        _resnet = Shapes(_resnet50);
        _mobilenet = Shapes(_mobilenetV1);
        _cold = new SystolicCostModel(cacheCapacity: 0);
        _memoised = new SystolicCostModel();
        foreach (var c in _sweep) _memoised.Evaluate(_resnet50, c, NoLayers);
    }

    private static readonly CostOptions NoLayers = new() { PerLayer = false };

    /// <summary>A LeNet-sized CNN for 28×28 grey images: the workload of the edge co-search.</summary>
    public static Workload EdgeCnn() => new("edge-cnn", new TensorShape(1, 28, 28),
    [
        new Conv2dLayer { Name = "c1", Input = new(1, 28, 28), OutChannels = 16, KernelHeight = 3, KernelWidth = 3, PadHeight = 1, PadWidth = 1 },
        new Conv2dLayer { Name = "c2", Input = new(16, 28, 28), OutChannels = 32, KernelHeight = 3, KernelWidth = 3, StrideHeight = 2, StrideWidth = 2, PadHeight = 1, PadWidth = 1 },
        new Conv2dLayer { Name = "c3", Input = new(32, 14, 14), OutChannels = 64, KernelHeight = 3, KernelWidth = 3, StrideHeight = 2, StrideWidth = 2, PadHeight = 1, PadWidth = 1 },
        new DenseLayer { Name = "fc", Input = new(64, 7, 7), OutFeatures = 10 },
    ]);

    /// <summary>The array-level shape of every layer that runs on the array (one group of a grouped convolution).</summary>
    public static SystolicLayerShape[] Shapes(Workload w) => w.Layers.Select(l => l switch
    {
        Conv2dLayer c => (SystolicLayerShape?)SystolicLayerShape.FromConv(c),
        DenseLayer d => SystolicLayerShape.FromGemm(1, d.OutFeatures, d.InFeatures),
        MatMulLayer m => SystolicLayerShape.FromGemm(m.M, m.N, m.K),
        _ => null,
    }).Where(s => s is not null).Select(s => s!.Value).ToArray();

    private static long EvaluateAll(SystolicLayerShape[] shapes, SystolicConfig[] configs)
    {
        long sum = 0;
        foreach (var c in configs)
            foreach (var s in shapes)
                sum += SystolicModel.Evaluate(s, c).TotalCycles;
        return sum;
    }

    /// <summary>One edge-CNN layer on one array (4 layers × 9 arrays per invocation).</summary>
    [Benchmark(OperationsPerInvoke = 4 * 9)]
    public long EdgeCnnLayer() => EvaluateAll(_edge, _sweep);

    /// <summary>One MobileNetV1 layer on one array, cold (28 layers × 9 arrays per invocation).</summary>
    [Benchmark(OperationsPerInvoke = 28 * 9)]
    public long MobileNetLayer() => EvaluateAll(_mobilenet, _sweep);

    /// <summary>Whole ResNet-50 over the 9-array sweep, cold.</summary>
    [Benchmark]
    public double ResNet50Sweep() => _sweep.Sum(c => _cold.Evaluate(_resnet50, c, NoLayers).EnergyPicojoules);

    /// <summary>Whole MobileNetV1 over the 9-array sweep, cold.</summary>
    [Benchmark]
    public double MobileNetV1Sweep() => _sweep.Sum(c => _cold.Evaluate(_mobilenetV1, c, NoLayers).EnergyPicojoules);

    /// <summary>Whole ResNet-50 over the sweep when every layer is already memoised (a search revisiting arrays).</summary>
    [Benchmark]
    public double ResNet50SweepMemoised() => _sweep.Sum(c => _memoised.Evaluate(_resnet50, c, NoLayers).EnergyPicojoules);
}
