using System.Diagnostics;
using Tandem.Core.Accuracy;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Tandem.Torch.Training;

/// <summary>What one training run is given: the dataset, the training subset, and the validation tensors.</summary>
internal sealed record TrainingData(Data.TensorDataset Dataset, long[] TrainIndices, Tensor ValidationImages, Tensor ValidationLabels, Augmentation Augment)
{
    /// <summary>The augmentation in force: <c>auto</c> is random crops and flips for natural images, none otherwise.</summary>
    public Augmentation EffectiveAugment => Augment == Augmentation.Auto
        ? (Dataset.NaturalImages ? Augmentation.CropFlip : Augmentation.None)
        : Augment;

    /// <summary>
    /// The images (augmented as <see cref="EffectiveAugment"/> says, crops padded by
    /// <paramref name="cropPadding"/> pixels) and labels of the training samples <paramref name="indices"/>;
    /// the tensors belong to the caller's dispose scope.
    /// </summary>
    public (Tensor Images, Tensor Labels) Batch(long[] indices, int cropPadding, Random rng)
    {
        var idx = tensor(indices);
        var x = Dataset.TrainImages.index_select(0, idx);
        var y = Dataset.TrainLabels.index_select(0, idx);
        var augment = EffectiveAugment;
        if (augment != Augmentation.None) x = Augmenter.Apply(x, augment, cropPadding, rng);
        return (x, y);
    }
}

/// <summary>Validation accuracy (%) and mean loss after one epoch.</summary>
public sealed record EpochRecord(int Epoch, double ValidationAccuracy, double ValidationLoss, double TrainLoss);

/// <summary>
/// Result of one training run: validation accuracy (%) of the returned weights, cost (wall seconds,
/// fractional epochs over the training subset, optimiser steps, training images seen, seconds spent
/// in training steps alone), which budget ended it, and the per-epoch history.
/// </summary>
public sealed record TrainingOutcome
{
    public required double ValidationAccuracy { get; init; }
    public required double ValidationLoss { get; init; }
    public required double Epochs { get; init; }
    public required long Steps { get; init; }
    public required long Samples { get; init; }
    public required double Seconds { get; init; }
    public required double TrainSeconds { get; init; }
    public required string StoppedBy { get; init; }
    public required IReadOnlyList<EpochRecord> History { get; init; }

    /// <summary>Training throughput in images per second (forward, backward and update).</summary>
    public double ImagesPerSecond => TrainSeconds > 0 ? Samples / TrainSeconds : 0;
}

