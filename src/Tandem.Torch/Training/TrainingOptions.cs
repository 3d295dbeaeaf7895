using System.Globalization;
using Tandem.Core.Configuration;

namespace Tandem.Torch.Training;

/// <summary>
/// When training stops: after <see cref="Epochs"/> passes over the training subset, <see cref="Steps"/>
/// optimiser steps, <see cref="Samples"/> training images, or <see cref="WallTime"/> — whichever comes
/// first. At least one must be set; every one that is set is positive. Epochs may be fractional.
/// </summary>
public sealed record TrainingBudget
{
    public double? Epochs { get; init; }
    public long? Steps { get; init; }
    public long? Samples { get; init; }
    public TimeSpan? WallTime { get; init; }

    public void Validate()
    {
        if (Epochs is null && Steps is null && Samples is null && WallTime is null)
            throw new ConfigException("a training budget needs at least one of epochs, steps, samples or time_limit");
        if (Epochs is { } e && !(e > 0)) throw new ConfigException($"training budget: epochs must be > 0 (got {e.ToString(CultureInfo.InvariantCulture)})");
        if (Steps is <= 0) throw new ConfigException($"training budget: steps must be > 0 (got {Steps})");
        if (Samples is <= 0) throw new ConfigException($"training budget: samples must be > 0 (got {Samples})");
        if (WallTime is { } t && t <= TimeSpan.Zero) throw new ConfigException($"training budget: time_limit must be positive (got {t})");
    }

    /// <summary>The same budget with every limit multiplied by <paramref name="factor"/> (&gt; 0).</summary>
    public TrainingBudget Scale(double factor)
    {
        if (!(factor > 0) || !double.IsFinite(factor)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "budget scale must be a positive number");
        return new TrainingBudget
        {
            Epochs = Epochs * factor,
            Steps = Steps is { } s ? Math.Max(1, (long)Math.Ceiling(s * factor)) : null,
            Samples = Samples is { } n ? Math.Max(1, (long)Math.Ceiling(n * factor)) : null,
            WallTime = WallTime is { } w ? TimeSpan.FromTicks((long)(w.Ticks * factor)) : null,
        };
    }

    public override string ToString()
    {
        var parts = new List<string>();
        if (Epochs is { } e) parts.Add($"{e.ToString("0.###", CultureInfo.InvariantCulture)} epochs");
        if (Steps is { } s) parts.Add($"{s} steps");
        if (Samples is { } n) parts.Add($"{n} samples");
        if (WallTime is { } t) parts.Add($"{t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s");
        return string.Join(" or ", parts);
    }
}

/// <summary>Learning-rate schedule over the budget's progress (0 → 1).</summary>
public enum LearningRateSchedule
{
    /// <summary>The base rate throughout.</summary>
    Constant,
    /// <summary>Half-cosine from the base rate to zero (after the warm-up, if any).</summary>
    Cosine,
    /// <summary>Multiplied by <see cref="TrainingOptions.StepGamma"/> at every <see cref="TrainingOptions.StepEvery"/> of progress.</summary>
    Step,
    /// <summary>Linear warm-up to the base rate over <see cref="TrainingOptions.Warmup"/> of progress, then cosine to zero.</summary>
    OneCycle,
}

/// <summary>Data augmentation of training batches.</summary>
public enum Augmentation
{
    /// <summary>Flips and crops for natural images (CIFAR), nothing for digits and clothes.</summary>
    Auto,
    None,
    /// <summary>Random horizontal flips.</summary>
    Flip,
    /// <summary>Random crops of the image padded by <see cref="TrainingOptions.CropPadding"/> pixels.</summary>
    Crop,
    /// <summary>Both.</summary>
    CropFlip,
}

/// <summary>
/// How a network is trained: optimiser (SGD with Nesterov momentum, or AdamW), base learning rate,
/// schedule, weight decay, batch size (images), budget, early stopping (patience in epochs without a
/// better validation accuracy; 0 = off), augmentation and label smoothing. Immutable; bound from a
/// config map by <see cref="Bind"/>.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Keys bound by <see cref="Bind"/>.</summary>
    public static readonly IReadOnlyList<string> ConfigKeys =
    [
        "epochs", "steps", "samples", "time_limit", "batch_size", "optimizer", "lr", "momentum", "weight_decay",
        "schedule", "warmup", "step_every", "step_gamma", "patience", "augment", "label_smoothing",
    ];

