using TorchSharp;

namespace Tandem.Torch;

/// <summary>
/// Process-wide libtorch settings. libtorch's intra-op thread count is global to the process, so it is
/// set once, here, by whichever evaluator is created first with an explicit or default count
/// (default: one thread per core, which measured fastest on the 2-core development machine).
/// </summary>
public static class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static int _threads;

    /// <summary>Sets libtorch's thread count to <paramref name="threads"/> (0 = one per core) unless already set.</summary>
    public static void ConfigureThreads(int threads)
    {
        lock (Gate)
        {
            if (_threads != 0) return;
            _threads = threads > 0 ? threads : Environment.ProcessorCount;
            torch.set_num_threads(_threads);
        }
    }

    /// <summary>The thread count in force (0 before the first call of <see cref="ConfigureThreads"/>).</summary>
    public static int Threads { get { lock (Gate) return _threads; } }
}
