using Tandem.Core.Workloads;
using Tandem.Torch.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Tandem.Torch.Tests.Modules;

public sealed class WorkloadModuleTests
{
    public static TheoryData<string> ZooNames => new(["resnet18", "mobilenetv2", "mobilenetv1", "alexnet"]);

    private static long Count(nn.Module m) => m.parameters().Sum(p => p.numel());

    [Theory]
    [MemberData(nameof(ZooNames))]
    public void Parameter_count_equals_the_workload_count_for_zoo_networks(string name)
    {
        var w = ModelZoo.Get(name, numClasses: 10, imageSize: 64);
        using var m = new WorkloadModule(w, seed: 1);
        Assert.Equal(w.TotalParameters, Count(m));
    }

    [Fact]
    public void Family_networks_run_and_give_one_logit_per_class()
    {
        foreach (var d in new[] { TestSupport.SmallDesign(), TestSupport.SmallDesign(2, 16, 5, "yes", "avg") })
        {
            var w = TestSupport.Lower(d);
            using var m = new WorkloadModule(w, seed: 1);
            Assert.Equal(w.TotalParameters, Count(m));
            using var x = randn(3, 1, 12, 12);
            using var y = m.forward(x);
            Assert.Equal(new long[] { 3, 4 }, y.shape);
        }
    }

    [Fact]
    public void Zoo_network_forward_gives_the_classes()
    {
        var w = ModelZoo.Get("mobilenetv2", numClasses: 7, imageSize: 32);
        using var m = new WorkloadModule(w, seed: 1);
        m.eval();
        using var x = randn(2, 3, 32, 32);
        using var y = m.forward(x);
        Assert.Equal(new long[] { 2, 7 }, y.shape);
    }

    [Fact]
    public void Same_seed_gives_the_same_weights_and_another_seed_does_not()
    {
        var w = TestSupport.Lower(TestSupport.SmallDesign());
        using var a = new WorkloadModule(w, 5);
        using var b = new WorkloadModule(w, 5);
        using var c = new WorkloadModule(w, 6);
        var pa = a.parameters().First(); var pb = b.parameters().First(); var pc = c.parameters().First();
        Assert.True(pa.eq(pb).all().item<bool>());
        Assert.False(pa.eq(pc).all().item<bool>());
    }

    [Fact]
    public void Ceil_mode_convolution_matches_the_ir_shape()
    {
        var b = new WorkloadBuilder("ceil", new TensorShape(1, 7, 7));
        b.Append(new Conv2dLayer { Name = "c", Input = new TensorShape(1, 7, 7), OutChannels = 2, KernelHeight = 2, KernelWidth = 2, StrideHeight = 2, StrideWidth = 2, CeilMode = true });
        var w = b.Build();
        using var m = new WorkloadModule(w, 1);
        using var y = m.Forward(randn(1, 1, 7, 7), null);
        Assert.Equal(w.Output.Elements, y.shape[1]);
    }

    [Fact]
    public void Gemm_layers_are_rejected_with_a_reason()
    {
        var w = new Workload("gemm", new TensorShape(1, 4, 8), [new MatMulLayer { Name = "mm", Input = new TensorShape(1, 4, 8), M = 4, N = 3, K = 8 }]);
        var e = Assert.Throws<WorkloadException>(() => new WorkloadModule(w, 1));
        Assert.Contains("'mm'", e.Message);
        Assert.Contains("GEMM", e.Message);
    }
}
