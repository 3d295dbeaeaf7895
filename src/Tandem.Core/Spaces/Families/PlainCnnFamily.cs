using Tandem.Core.Workloads;

namespace Tandem.Core.Spaces.Families;

/// <summary>
/// Domains of the plain-CNN family. Every list must be non-empty; values must be positive.
/// </summary>
public sealed record PlainCnnOptions
{
    /// <summary>Number of stages (fixed for the family; pooling halves the resolution between stages).</summary>
    public int Stages { get; init; } = 3;
    public IReadOnlyList<double> Layers { get; init; } = [1, 2, 3];
    public IReadOnlyList<double> Channels { get; init; } = [8, 16, 24, 32, 48, 64];
    public IReadOnlyList<double> Kernels { get; init; } = [3, 5];
    /// <summary>Offer residual connections as a per-stage choice (otherwise never residual).</summary>
    public bool Residual { get; init; } = true;
    public IReadOnlyList<string> Pooling { get; init; } = ["max", "avg"];
}

/// <summary>
/// A plain convolutional network family for small images (issue 2's default: 28×28 grey images).
/// Stage i has <c>arch.s{i}.layers</c> conv-BN-ReLU layers of <c>arch.s{i}.channels</c> channels and
/// kernel <c>arch.s{i}.kernel</c> (same padding); when <c>arch.s{i}.residual</c> is "yes", every layer
/// after the stage's first adds its input back (conv-BN, add, ReLU). Stages are separated by 2×2
/// pooling of kind <c>arch.pool</c>; the head flattens and applies one dense layer to the classes.
/// Residual is irrelevant for a one-layer stage, so canonicalisation sets it to "no" there.
/// </summary>
public sealed class PlainCnnFamily : INetworkFamily
{
    public const string FamilyName = "plain-cnn";

    public PlainCnnFamily(PlainCnnOptions? options = null)
    {
        Options = options ?? new PlainCnnOptions();
        if (Options.Stages < 1 || Options.Stages > 6) throw new SpaceException($"plain-cnn: stages must be 1 to 6 (got {Options.Stages})");
        if (Options.Layers.Any(l => l < 1 || l != Math.Floor(l))) throw new SpaceException("plain-cnn: layers per stage must be whole numbers ≥ 1");
        if (Options.Channels.Any(c => c < 1 || c != Math.Floor(c))) throw new SpaceException("plain-cnn: channels must be whole numbers ≥ 1");
        if (Options.Kernels.Any(k => k < 1 || k != Math.Floor(k) || k % 2 == 0)) throw new SpaceException("plain-cnn: kernel sizes must be odd whole numbers ≥ 1");
        foreach (var p in Options.Pooling)
            if (p is not ("max" or "avg")) throw new SpaceException($"plain-cnn: pooling '{p}' is not accepted; accepted: max, avg");

        var ps = new List<Parameter>();
        for (int s = 1; s <= Options.Stages; s++)
        {
            ps.Add(new OrdinalParameter($"arch.s{s}.layers", Options.Layers));
            ps.Add(new OrdinalParameter($"arch.s{s}.channels", Options.Channels));
            ps.Add(new OrdinalParameter($"arch.s{s}.kernel", Options.Kernels));
            ps.Add(new CategoricalParameter($"arch.s{s}.residual", Options.Residual ? ["no", "yes"] : ["no"]));
        }
        ps.Add(new CategoricalParameter("arch.pool", Options.Pooling));
        Parameters = ps;
    }

    public PlainCnnOptions Options { get; }
    public string Name => FamilyName;
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The per-stage choices of a design (stage index 1-based in names, 0-based here).</summary>
    public IReadOnlyList<PlainCnnStage> Stages(Design design)
    {
        var stages = new PlainCnnStage[Options.Stages];
        for (int s = 1; s <= Options.Stages; s++)
            stages[s - 1] = new PlainCnnStage(
                design.GetInt($"arch.s{s}.layers"), design.GetInt($"arch.s{s}.channels"),
                design.GetInt($"arch.s{s}.kernel"), design.GetString($"arch.s{s}.residual") == "yes");
        return stages;
    }

    public Workload Lower(Design design, TensorShape input, int numClasses)
    {
        var b = new WorkloadBuilder("plain-cnn", input);
        var pool = design.GetString("arch.pool") == "max" ? PoolKind.Max : PoolKind.Average;
        var stages = Stages(design);
        for (int s = 0; s < stages.Count; s++)
        {
            var st = stages[s];
            if (s > 0)
            {
                if (b.CurrentShape.Height < 2 || b.CurrentShape.Width < 2)
                    throw new WorkloadException($"plain-cnn: {stages.Count} stages need an input of at least {1 << (stages.Count - 1)}x{1 << (stages.Count - 1)} pixels (got {input.Height}x{input.Width})");
                b.Pool(pool, 2, 2, name: $"s{s + 1}.pool");
            }
            for (int l = 0; l < st.Layers; l++)
            {
                string name = $"s{s + 1}.conv{l + 1}";
                if (st.Residual && l > 0)
                {
                    int skip = b.Current;
                    int conv = b.Conv(st.Channels, st.Kernel, activation: Activation.None, name: name);
                    b.Add([conv, skip], Activation.ReLU, name: $"s{s + 1}.add{l}");
                }
                else
                {
                    b.Conv(st.Channels, st.Kernel, name: name);
                }
            }
        }
        b.Dense(numClasses, name: "classifier");
        return b.Build();
    }

    /// <summary>"16x2k3r-32x1k5-64x3k3 max": per stage channels × layers, kernel, r = residual; then the pooling.</summary>
    public string Describe(Design design) =>
        string.Join("-", Stages(design).Select(s => $"{s.Channels}x{s.Layers}k{s.Kernel}{(s.Residual ? "r" : "")}")) + " " + design.GetString("arch.pool");

    public Design Canonicalize(Design design)
    {
        var d = design;
        for (int s = 1; s <= Options.Stages; s++)
            if (d.GetInt($"arch.s{s}.layers") == 1 && d.GetString($"arch.s{s}.residual") != "no")
                d = d.With($"arch.s{s}.residual", 0); // "no" is choice 0
        return d;
    }
}

/// <summary>One stage of a plain-CNN design.</summary>
public readonly record struct PlainCnnStage(int Layers, int Channels, int Kernel, bool Residual);
