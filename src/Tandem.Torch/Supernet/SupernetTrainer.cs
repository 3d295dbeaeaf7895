using Tandem.Core.Accuracy;
using Tandem.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Tandem.Torch.Supernet;

/// <summary>How the sub-networks trained at each step are chosen over the course of supernet training.</summary>
public enum SupernetSchedule
{
    /// <summary>The sandwich rule from the first step (BigNAS): largest, smallest and random sub-networks of the whole space.</summary>
    Sandwich,
    /// <summary>
    /// Progressive shrinking (Once-for-All): the largest network alone first, then the sandwich rule over
    /// a space that grows phase by phase — elastic kernel, then also depth, then also width.
    /// </summary>
    Progressive,
    /// <summary>
    /// Uniform single-path sampling (Guo et al.'s single-path one-shot): every step trains
    /// <see cref="SandwichOptions.RandomSubnets"/> sub-networks drawn uniformly from the whole space and
    /// nothing else — no largest or smallest network, so no teacher and no distillation. The weights are
    /// then not biased toward the extremes of the space, at the price of training them less often.
    /// </summary>
    Uniform,
}

/// <summary>
/// How a supernet is trained. Every step trains the largest sub-network (with the label loss), the
/// smallest and <see cref="RandomSubnets"/> random ones, summing their gradients into one update — the
/// sandwich rule — over the whole space (<see cref="SupernetSchedule.Sandwich"/>) or over the part of it
/// the current phase of progressive shrinking allows (<see cref="SupernetSchedule.Progressive"/>, phases
/// of <see cref="PhaseFractions"/> of the budget). With in-place self-distillation (<see cref="Distill"/>)
/// the smaller sub-networks also learn the largest one's predictions, as in GoldenNAS and BigNAS: their
/// loss is (1 − w)·CE(labels) + w·KL(largest ‖ sub-network) with w = <see cref="DistillWeight"/>; keeping
/// part of the label loss matters on short budgets, where the largest network is itself a weak teacher.
/// Invariants (checked by <see cref="Validate"/>): 0 ≤ <see cref="RandomSubnets"/> ≤ 16, 0 ≤ w ≤ 1,
/// <see cref="ClipNorm"/> ≥ 0, four non-negative phase fractions with a positive sum (normalised to 1),
/// and <see cref="ReorderChannels"/> only with the progressive schedule.
/// </summary>
public sealed record SandwichOptions
{
    public int RandomSubnets { get; init; } = 2;
    public bool Distill { get; init; } = true;
    /// <summary>Weight of the distillation term for the smaller sub-networks (0 … 1).</summary>
    public double DistillWeight { get; init; } = 0.5;
    /// <summary>
    /// Gradients are clipped to this global norm (0 = off). Only a guard against spikes: a tight clip
    /// (5 was tried) throttles the summed gradients of the sandwich and leaves sub-networks under-trained.
    /// </summary>
    public double ClipNorm { get; init; } = 20;
    public SupernetSchedule Schedule { get; init; } = SupernetSchedule.Sandwich;
    /// <summary>
    /// Progressive schedule: fractions of the budget (by steps, or by wall time when only a time limit
    /// is set) spent on the largest network alone, then with elastic kernel, then also depth, then also
    /// width. Ignored by the sandwich schedule.
    /// </summary>
    public IReadOnlyList<double> PhaseFractions { get; init; } = [0.2, 0.2, 0.2, 0.4];
    /// <summary>
    /// Progressive schedule: sort channels by importance (<see cref="Supernet.ReorderChannels"/>) at the
    /// start of every phase after the first, and restart the optimiser's momentum, which would otherwise
    /// point at the old channel order.
    /// </summary>
    public bool ReorderChannels { get; init; }
    /// <summary>
    /// Decay per optimiser step of an exponential moving average of the shared weights (0 = off). When
    /// set, the trained supernet's weights are replaced by their average at the end of training (BigNAS
    /// evaluates its sub-networks with such averaged weights): the last steps' randomly drawn
    /// sub-networks then pull less on the weights every other sub-network shares. Batch-norm statistics
    /// are not averaged; they are recalibrated per sub-network anyway.
    /// </summary>
    public double EmaDecay { get; init; }

