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
/// convolution gradients are right on this CPU. libtorch 2.10's oneDNN 3.7.1 gives wrong (often NaN)
/// input gradients for dense convolutions whose channel counts are not multiples of its vector block
/// (16 floats with AVX-512) on some processors: on the AMD EPYC development machine of December 2026,
/// 3-, 4- and 8-channel cases were off by up to 100 % single-threaded and NaN in about half the runs
/// with 2 threads, while the forward pass, weight gradients, 16/32-channel and grouped/depthwise
/// convolutions were right. The check runs such convolutions in float32 and compares their input
/// and weight gradients with float64 (which never uses oneDNN). If they disagree, dense convolutions
/// are computed with their channels zero-padded to multiples of 16 (<see cref="Conv2d"/>; the padded
/// channels contribute nothing and receive no gradient that reaches a parameter), which the check then
/// verifies; on that machine this was correct and kept oneDNN's speed (plain libtorch without oneDNN
/// trained 7–13× slower). Only if the padded path is wrong as well is oneDNN switched off for the
/// process (<c>at::globalContext().setUserEnabledMkldnn(false)</c>, what Python's
/// <c>torch.backends.mkldnn.enabled = False</c> does). <c>TANDEM_ONEDNN=on|pad|off</c> in the
/// environment skips the check and forces the choice.
/// </para>
/// </summary>
public static class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static int _threads;
    private static bool _checked;
    private static volatile bool _padChannels;
    private static string _convolutions = "not checked yet";

    /// <summary>The channel multiple dense convolutions are padded to when the check calls for it (oneDNN's AVX-512 block).</summary>
    public const int ChannelBlock = 16;

    /// <summary>
    /// <c>conv2d</c> as every Tandem network computes it: libtorch's, except that when the runtime check
    /// found oneDNN's input gradients wrong, dense (groups = 1) float32 convolutions run with input and
    /// output channels zero-padded to multiples of <see cref="ChannelBlock"/> and the extra outputs dropped.
    /// The result and all gradients equal the unpadded convolution's.
    /// </summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, long[]? stride = null, long[]? padding = null, long groups = 1)
    {
        stride ??= [1, 1];
        padding ??= [0, 0];
        long ci = x.shape[1], co = weight.shape[0];
        if (!_padChannels || groups != 1 || x.dtype != ScalarType.Float32 || (ci % ChannelBlock == 0 && co % ChannelBlock == 0))
            return nn.functional.conv2d(x, weight, bias, stride, padding, groups: groups);
        long ci2 = (ci + ChannelBlock - 1) / ChannelBlock * ChannelBlock, co2 = (co + ChannelBlock - 1) / ChannelBlock * ChannelBlock;
        using var scope = NewDisposeScope();
        var xp = ci2 == ci ? x : nn.functional.pad(x, [0, 0, 0, 0, 0, ci2 - ci]);
        var wp = nn.functional.pad(weight, [0, 0, 0, 0, 0, ci2 - ci, 0, co2 - co]);
        var bp = bias is null ? null : nn.functional.pad(bias, [0, co2 - co]);
        var y = nn.functional.conv2d(xp, wp, bp, stride, padding);
        return (co2 == co ? y : y.narrow(1, 0, co)).MoveToOuterDisposeScope();
    }

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
    /// Runs the convolution-gradient check once per process and, if it fails, pads dense convolutions'
    /// channels or, failing that, switches oneDNN off (see the class summary). Idempotent and cheap after the first call; called before any network
    /// is built. Throws <see cref="InvalidOperationException"/> if the gradients are wrong and oneDNN
    /// cannot be switched off (training would silently learn from wrong gradients).
    /// </summary>
    public static void EnsureCorrectConvolutions()
    {
        lock (Gate)
        {
            if (_checked) return;
            _checked = true;
            DisableNnpack();
            string? forced = Environment.GetEnvironmentVariable("TANDEM_ONEDNN")?.Trim().ToLowerInvariant();
            if (forced is "on" or "1" or "true")
            {
                _convolutions = "oneDNN (TANDEM_ONEDNN=on, check skipped)";
                return;
            }
            if (forced is "pad")
            {
                _padChannels = true;
                _convolutions = $"oneDNN with dense convolutions' channels padded to multiples of {ChannelBlock} (TANDEM_ONEDNN=pad, check skipped)";
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
            string found = double.IsNaN(error) ? "NaN" : error.ToString("G3", System.Globalization.CultureInfo.InvariantCulture);
            _padChannels = true;
            double padded = WorstGradientError();
            if (padded <= 1e-3)
            {
                _convolutions = $"oneDNN with dense convolutions' channels padded to multiples of {ChannelBlock}: its gradients for other channel counts were wrong on this CPU (relative error {found}); padded ones passed the check";
                return;
            }
            _padChannels = false;
            SetOneDnn(false);
            double after = WorstGradientError();
            if (!(after <= 1e-3))
                throw new InvalidOperationException($"libtorch's convolution gradients are wrong on this CPU (relative error {after:G3}) even with oneDNN off; training results would be meaningless");
            _convolutions = $"libtorch native, oneDNN off: its convolution gradients were wrong on this CPU (relative error {found}), with channels padded too";
        }
    }

    /// <summary>
    /// The largest relative error (NaN if any gradient was NaN) of float32 convolution input and weight
    /// gradients computed by <see cref="Conv2d"/> against float64, over channel counts that are not
    /// multiples of 8 or 16, a strided, a grouped and a depthwise case, with one thread and the thread
    /// count in force, three repetitions each.
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
                foreach (var (ci, co, hw, groups, stride) in new[] { (3, 3, 28, 1, 1), (4, 4, 12, 1, 1), (8, 8, 6, 1, 1), (8, 8, 12, 1, 2), (32, 8, 12, 1, 1), (1, 8, 12, 1, 1), (12, 12, 7, 3, 1), (24, 24, 6, 24, 2) })
                    for (int rep = 0; rep < 3; rep++)
                    {
                        var (input, weight) = GradientErrors(32, ci, co, hw, groups, stride, generator);
                        if (double.IsNaN(input) || double.IsNaN(weight)) return double.NaN;
                        worst = Math.Max(worst, Math.Max(input, weight));
                    }
            }
        }
        finally
        {
            torch.set_num_threads(saved);
        }
        return worst;
    }

    /// <summary>
    /// One random 3×3 convolution (padding 1) of a batch of <paramref name="ci"/>-channel
    /// <paramref name="hw"/>×<paramref name="hw"/> images through <see cref="Conv2d"/> in float32,
    /// back-propagated from a random output gradient: the relative errors (largest absolute difference ÷
    /// largest magnitude; NaN if the float32 gradient has a NaN) of its input and weight gradients
    /// against libtorch's float64 convolution, which never goes through oneDNN.
    /// </summary>
    internal static (double Input, double Weight) GradientErrors(int batch, int ci, int co, int hw, int groups, int stride, Generator generator)
    {
        using var scope = NewDisposeScope();
        var x = randn([batch, ci, hw, hw], generator: generator).requires_grad_(true);
        var w = randn([co, ci / groups, 3, 3], generator: generator).requires_grad_(true);
        long[] s = [stride, stride], p = [1, 1];
        var y = Conv2d(x, w, null, s, p, groups);
        var g = randn(y.shape, generator: generator);
        y.backward([g]);
        var xd = x.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var wd = w.detach().to_type(ScalarType.Float64).requires_grad_(true);
        nn.functional.conv2d(xd, wd, null, s, p, groups: groups).backward([g.to_type(ScalarType.Float64)]);
        static double Relative(Tensor got, Tensor want) =>
            (got.to_type(ScalarType.Float64) - want).abs().max().item<double>() / want.abs().max().item<double>();
        return (Relative(x.grad!, xd.grad!), Relative(w.grad!, wd.grad!));
    }

    private delegate IntPtr GlobalContextFn();
    private delegate void SetBoolFn(IntPtr context, [MarshalAs(UnmanagedType.I1)] bool value);
    [return: MarshalAs(UnmanagedType.I1)]
    private delegate bool GetBoolFn(IntPtr context);

    /// <summary>
    /// <c>at::globalContext().setUserEnabledMkldnn(on)</c>, what Python's <c>torch.backends.mkldnn.enabled</c> sets.
    /// </summary>
    private static void SetOneDnn(bool on)
    {
        if (!TrySetContextFlag("_ZN2at7Context20setUserEnabledMkldnnEb", on))
            throw new InvalidOperationException("libtorch's oneDNN convolutions give wrong gradients on this CPU and could not be switched off (libtorch_cpu.so or its at::Context symbols not found)");
    }

    /// <summary>
    /// Switches NNPACK off for the process (<c>at::globalContext().setUserEnabledNNPACK(false)</c>, what
    /// Python's <c>torch.backends.nnpack.set_flags(False)</c> does). On CPUs where NNPACK cannot initialise
    /// (the AMD EPYC development machine of December 2026) libtorch 2.10 printed "Could not initialize
    /// NNPACK! Reason: Unsupported hardware." to stderr about a hundred times at the start of every run
    /// that built networks; NNPACK never ran there, so switching it off changes nothing else on such a
    /// machine, and elsewhere the convolutions libtorch would have handed to NNPACK take its other paths,
    /// so results do not depend on whether NNPACK works on the CPU. Best effort: a libtorch
    /// without the symbol is left as it is. Returns whether the flag was set.
    /// </summary>
    internal static bool DisableNnpack() => TrySetContextFlag("_ZN2at7Context20setUserEnabledNNPACKEb", false);

    /// <summary><c>at::globalContext().userEnabledNNPACK()</c>; null if the symbol is not found.</summary>
    internal static bool? NnpackEnabled()
    {
        if (!TryContext("_ZNK2at7Context17userEnabledNNPACKEv", out var context, out var get)) return null;
        return Marshal.GetDelegateForFunctionPointer<GetBoolFn>(get)(context);
    }

    /// <summary>
    /// Calls an <c>at::Context</c> setter taking one bool on libtorch's global context. TorchSharp does not
    /// wrap these, so they are called through libtorch_cpu's exported C++ symbols (Itanium ABI: the member
    /// function takes the object as its first argument). libtorch_cpu is already loaded by TorchSharp;
    /// loading it by name finds it.
    /// </summary>
    private static bool TrySetContextFlag(string setter, bool on)
    {
        if (!TryContext(setter, out var context, out var set)) return false;
        Marshal.GetDelegateForFunctionPointer<SetBoolFn>(set)(context, on);
        return true;
    }

    private static bool TryContext(string member, out IntPtr context, out IntPtr function)
    {
        context = function = IntPtr.Zero;
        _ = torch.get_num_threads(); // make sure TorchSharp has loaded libtorch
        IntPtr lib = IntPtr.Zero;
        foreach (var candidate in new[] { "libtorch_cpu.so", Path.Combine(AppContext.BaseDirectory, "libtorch_cpu.so"), Path.Combine(AppContext.BaseDirectory, "cpu", "libtorch_cpu.so") })
            if (NativeLibrary.TryLoad(candidate, out lib)) break;
        if (lib == IntPtr.Zero
            || !NativeLibrary.TryGetExport(lib, "_ZN2at13globalContextEv", out var globalContext)
            || !NativeLibrary.TryGetExport(lib, member, out function))
            return false;
        context = Marshal.GetDelegateForFunctionPointer<GlobalContextFn>(globalContext)();
        return true;
    }
}
