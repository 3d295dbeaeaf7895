namespace Tandem.Core.Workloads;

/// <summary>
/// Well-known networks written in the layer IR, as their reference implementations define them
/// (torchvision's AlexNet, ResNet-18/50, MobileNetV2; the original MobileNetV1 paper). Used to pin
/// MAC/parameter counts in tests and as benchmark workloads for the cost models.
/// </summary>
public static class ModelZoo
{
    public static IReadOnlyList<string> Names { get; } = ["alexnet", "resnet18", "resnet50", "mobilenetv1", "mobilenetv2", "vgg16"];

    public static Workload Get(string name, int numClasses = 1000, int imageSize = 224) => name.ToLowerInvariant() switch
    {
        "alexnet" => AlexNet(numClasses, imageSize),
        "resnet18" => ResNet18(numClasses, imageSize),
        "resnet50" => ResNet50(numClasses, imageSize),
        "mobilenetv1" => MobileNetV1(numClasses, imageSize),
        "mobilenetv2" => MobileNetV2(numClasses, imageSize),
        "vgg16" => Vgg16(numClasses, imageSize),
        _ => throw new WorkloadException($"unknown model '{name}'; known: {string.Join(", ", Names)}"),
    };

    /// <summary>torchvision AlexNet (features + 6×6 adaptive pool + classifier).</summary>
    public static Workload AlexNet(int numClasses = 1000, int imageSize = 224)
    {
        var b = new WorkloadBuilder("AlexNet", new TensorShape(3, imageSize, imageSize));
        b.Conv(64, 11, stride: 4, pad: 2, batchNorm: false, bias: true);
        b.Pool(PoolKind.Max, 3, 2);
        b.Conv(192, 5, pad: 2, batchNorm: false, bias: true);
        b.Pool(PoolKind.Max, 3, 2);
        b.Conv(384, 3, pad: 1, batchNorm: false, bias: true);
        b.Conv(256, 3, pad: 1, batchNorm: false, bias: true);
        b.Conv(256, 3, pad: 1, batchNorm: false, bias: true);
        b.Pool(PoolKind.Max, 3, 2);
        b.Dense(4096, Activation.ReLU);
        b.Dense(4096, Activation.ReLU);
        b.Dense(numClasses);
        return b.Build();
    }

    /// <summary>torchvision VGG-16 (no batch norm).</summary>
    public static Workload Vgg16(int numClasses = 1000, int imageSize = 224)
    {
        var b = new WorkloadBuilder("VGG-16", new TensorShape(3, imageSize, imageSize));
        foreach (var (channels, count) in new[] { (64, 2), (128, 2), (256, 3), (512, 3), (512, 3) })
        {
            for (int i = 0; i < count; i++) b.Conv(channels, 3, batchNorm: false, bias: true);
            b.Pool(PoolKind.Max, 2, 2);
        }
        b.Dense(4096, Activation.ReLU);
        b.Dense(4096, Activation.ReLU);
        b.Dense(numClasses);
        return b.Build();
    }

    /// <summary>torchvision ResNet-18 (basic blocks [2, 2, 2, 2]).</summary>
    public static Workload ResNet18(int numClasses = 1000, int imageSize = 224) =>
        ResNet("ResNet-18", [2, 2, 2, 2], bottleneck: false, numClasses, imageSize);

    /// <summary>torchvision ResNet-50 (bottleneck blocks [3, 4, 6, 3], stride on the 3×3 conv).</summary>
    public static Workload ResNet50(int numClasses = 1000, int imageSize = 224) =>
        ResNet("ResNet-50", [3, 4, 6, 3], bottleneck: true, numClasses, imageSize);

    private static Workload ResNet(string name, int[] blocks, bool bottleneck, int numClasses, int imageSize)
    {
        var b = new WorkloadBuilder(name, new TensorShape(3, imageSize, imageSize));
        b.Conv(64, 7, stride: 2, pad: 3);
        b.Pool(PoolKind.Max, 3, 2, pad: 1);
        int inChannels = 64;
        int[] widths = [64, 128, 256, 512];
        for (int stage = 0; stage < 4; stage++)
        {
            for (int block = 0; block < blocks[stage]; block++)
            {
                int stride = stage > 0 && block == 0 ? 2 : 1;
                int width = widths[stage];
                int outChannels = bottleneck ? width * 4 : width;
                int input = b.Current;
                string p = $"layer{stage + 1}.{block}.";
                if (bottleneck)
                {
                    b.Conv(width, 1, name: p + "conv1");
                    b.Conv(width, 3, stride: stride, name: p + "conv2");
                    b.Conv(outChannels, 1, activation: Activation.None, name: p + "conv3");
                }
                else
                {
                    b.Conv(width, 3, stride: stride, name: p + "conv1");
                    b.Conv(width, 3, activation: Activation.None, name: p + "conv2");
                }
                int main = b.Current;
                int shortcut = input;
                if (stride != 1 || inChannels != outChannels)
                    shortcut = b.Conv(outChannels, 1, stride: stride, pad: 0, activation: Activation.None, name: p + "downsample", from: input);
                b.Add([main, shortcut], Activation.ReLU, name: p + "add");
                inChannels = outChannels;
            }
        }
        b.Pool(PoolKind.GlobalAverage);
        b.Dense(numClasses, name: "fc");
        return b.Build();
    }

    /// <summary>MobileNetV1 (Howard et al. 2017), width 1.0: depthwise-separable blocks, BN + ReLU.</summary>
    public static Workload MobileNetV1(int numClasses = 1000, int imageSize = 224)
    {
        var b = new WorkloadBuilder("MobileNetV1", new TensorShape(3, imageSize, imageSize));
        b.Conv(32, 3, stride: 2);
        (int outC, int stride)[] cfg =
        [
            (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
            (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
        ];
        int c = 32;
        foreach (var (outC, stride) in cfg)
        {
            b.Conv(c, 3, stride: stride, groups: c);
            b.Conv(outC, 1, pad: 0);
            c = outC;
        }
        b.Pool(PoolKind.GlobalAverage);
        b.Dense(numClasses);
        return b.Build();
    }

    /// <summary>torchvision MobileNetV2, width 1.0: inverted residuals with ReLU6, linear bottlenecks.</summary>
    public static Workload MobileNetV2(int numClasses = 1000, int imageSize = 224)
    {
        var b = new WorkloadBuilder("MobileNetV2", new TensorShape(3, imageSize, imageSize));
        b.Conv(32, 3, stride: 2, activation: Activation.ReLU6);
        (int t, int c, int n, int s)[] cfg =
        [
            (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
        ];
        int inC = 32;
        foreach (var (t, c, n, s) in cfg)
        {
            for (int i = 0; i < n; i++)
            {
                int stride = i == 0 ? s : 1;
                int input = b.Current;
                int hidden = inC * t;
                if (t != 1) b.Conv(hidden, 1, pad: 0, activation: Activation.ReLU6);
                b.Conv(hidden, 3, stride: stride, groups: hidden, activation: Activation.ReLU6);
                int proj = b.Conv(c, 1, pad: 0, activation: Activation.None);
                if (stride == 1 && inC == c) b.Add([proj, input]);
                inC = c;
            }
        }
        b.Conv(1280, 1, pad: 0, activation: Activation.ReLU6);
        b.Pool(PoolKind.GlobalAverage);
        b.Dense(numClasses);
        return b.Build();
    }
}
