using Tandem.Core.Accuracy;
using Tandem.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Tandem.Torch.Supernet;

/// <summary>
/// How a supernet is trained: the sandwich rule (every step trains the largest and the smallest
/// sub-network and <see cref="RandomSubnets"/> random ones, summing their gradients into one update)
/// with optional in-place self-distillation (the smaller sub-networks also learn the largest one's
/// predictions, as in GoldenNAS and BigNAS). Their loss is (1 − w)·CE(labels) + w·KL(largest ‖ sub-network)
/// with w = <see cref="DistillWeight"/>: keeping part of the label loss matters on short budgets, where
/// the largest network is itself a weak teacher.
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
}

/// <summary>Cost of training a supernet: wall seconds, steps, training images per sub-network, epochs over the subset.</summary>
public sealed record SupernetTrainingOutcome(double Seconds, long Steps, long Samples, double Epochs, string StoppedBy);

/// <summary>Trains a <see cref="Supernet"/> with the sandwich rule within a <see cref="TrainingBudget"/>; see <see cref="SandwichOptions"/>.</summary>
internal static class SupernetTrainer
{
    public static SupernetTrainingOutcome Train(Supernet net, TrainingData data, TrainingOptions o, SandwichOptions sandwich, int seed,
        TimeProvider time, CancellationToken ct, IProgress<string>? log = null)
    {
        o.Budget.Validate();
        long start = time.GetTimestamp();
        var rng = new Random(seed);
        var sampler = new BatchSampler(data.TrainIndices, o.BatchSize, rng);
        long? maxSteps = Trainer.MaxSteps(o.Budget, sampler.StepsPerEpoch, o.BatchSize);
        var parameters = net.parameters().ToArray();
        using optim.Optimizer optimizer = o.Optimizer == "adamw"
            ? optim.AdamW(parameters, o.LearningRate, weight_decay: o.WeightDecay)
            : optim.SGD(parameters, o.LearningRate, momentum: o.Momentum, weight_decay: o.WeightDecay, nesterov: o.Momentum > 0);
        var augment = data.Augment == Augmentation.Auto ? (data.Dataset.NaturalImages ? Augmentation.CropFlip : Augmentation.None) : data.Augment;
        long steps = 0, samples = 0;
        string stoppedBy;
        int lastLoggedEpoch = -1;
        net.train();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            double elapsed = time.GetElapsedTime(start).TotalSeconds;
            if (maxSteps is { } ms && steps >= ms) { stoppedBy = o.Budget.Steps is { } s && steps >= s ? "steps" : o.Budget.Samples != null ? "samples" : "epochs"; break; }
            if (o.Budget.WallTime is { } wt && elapsed >= wt.TotalSeconds) { stoppedBy = "time_limit"; break; }
            double progress = maxSteps is { } m ? (double)steps / m : 0;
            if (o.Budget.WallTime is { } w) progress = Math.Max(progress, elapsed / w.TotalSeconds);
            double lr = o.LearningRateAt(progress);
            foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;

            var batch = sampler.Next();
            using (NewDisposeScope())
            {
                var idx = tensor(batch);
                var x = data.Dataset.TrainImages.index_select(0, idx);
                var y = data.Dataset.TrainLabels.index_select(0, idx);
                if (augment != Augmentation.None) x = Augmenter.Apply(x, augment, o.CropPadding, rng);
                optimizer.zero_grad();
                Tensor teacher;
                // One inner scope per sub-network: its activations are freed after its backward pass
                // instead of piling up until the end of the step.
                using (var inner = NewDisposeScope())
                {
                    net.Activate(net.Extreme(largest: true, rng));
                    var teacherLogits = net.forward(x);
                    Backward(F.cross_entropy(teacherLogits, y, label_smoothing: o.LabelSmoothing), steps, "largest");
                    teacher = teacherLogits.detach().log_softmax(1).MoveToOuterDisposeScope();
                }
                for (int k = -1; k < sandwich.RandomSubnets; k++)
                {
                    using var inner = NewDisposeScope();
                    net.Activate(k < 0 ? net.Extreme(largest: false, rng) : net.Sample(rng));
                    var logits = net.forward(x);
                    var loss = F.cross_entropy(logits, y, label_smoothing: o.LabelSmoothing);
                    if (sandwich.Distill && sandwich.DistillWeight > 0)
                        loss = (1 - sandwich.DistillWeight) * loss
                            + sandwich.DistillWeight * F.kl_div(logits.log_softmax(1), teacher, log_target: true, reduction: nn.Reduction.Sum) / x.shape[0];
                    Backward(loss, steps, k < 0 ? "smallest" : "random");
                }
                if (sandwich.ClipNorm > 0) nn.utils.clip_grad_norm_(parameters, sandwich.ClipNorm);
                optimizer.step();
            }
            steps++;
            samples += batch.Length;
            if (sampler.Epoch != lastLoggedEpoch) { lastLoggedEpoch = sampler.Epoch; log?.Report($"supernet epoch {sampler.Epoch + 1}, step {steps}"); }
        }
        return new SupernetTrainingOutcome(time.GetElapsedTime(start).TotalSeconds, steps, samples, (double)samples / data.TrainIndices.Length, stoppedBy);
    }

    private static void Backward(Tensor loss, long step, string which)
    {
        float v = loss.item<float>();
        if (!float.IsFinite(v))
            throw new AccuracyEvaluationException($"supernet training diverged: the {which} sub-network's loss became {v} at step {step + 1}; try a lower lr");
        loss.backward();
    }
}