    /// <summary>Throws a <see cref="Tandem.Core.Configuration.ConfigException"/> naming the first broken invariant.</summary>
    public void Validate()
    {
        if (RandomSubnets is < 0 or > 16) throw new Tandem.Core.Configuration.ConfigException($"random_subnets must be 0 to 16 (got {RandomSubnets})");
        if (!(DistillWeight >= 0 && DistillWeight <= 1)) throw new Tandem.Core.Configuration.ConfigException($"distill_weight must be within 0 … 1 (got {DistillWeight})");
        if (!(ClipNorm >= 0)) throw new Tandem.Core.Configuration.ConfigException($"clip_norm must be ≥ 0 (got {ClipNorm})");
        if (PhaseFractions.Count != 4 || PhaseFractions.Any(f => !(f >= 0) || !double.IsFinite(f)) || !(PhaseFractions.Sum() > 0))
            throw new Tandem.Core.Configuration.ConfigException(
                $"phases must be 4 non-negative fractions of the budget (largest, +kernel, +depth, +width) with a positive sum (got [{string.Join(", ", PhaseFractions)}])");
        if (Schedule == SupernetSchedule.Uniform && RandomSubnets < 1)
            throw new Tandem.Core.Configuration.ConfigException("shrinking: uniform trains random_subnets sub-networks per step, so random_subnets must be at least 1");
        if (!(EmaDecay >= 0 && EmaDecay < 1)) throw new Tandem.Core.Configuration.ConfigException($"ema must be within 0 … 1, 1 excluded (0 = off; got {EmaDecay})");
        if (ReorderChannels && Schedule != SupernetSchedule.Progressive)
            throw new Tandem.Core.Configuration.ConfigException("reorder_channels: true needs shrinking: progressive (channels are sorted between its phases)");
    }

    /// <summary>
    /// The phase (0 = largest only, 1 = +kernel, 2 = +depth, 3 = +width) at <paramref name="progress"/> ∈ [0, 1]
    /// of the budget; always 3 for the sandwich schedule. A phase with fraction 0 is skipped.
    /// </summary>
    public int PhaseAt(double progress)
    {
        if (Schedule != SupernetSchedule.Progressive) return 3;
        double total = PhaseFractions.Sum(), end = 0;
        for (int phase = 0; phase < 3; phase++)
        {
            end += PhaseFractions[phase] / total;
            if (progress < end) return phase;
        }
        return 3;
    }

    /// <summary>The dimensions that may shrink in <paramref name="phase"/> (0 … 3).</summary>
    public static ElasticDimensions Elastic(int phase) => phase switch
    {
        <= 0 => ElasticDimensions.None,
        1 => ElasticDimensions.Kernel,
        2 => ElasticDimensions.Kernel | ElasticDimensions.Depth,
        _ => ElasticDimensions.All,
    };

    /// <summary>Text that identifies the recipe (for the supernet cache key): every field, lists spelled out (the averaging only when on, so earlier keys stay valid).</summary>
    public string Identity() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"random {RandomSubnets} distill {Distill} {DistillWeight:R} clip {ClipNorm:R} schedule {Schedule} phases {string.Join('/', PhaseFractions.Select(f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))} reorder {ReorderChannels}")
        + (EmaDecay > 0 ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $" ema {EmaDecay:R}") : "");
}

/// <summary>Cost of training a supernet: wall seconds, steps, training images per sub-network, epochs over the subset, and how often channels were sorted.</summary>
public sealed record SupernetTrainingOutcome(double Seconds, long Steps, long Samples, double Epochs, string StoppedBy, int Reorders = 0);