    public string Optimizer { get; init; } = "sgd";
    public double LearningRate { get; init; } = 0.08;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-4;
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.OneCycle;
    /// <summary>Fraction of the budget spent warming up (one-cycle only).</summary>
    public double Warmup { get; init; } = 0.15;
    /// <summary>Step schedule: fraction of the budget between decays.</summary>
    public double StepEvery { get; init; } = 0.33;
    public double StepGamma { get; init; } = 0.1;
    public int BatchSize { get; init; } = 128;
    public TrainingBudget Budget { get; init; } = new() { Epochs = 2 };
    public int Patience { get; init; }
    public Augmentation Augment { get; init; } = Augmentation.Auto;
    public int CropPadding { get; init; } = 4;
    public double LabelSmoothing { get; init; }

    /// <summary>Rate at progress <paramref name="p"/> ∈ [0, 1] of the budget.</summary>
    public double LearningRateAt(double p)
    {
        p = Math.Clamp(p, 0, 1);
        return Schedule switch
        {
            LearningRateSchedule.Constant => LearningRate,
            LearningRateSchedule.Cosine => LearningRate * 0.5 * (1 + Math.Cos(Math.PI * p)),
            LearningRateSchedule.Step => LearningRate * Math.Pow(StepGamma, Math.Floor(p / StepEvery)),
            _ => p < Warmup
                ? LearningRate * (0.1 + 0.9 * p / Warmup)
                : LearningRate * 0.5 * (1 + Math.Cos(Math.PI * (p - Warmup) / Math.Max(1e-9, 1 - Warmup))),
        };
    }

    /// <summary>Binds the keys of <see cref="ConfigKeys"/> from <paramref name="map"/> over <paramref name="defaults"/>. Does not check for unknown keys.</summary>
    public static TrainingOptions Bind(ConfigMap map, TrainingOptions? defaults = null)
    {
        var d = defaults ?? new TrainingOptions();
        var budgetKeys = new[] { "epochs", "steps", "samples", "time_limit" };
        var budget = budgetKeys.Any(map.Has)
            ? new TrainingBudget
            {
                Epochs = Positive(map, "epochs"),
                Steps = PositiveLong(map, "steps"),
                Samples = PositiveLong(map, "samples"),
                WallTime = map.GetDuration("time_limit"),
            }
            : d.Budget;
        var o = new TrainingOptions
        {
            Optimizer = map.GetChoice("optimizer", d.Optimizer, "sgd", "adamw"),
            LearningRate = Positive(map, "lr") ?? d.LearningRate,
            Momentum = map.GetDouble("momentum", d.Momentum, 0, 0.999),
            WeightDecay = map.GetDouble("weight_decay", d.WeightDecay, 0, 1),
            Schedule = Enum.Parse<LearningRateSchedule>(map.GetChoice("schedule", ScheduleName(d.Schedule), "constant", "cosine", "step", "onecycle"), ignoreCase: true),
            Warmup = map.GetDouble("warmup", d.Warmup, 0, 0.9),
            StepEvery = map.GetOptionalDouble("step_every", 0.01, 1) ?? d.StepEvery,
            StepGamma = map.GetDouble("step_gamma", d.StepGamma, 0.001, 1),
            BatchSize = map.GetInt("batch_size", d.BatchSize, 1, 65536),
            Budget = budget,
            Patience = map.GetInt("patience", d.Patience, 0, 1000),
            Augment = Enum.Parse<Augmentation>(map.GetChoice("augment", AugmentName(d.Augment), "auto", "none", "flip", "crop", "crop-flip").Replace("-", ""), ignoreCase: true),
            LabelSmoothing = map.GetDouble("label_smoothing", d.LabelSmoothing, 0, 0.5),
        };
        o.Budget.Validate();
        return o;
    }

    private static string ScheduleName(LearningRateSchedule s) => s == LearningRateSchedule.OneCycle ? "onecycle" : s.ToString().ToLowerInvariant();
    private static string AugmentName(Augmentation a) => a == Augmentation.CropFlip ? "crop-flip" : a.ToString().ToLowerInvariant();

    private static double? Positive(ConfigMap map, string key)
    {
        var node = map.GetScalar(key);
        if (node?.Value is null) return null;
        double v = node.AsDouble();
        if (!(v > 0)) throw node.Error($"{v.ToString(CultureInfo.InvariantCulture)} is not accepted; {key} must be > 0");
        return v;
    }

    private static long? PositiveLong(ConfigMap map, string key)
    {
        var node = map.GetScalar(key);
        if (node?.Value is null) return null;
        long v = node.AsLong();
        if (v <= 0) throw node.Error($"{v} is not accepted; {key} must be a whole number > 0");
        return v;
    }
}
