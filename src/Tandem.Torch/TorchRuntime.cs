using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Tandem.Torch;

/// <summary>
/// Process-wide libtorch settings. libtorch's intra-op thread count is global to the process, so it is
/// set once, here, by whichever evaluator is created first with an explicit or default count
/// (default: one thread per core, which measured fastest on the 2-core development machine; with
/// several designs trained at a time, the cores are divided among them so the threads do not
/// oversubscribe the machine).
/// <para>
/// It also checks, once per process and before the first network is built, that libtorch's
/// convolution gradients are right on this CPU. libtorch 2.10's oneDNN 3.7.1 gives wrong (sometimes NaN)
/// input gradients for convolutions whose channel count is not a multiple of the CPU's vector block
/// (16 floats with AVX-512, 8 with AVX2) on some processors: on the AMD EPYC development machine of
/// December 2026 every 4- and 8-channel case was off by up to 100 % single-threaded, and about one in
/// three was NaN with 2 threads, while the forward pass and weight gradients were right. The check
/// runs a few such convolutions in float32 through libtorch's default path and compares their input
/// gradients with float64 (which never uses oneDNN); if any is off by more than 1e-3 (relative) or NaN,
/// oneDNN is switched off for the process (<c>at::globalContext().setUserEnabledMkldnn(false)</c>, what
/// Python's <c>torch.backends.mkldnn.enabled = False</c> does), and convolutions take libtorch's own
/// path, correct but about 3× slower on that machine. <c>TANDEM_ONEDNN=on|off</c> in the environment
/// skips the check and forces the choice.
/// </para>
/// </summary>
public static class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static int _threads;
    private static bool _checked;
    private static string _convolutions = "not checked yet";

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
        EnsureCorrectConvolutions();
    }

    /// <summary>The thread count <see cref="ConfigureThreads"/> chooses: <paramref name="threads"/> if positive, else cores ÷ workers, at least 1.</summary>
    public static int DefaultThreads(int threads, int workers, int cores) =>
        threads > 0 ? threads : Math.Max(1, cores / Math.Max(1, workers));

    /// <summary>The thread count in force (0 before the first call of <see cref="ConfigureThreads"/>).</summary>
    public static int Threads { get { lock (Gate) return _threads; } }

    /// <summary>Which convolution path is in use and why (after <see cref="EnsureCorrectConvolutions"/>).</summary>
    public static string Convolutions { get { lock (Gate) return _convolutions; } }

    /// <summary>
    /// Runs the convolution-gradient check once per process and switches oneDNN off if it fails
    /// (see the class summary). Idempotent and cheap after the first call; called before any network
    /// is built. Throws <see cref="InvalidOperationException"/> if the gradients are wrong and oneDNN
    /// cannot be switched off (training would silently learn from wrong gradients).
    /// </summary>
    public static void EnsureCorrectConvolutions()
    {
        lock (Gate)
        {
            if (_checked) return;
            _checked = true;
            string? forced = Environment.GetEnvironmentVariable("TANDEM_ONEDNN")?.Trim().ToLowerInvariant();
            if (forced is "on" or "1" or "true")
            {
                _convolutions = "oneDNN (TANDEM_ONEDNN=on, not checked)";
                return;
            }
            if (forced is "off" or "0" or "false")
            {
                SetOneDnn(false);
                _convolutions = "libtorch native, oneDNN off (TANDEM_ONEDNN=off)";
                return;
            }
            double error = WorstGradientError();
            if (error <= 1e-3)
            {
                _convolutions = "oneDNN (gradient check passed)";
                return;
            }
            SetOneDnn(false);
            double after = WorstGradientError();
            if (!(after <= 1e-3))
                throw new InvalidOperationException($"libtorch's convolution input gradients are wrong on this CPU (relative error {after:G3}) even with oneDNN off; training results would be meaningless");
            _convolutions = $"libtorch native, oneDNN off: its convolution input gradients were wrong on this CPU (relative error {(double.IsNaN(error) ? "NaN" : error.ToString("G3", System.Globalization.CultureInfo.InvariantCulture))})";
        }
    }

    /// <summary>
    /// The largest relative error (NaN if any gradient was NaN) of float32 convolution input gradients
    /// against float64, over channel counts that are not multiples of 8 or 16, one thread and the
    /// thread count in force, three repetitions each.
    /// </summary>
    internal static double WorstGradientError()
    {
        int saved = torch.get_num_threads();
        using var generator = new Generator(12345, CPU);
        double worst = 0;
        try
        {
            foreach (int threads in new[] { 1, saved }.Distinct())
            {
                torch.set_num_threads(threads);
                foreach (var (c, hw) in new[] { (3, 28), (4, 12), (8, 6), (8, 12) })
                    for (int rep = 0; rep < 3; rep++)
                    {
                        using var scope = NewDisposeScope();
                        var x = randn([32, c, hw, hw], generator: generator).requires_grad_(true);
                        var w = randn([c, c, 3, 3], generator: generator);
                        var g = randn([32, c, hw, hw], generator: generator);
                        nn.functional.conv2d(x, w, padding: [1, 1]).backward([g]);
                        var xd = x.detach().to_type(ScalarType.Float64).requires_grad_(true);
                        nn.functional.conv2d(xd, w.to_type(ScalarType.Float64), padding: [1, 1]).backward([g.to_type(ScalarType.Float64)]);
                        var reference = xd.grad!;
                        double err = (x.grad!.to_type(ScalarType.Float64) - reference).abs().max().item<double>() / reference.abs().max().item<double>();
                        if (double.IsNaN(err)) return double.NaN;
                        worst = Math.Max(worst, err);
                    }
            }
        }
        finally
        {
            torch.set_num_threads(saved);
        }
        return worst;
    }

    private delegate IntPtr GlobalContextFn();
    private delegate void SetBoolFn(IntPtr context, [MarshalAs(UnmanagedType.I1)] bool value);

    /// <summary>
    /// <c>at::globalContext().setUserEnabledMkldnn(on)</c>. TorchSharp does not wrap it, so it is called
    /// through libtorch_cpu's exported C++ symbols (Itanium ABI: the member function takes the object as
    /// its first argument). libtorch_cpu is already loaded by TorchSharp; loading it by name finds it.
    /// </summary>
    private static void SetOneDnn(bool on)
    {
        _ = torch.get_num_threads(); // make sure TorchSharp has loaded libtorch
        IntPtr lib = IntPtr.Zero;
        foreach (var candidate in new[] { "libtorch_cpu.so", Path.Combine(AppContext.BaseDirectory, "libtorch_cpu.so"), Path.Combine(AppContext.BaseDirectory, "cpu", "libtorch_cpu.so") })
            if (NativeLibrary.TryLoad(candidate, out lib)) break;
        if (lib == IntPtr.Zero
            || !NativeLibrary.TryGetExport(lib, "_ZN2at13globalContextEv", out var globalContext)
            || !NativeLibrary.TryGetExport(lib, "_ZN2at7Context20setUserEnabledMkldnnEb", out var setMkldnn))
            throw new InvalidOperationException("libtorch's oneDNN convolutions give wrong gradients on this CPU and could not be switched off (libtorch_cpu.so or its at::Context symbols not found)");
        var context = Marshal.GetDelegateForFunctionPointer<GlobalContextFn>(globalContext)();
        Marshal.GetDelegateForFunctionPointer<SetBoolFn>(setMkldnn)(context, on);
    }
}
