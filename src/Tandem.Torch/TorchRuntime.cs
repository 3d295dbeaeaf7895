using TorchSharp;

namespace Tandem.Torch;

/// <summary>
/// Process-wide libtorch settings. libtorch's intra-op thread count is global to the process, so it is
/// set once, here, by whichever evaluator is created first with an explicit or default count
/// (default: one thread per core, which measured fastest on the 2-core development machine; with
/// several designs trained at a time, the cores are divided among them so the threads do not
/// oversubscribe the machine).
/// </summary>
public static class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static int _threads;

    /// <summary>
    /// Sets libtorch's thread count to <paramref name="threads"/> unless already set; 0 = the cores
    /// divided among the <paramref name="workers"/> designs evaluated at a time (at least one).
    /// </summary>
    public static void ConfigureThreads(int threads, int workers = 1)
    {
        lock (Gate)
        {
            if (_threads != 0) return;
            _threads = DefaultThreads(threads, workers, Environment.ProcessorCount);
            torch.set_num_threads(_threads);
        }
    }

    /// <summary>The thread count <see cref="ConfigureThreads"/> chooses: <paramref name="threads"/> if positive, else cores ÷ workers, at least 1.</summary>
    public static int DefaultThreads(int threads, int workers, int cores) =>
        threads > 0 ? threads : Math.Max(1, cores / Math.Max(1, workers));

    /// <summary>The thread count in force (0 before the first call of <see cref="ConfigureThreads"/>).</summary>
    public static int Threads { get { lock (Gate) return _threads; } }
}
