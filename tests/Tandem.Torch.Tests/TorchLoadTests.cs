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

    [Theory]
    [InlineData(0, 1, 2, 2)]   // one design at a time: every core
    [InlineData(0, 2, 2, 1)]   // two designs on two cores: one thread each
    [InlineData(0, 3, 2, 1)]   // more designs than cores: still one thread
    [InlineData(0, 2, 8, 4)]
    [InlineData(5, 4, 8, 5)]   // an explicit count wins
    public void Default_thread_count_divides_the_cores_among_concurrent_designs(int threads, int workers, int cores, int expected) =>
        Assert.Equal(expected, TorchRuntime.DefaultThreads(threads, workers, cores));
}
