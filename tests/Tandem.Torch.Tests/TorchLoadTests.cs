using Tandem.Build;
using TorchSharp;

namespace Tandem.Torch.Tests;

public sealed class TorchLoadTests
{
    [Fact]
    public void Libtorch_loads_and_computes()
    {
        using var a = torch.arange(1, 5, dtype: torch.ScalarType.Float32);
        Assert.Equal(10f, a.sum().item<float>());
    }

    [Fact]
    public void Output_library_has_a_weak_glibcxx_need_when_the_system_lacks_it()
    {
        string lib = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        Assert.True(File.Exists(lib), $"{lib} should be copied to the output folder");
        string? system = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6" }.FirstOrDefault(File.Exists);
        if (system is null || ElfVersionPatcher.LibraryProvidesVersion(system, "GLIBCXX_3.4.32"))
            Assert.Skip("the system libstdc++ provides GLIBCXX_3.4.32, so the library is left unpatched");
        var result = ElfVersionPatcher.MarkVersionWeak(File.ReadAllBytes(lib), "GLIBCXX_3.4.32", out _);
        Assert.Equal(ElfVersionPatcher.Result.AlreadyWeak, result);
    }

    /// <summary>
    /// Convolution gradients as Tandem's networks compute them (<see cref="TorchRuntime.Conv2d"/>) must
    /// match float64 after the runtime's check, for the channel counts that libtorch's oneDNN got wrong on
    /// some CPUs (not multiples of its 16-float vector block), grouped and depthwise convolutions, and
    /// strides; on a machine where oneDNN is right this holds as is, elsewhere through the check's remedy.
    /// </summary>
    [Fact]
    public void Convolution_gradients_match_float64_after_the_runtime_check()
    {
        TorchRuntime.EnsureCorrectConvolutions();
        Assert.DoesNotContain("not checked", TorchRuntime.Convolutions);
        using var generator = new torch.Generator(7, torch.CPU);
        var failures = new List<string>();
        foreach (var (c, hw, groups, stride) in new[] { (1, 12, 1, 1), (3, 28, 1, 1), (4, 12, 1, 1), (8, 6, 1, 1), (8, 12, 1, 2), (12, 7, 3, 1), (8, 12, 8, 1), (24, 6, 24, 2) })
            for (int rep = 0; rep < 5; rep++)
            {
                var (dx, dw) = TorchRuntime.GradientErrors(16, c, c, hw, groups, stride, generator);
                if (!(dx <= 1e-4 && dw <= 1e-4)) failures.Add($"{c} channels, {hw}x{hw}, groups {groups}, stride {stride}: input-gradient error {dx:G3}, weight-gradient error {dw:G3}");
            }
        Assert.True(failures.Count == 0, $"convolutions: {TorchRuntime.Convolutions}\n" + string.Join("\n", failures));
    }

    /// <summary>
    /// NNPACK is switched off with the runtime check (libtorch printed "unsupported hardware" warnings on
    /// CPUs where it cannot initialise), and a batched gradient-free convolution still equals float64's.
    /// </summary>
    [Fact]
    public void Nnpack_is_off_after_the_runtime_check_and_inference_convolutions_stay_right()
    {
        TorchRuntime.EnsureCorrectConvolutions();
        Assert.False(TorchRuntime.NnpackEnabled() ?? throw new Xunit.Sdk.XunitException("at::Context::userEnabledNNPACK not found in libtorch_cpu"));
        using var scope = torch.NewDisposeScope();
        using var generator = new torch.Generator(11, torch.CPU);
        using var noGrad = torch.no_grad();
        var x = torch.randn([32, 16, 14, 14], generator: generator);
        var w = torch.randn([16, 16, 3, 3], generator: generator);
        var y = TorchRuntime.Conv2d(x, w, null, [1, 1], [1, 1]).to_type(torch.ScalarType.Float64);
        var want = torch.nn.functional.conv2d(x.to_type(torch.ScalarType.Float64), w.to_type(torch.ScalarType.Float64), padding: [1, 1]);
        Assert.True((y - want).abs().max().item<double>() <= 1e-4 * want.abs().max().item<double>());
    }

    [Theory]
    [InlineData(0, 1, 2, 2)]   // one design at a time: every core
    [InlineData(0, 2, 2, 1)]   // two designs on two cores: one thread each
    [InlineData(0, 3, 2, 1)]   // more designs than cores: still one thread
    [InlineData(0, 2, 8, 4)]
    [InlineData(5, 4, 8, 5)]   // an explicit count wins
    public void Default_thread_count_divides_the_cores_among_concurrent_designs(int threads, int workers, int cores, int expected) =>
        Assert.Equal(expected, TorchRuntime.DefaultThreads(threads, workers, cores));
}