/// <summary>Trains a <see cref="Supernet"/> with the sandwich rule or progressive shrinking within a <see cref="TrainingBudget"/>; see <see cref="SandwichOptions"/>.</summary>
internal static class SupernetTrainer
{
    public static SupernetTrainingOutcome Train(Supernet net, TrainingData data, TrainingOptions o, SandwichOptions sandwich, int seed,
        TimeProvider time, CancellationToken ct, IProgress<string>? log = null)
    {
        o.Budget.Validate();
        sandwich.Validate();
        long start = time.GetTimestamp();
        var rng = new Random(seed);
        var sampler = new BatchSampler(data.TrainIndices, o.BatchSize, rng);
        long? maxSteps = Trainer.MaxSteps(o.Budget, sampler.StepsPerEpoch, o.BatchSize);
        var parameters = net.parameters().ToArray();
        optim.Optimizer NewOptimizer() => o.Optimizer == "adamw"
            ? optim.AdamW(parameters, o.LearningRate, weight_decay: o.WeightDecay)
            : optim.SGD(parameters, o.LearningRate, momentum: o.Momentum, weight_decay: o.WeightDecay, nesterov: o.Momentum > 0);
        long steps = 0, samples = 0;
        string stoppedBy;
        int lastLoggedEpoch = -1, phase = -1, reorders = 0;
        var optimizer = NewOptimizer();
        // The moving average of the weights (BigNAS), when on: shadow copies updated after every step.
        Tensor[]? average = null;
        if (sandwich.EmaDecay > 0)
            using (no_grad()) average = [.. parameters.Select(p => p.detach().clone())];
        try
        {
            net.train();
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                double elapsed = time.GetElapsedTime(start).TotalSeconds;
                if (maxSteps is { } ms && steps >= ms) { stoppedBy = Trainer.StopReason(o.Budget, steps, sampler.StepsPerEpoch, o.BatchSize); break; }
                if (o.Budget.WallTime is { } wt && elapsed >= wt.TotalSeconds) { stoppedBy = "time_limit"; break; }
                double progress = maxSteps is { } m ? (double)steps / m : 0;
                if (o.Budget.WallTime is { } w) progress = Math.Max(progress, elapsed / w.TotalSeconds);
                int now = sandwich.PhaseAt(progress);
                if (now != phase)
                {
                    if (phase >= 0 && sandwich.ReorderChannels && net.ReorderChannels() > 0)
                    {
                        reorders++;
                        optimizer.Dispose();
                        optimizer = NewOptimizer();
                    }
                    phase = now;
                    if (sandwich.Schedule == SupernetSchedule.Progressive) log?.Report($"supernet phase {phase + 1}/4 (elastic: {SandwichOptions.Elastic(phase)}) from step {steps + 1}");
                }
                var elastic = SandwichOptions.Elastic(phase);
                double lr = o.LearningRateAt(progress);
                foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;

                var batch = sampler.Next();
                using (NewDisposeScope())
                {
                    var (x, y) = data.Batch(batch, o.CropPadding, rng);
                    optimizer.zero_grad();
                    if (sandwich.Schedule == SupernetSchedule.Uniform) TrainUniform(net, x, y, sandwich.RandomSubnets, o.LabelSmoothing, rng, steps);
                    else TrainSandwich(net, x, y, sandwich, elastic, o.LabelSmoothing, rng, steps);
                    if (sandwich.ClipNorm > 0) nn.utils.clip_grad_norm_(parameters, sandwich.ClipNorm);
                    optimizer.step();
                    if (average != null)
                    {
                        // Early steps use a shorter memory, min(decay, (1 + t)/(10 + t)) as TensorFlow's
                        // ExponentialMovingAverage with num_updates does, so the random initial weights
                        // do not linger in the average of a short training.
                        double d = Math.Min(sandwich.EmaDecay, (1.0 + steps) / (10.0 + steps));
                        using (no_grad())
                            for (int i = 0; i < parameters.Length; i++) average[i].mul_(d).add_(parameters[i], alpha: 1 - d);
                    }
                }
                steps++;
                samples += batch.Length;
                if (sampler.Epoch != lastLoggedEpoch) { lastLoggedEpoch = sampler.Epoch; log?.Report($"supernet epoch {sampler.Epoch + 1}, step {steps}"); }
            }
            // A finished training hands over the averaged weights (a cancelled or failed one throws past this).
            if (average != null)
                using (no_grad())
                    for (int i = 0; i < parameters.Length; i++) parameters[i].copy_(average[i]);
        }
        finally
        {
            optimizer.Dispose();
            if (average != null) foreach (var t in average) t.Dispose();
        }
        return new SupernetTrainingOutcome(time.GetElapsedTime(start).TotalSeconds, steps, samples, (double)samples / data.TrainIndices.Length, stoppedBy, reorders);
    }

    /// <summary>One sandwich step's gradients: the largest sub-network, the smallest and random ones (with distillation from the largest when enabled).</summary>
    private static void TrainSandwich(Supernet net, Tensor x, Tensor y, SandwichOptions sandwich, ElasticDimensions elastic, double labelSmoothing, Random rng, long steps)
    {
        Tensor teacher;
        // One inner scope per sub-network: its activations are freed after its backward pass
        // instead of piling up until the end of the step.
        using (var inner = NewDisposeScope())
        {
            net.Activate(net.Extreme(largest: true, rng, elastic));
            var teacherLogits = net.forward(x);
            Backward(F.cross_entropy(teacherLogits, y, label_smoothing: labelSmoothing), steps, "largest");
            teacher = teacherLogits.detach().log_softmax(1).MoveToOuterDisposeScope();
        }
        // The first phase of progressive shrinking trains the largest network alone.
        for (int k = -1; elastic != ElasticDimensions.None && k < sandwich.RandomSubnets; k++)
        {
            using var inner = NewDisposeScope();
            net.Activate(k < 0 ? net.Extreme(largest: false, rng, elastic) : net.Sample(rng, elastic));
            var logits = net.forward(x);
            var loss = F.cross_entropy(logits, y, label_smoothing: labelSmoothing);
            if (sandwich.Distill && sandwich.DistillWeight > 0)
                loss = (1 - sandwich.DistillWeight) * loss
                    + sandwich.DistillWeight * F.kl_div(logits.log_softmax(1), teacher, log_target: true, reduction: nn.Reduction.Sum) / x.shape[0];
            Backward(loss, steps, k < 0 ? "smallest" : "random");
        }
    }

    /// <summary>One uniform single-path step's gradients: <paramref name="count"/> sub-networks drawn uniformly from the whole space.</summary>
    private static void TrainUniform(Supernet net, Tensor x, Tensor y, int count, double labelSmoothing, Random rng, long steps)
    {
        for (int k = 0; k < count; k++)
        {
            using var inner = NewDisposeScope();
            net.Activate(net.Sample(rng));
            Backward(F.cross_entropy(net.forward(x), y, label_smoothing: labelSmoothing), steps, "random");
        }
    }

    private static void Backward(Tensor loss, long step, string which)
    {
        float v = loss.item<float>();
        if (!float.IsFinite(v))
            throw new AccuracyEvaluationException($"supernet training diverged: the {which} sub-network's loss became {v} at step {step + 1}; try a lower lr");
        loss.backward();
    }
}