/// <summary>
/// Trains a module on a training subset with mini-batch SGD or AdamW until the budget ends, checking
/// the loss at every step (NaN or infinity → <see cref="AccuracyEvaluationException"/>), validating
/// after each epoch when early stopping is on (and always at the end; without early stopping the log gets
/// each epoch's mean training loss instead), and freeing every step's
/// native tensors with a dispose scope. Deterministic for a given seed: data order and augmentation
/// come from a <see cref="Random"/> seeded by the caller.
/// </summary>
internal static class Trainer
{
    public static TrainingOutcome Train(nn.Module<Tensor, Tensor> model, TrainingData data, TrainingOptions o, int seed,
        TimeProvider time, CancellationToken cancellationToken, IProgress<string>? log = null)
    {
        o.Budget.Validate();
        long start = time.GetTimestamp();
        var rng = new Random(seed);
        var sampler = new BatchSampler(data.TrainIndices, o.BatchSize, rng);
        long? maxSteps = MaxSteps(o.Budget, sampler.StepsPerEpoch, o.BatchSize);
        var parameters = model.parameters().ToArray();
        using optim.Optimizer optimizer = o.Optimizer == "adamw"
            ? optim.AdamW(parameters, o.LearningRate, weight_decay: o.WeightDecay)
            : optim.SGD(parameters, o.LearningRate, momentum: o.Momentum, weight_decay: o.WeightDecay, nesterov: o.Momentum > 0);

        var history = new List<EpochRecord>();
        Dictionary<string, Tensor>? best = null;
        double bestAcc = double.NegativeInfinity;
        int sinceBest = 0;
        long steps = 0, samples = 0;
        double trainTicks = 0, lossSum = 0, epochLossSum = 0;
        int lossCount = 0, epochLossCount = 0;
        string stoppedBy = "";
        try
        {
            model.train();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                double elapsed = time.GetElapsedTime(start).TotalSeconds;
                if (maxSteps is { } ms && steps >= ms) { stoppedBy = StopReason(o.Budget, steps, sampler.StepsPerEpoch, o.BatchSize); break; }
                if (o.Budget.WallTime is { } wt && elapsed >= wt.TotalSeconds) { stoppedBy = "time_limit"; break; }
                if (steps > 0 && sampler.AtEpochStart && o.Patience > 0)
                {
                    // End of an epoch: validate for early stopping.
                    var (acc, loss) = Evaluate(model, data.ValidationImages, data.ValidationLabels);
                    history.Add(new EpochRecord(sampler.Epoch + 1, acc, loss, lossSum / Math.Max(1, lossCount)));
                    lossSum = 0; lossCount = 0;
                    log?.Report($"epoch {sampler.Epoch + 1}: validation accuracy {acc:F2} %, loss {loss:F4}");
                    if (acc > bestAcc) { bestAcc = acc; sinceBest = 0; Snapshot(model, ref best); }
                    else if (++sinceBest >= o.Patience) { stoppedBy = "early_stopping"; break; }
                }
                else if (steps > 0 && sampler.AtEpochStart && log != null)
                {
                    // End of an epoch without early stopping: no validation pass, only the epoch's training loss.
                    log.Report($"epoch {sampler.Epoch + 1}: training loss {epochLossSum / Math.Max(1, epochLossCount):F4} (mean over the epoch's steps), {elapsed:F1} s");
                }
                if (sampler.AtEpochStart) { epochLossSum = 0; epochLossCount = 0; }
                double progress = 0;
                if (maxSteps is { } m) progress = (double)steps / m;
                if (o.Budget.WallTime is { } w) progress = Math.Max(progress, elapsed / w.TotalSeconds);
                double lr = o.LearningRateAt(progress);
                foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;

                long t0 = Stopwatch.GetTimestamp();
                var batch = sampler.Next();
                float lossValue;
                using (NewDisposeScope())
                {
                    var (x, y) = data.Batch(batch, o.CropPadding, rng);
                    optimizer.zero_grad();
                    var logits = model.forward(x);
                    var loss = F.cross_entropy(logits, y, label_smoothing: o.LabelSmoothing);
                    lossValue = loss.item<float>();
                    if (!float.IsFinite(lossValue))
                        throw new AccuracyEvaluationException(
                            $"training diverged: the loss became {lossValue} at step {steps + 1} (epoch {sampler.Epoch + 1}, learning rate {lr:G3}); try a lower lr");
                    loss.backward();
                    optimizer.step();
                }
                trainTicks += Stopwatch.GetElapsedTime(t0).TotalSeconds;
                lossSum += lossValue; lossCount++;
                epochLossSum += lossValue; epochLossCount++;
                steps++;
                samples += batch.Length;
            }

            var (finalAcc, finalLoss) = Evaluate(model, data.ValidationImages, data.ValidationLabels);
            if (!double.IsFinite(finalLoss))
                throw new AccuracyEvaluationException($"validation loss is {finalLoss} after training; the network produces non-finite outputs");
            if (history.Count == 0 || history[^1].Epoch != sampler.Epoch + 1 || stoppedBy != "early_stopping")
                history.Add(new EpochRecord(sampler.Epoch + 1, finalAcc, finalLoss, lossSum / Math.Max(1, lossCount)));
            if (best != null && bestAcc > finalAcc)
            {
                // Early stopping keeps the best weights seen on validation.
                Restore(model, best);
                (finalAcc, finalLoss) = (bestAcc, history.Where(h => h.ValidationAccuracy == bestAcc).Select(h => h.ValidationLoss).FirstOrDefault());
            }
            log?.Report($"trained {(double)samples / data.TrainIndices.Length:0.##} epochs ({steps} steps) in {time.GetElapsedTime(start).TotalSeconds:F1} s: validation accuracy {finalAcc:F2} %, loss {finalLoss:F4}");
            return new TrainingOutcome
            {
                ValidationAccuracy = finalAcc,
                ValidationLoss = finalLoss,
                Epochs = (double)samples / data.TrainIndices.Length,
                Steps = steps,
                Samples = samples,
                Seconds = time.GetElapsedTime(start).TotalSeconds,
                TrainSeconds = trainTicks,
                StoppedBy = stoppedBy,
                History = history,
            };
        }
        finally
        {
            if (best != null) foreach (var t in best.Values) t.Dispose();
        }
    }

    /// <summary>Accuracy (%) and mean cross-entropy of <paramref name="model"/> in eval mode, in batches, without gradients.</summary>
    public static (double Accuracy, double Loss) Evaluate(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, int batchSize = 1000)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            long n = images.shape[0], correct = 0;
            double lossSum = 0;
            for (long s = 0; s < n; s += batchSize)
            {
                using var scope = NewDisposeScope();
                long len = Math.Min(batchSize, n - s);
                var x = images.narrow(0, s, len);
                var y = labels.narrow(0, s, len);
                var logits = model.forward(x);
                lossSum += F.cross_entropy(logits, y, reduction: nn.Reduction.Sum).item<float>();
                correct += logits.argmax(1).eq(y).sum().item<long>();
            }
            return (100.0 * correct / Math.Max(1, n), lossSum / Math.Max(1, n));
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }

    internal static long? MaxSteps(TrainingBudget b, int stepsPerEpoch, int batchSize)
    {
        long? m = null;
        if (b.Epochs is { } e) m = Min(m, Math.Max(1, (long)Math.Ceiling(e * stepsPerEpoch)));
        if (b.Steps is { } s) m = Min(m, s);
        if (b.Samples is { } n) m = Min(m, Math.Max(1, (n + batchSize - 1) / batchSize));
        return m;
        static long Min(long? a, long b) => a is { } x ? Math.Min(x, b) : b;
    }

    /// <summary>Which budget ended a run that reached <see cref="MaxSteps"/>: steps, samples or epochs.</summary>
    internal static string StopReason(TrainingBudget b, long steps, int stepsPerEpoch, int batchSize)
    {
        if (b.Steps is { } s && steps >= s) return "steps";
        if (b.Samples is { } n && steps >= (n + batchSize - 1) / batchSize) return "samples";
        return "epochs";
    }

    private static void Snapshot(nn.Module model, ref Dictionary<string, Tensor>? store)
    {
        if (store != null) foreach (var t in store.Values) t.Dispose();
        store = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters()) store["p:" + name] = p.detach().clone().DetachFromDisposeScope();
        foreach (var (name, b) in model.named_buffers()) store["b:" + name] = b.detach().clone().DetachFromDisposeScope();
    }

    private static void Restore(nn.Module model, Dictionary<string, Tensor> store)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters()) p.copy_(store["p:" + name]);
        foreach (var (name, b) in model.named_buffers()) b.copy_(store["b:" + name]);
    }
}
