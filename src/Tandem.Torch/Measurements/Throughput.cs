using System.Diagnostics;
using Tandem.Core.Accuracy;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Workloads;
using Tandem.Torch.Data;
using Tandem.Torch.Modules;
using Tandem.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Tandem.Torch.Measurements;

/// <summary>Training and inference speed of one network: multiply-accumulates and parameters, images per second.</summary>
public sealed record ThroughputRow(string Name, string DesignKey, long Macs, long Parameters, double TrainImagesPerSecond, double InferenceImagesPerSecond);

/// <summary>One default-budget trial of <see cref="TrialCost"/>: validation accuracy (%), wall seconds, epochs, what ended it.</summary>
public sealed record TrialCostRow(int Index, string DesignKey, long Macs, double Accuracy, double Seconds, double Epochs, string StoppedBy);

/// <summary>
/// Speed measurements of the "train" fidelity quoted in docs/accuracy.md: images per second of three
/// plain-CNN sizes, and the wall time of default-budget trials on random designs.
/// </summary>
public static class Throughput
{
    /// <summary>The three reference sizes of the default plain-CNN family (3 stages): per stage layers, channels, kernel, residual.</summary>
    public static IReadOnlyList<(string Name, Design Design)> ReferenceDesigns(PlainCnnFamily family)
    {
        var space = new DesignSpace(family.Parameters);
        Design Make(int layers, int[] channels, int kernel, string residual)
        {
            var m = new Dictionary<string, string> { ["arch.pool"] = "max" };
            for (int s = 1; s <= family.Options.Stages; s++)
            {
                m[$"arch.s{s}.layers"] = layers.ToString(System.Globalization.CultureInfo.InvariantCulture);
                m[$"arch.s{s}.channels"] = channels[Math.Min(s - 1, channels.Length - 1)].ToString(System.Globalization.CultureInfo.InvariantCulture);
                m[$"arch.s{s}.kernel"] = kernel.ToString(System.Globalization.CultureInfo.InvariantCulture);
                m[$"arch.s{s}.residual"] = layers > 1 ? residual : "no";
            }
            return space.Parse(m);
        }
        return
        [
            ("small", Make(1, [8, 16, 16], 3, "no")),
            ("medium", Make(2, [16, 32, 32], 3, "yes")),
            ("large", Make(3, [32, 64, 64], 5, "yes")),
        ];
    }

    /// <summary>Times <paramref name="steps"/> training steps (after 3 warm-up steps) and inference over 2 000 images.</summary>
    public static ThroughputRow Measure(string name, Design design, Workload network, TensorDataset data, int steps, int batchSize, int seed)
    {
        using var model = new WorkloadModule(network, seed);
        using var optimizer = optim.SGD(model.parameters(), 0.01, momentum: 0.9);
        var rng = new Random(seed);
        model.train();
        double trainSeconds = 0;
        long images = 0;
        for (int s = 0; s < steps + 3; s++)
        {
            var idx = Enumerable.Range(0, batchSize).Select(_ => (long)rng.Next(data.TrainCount)).ToArray();
            long t0 = Stopwatch.GetTimestamp();
            using (NewDisposeScope())
            {
                using var it = tensor(idx);
                var x = data.TrainImages.index_select(0, it);
                var y = data.TrainLabels.index_select(0, it);
                optimizer.zero_grad();
                F.cross_entropy(model.forward(x), y).backward();
                optimizer.step();
            }
            if (s >= 3) { trainSeconds += Stopwatch.GetElapsedTime(t0).TotalSeconds; images += batchSize; }
        }
        int n = Math.Min(2000, data.TrainCount);
        long t1 = Stopwatch.GetTimestamp();
        Trainer.Evaluate(model, data.TrainImages.narrow(0, 0, n), data.TrainLabels.narrow(0, 0, n), 500);
        double inferSeconds = Stopwatch.GetElapsedTime(t1).TotalSeconds;
        return new ThroughputRow(name, design.Key, network.TotalMacs, network.TotalParameters, images / trainSeconds, n / inferSeconds);
    }

    /// <summary>Runs the "train" evaluator with <paramref name="evaluator"/>'s options on each design and records its cost.</summary>
    public static async Task<IReadOnlyList<(TrialCostRow Row, AccuracyResult Result)>> TrialCost(IAccuracyEvaluator evaluator, INetworkFamily family,
        IReadOnlyList<Design> designs, int seed, Action<TrialCostRow>? onRow, CancellationToken ct)
    {
        var rows = new List<(TrialCostRow, AccuracyResult)>();
        for (int i = 0; i < designs.Count; i++)
        {
            var task = evaluator.Task;
            var network = family.Lower(designs[i], task.Input, task.NumClasses);
            var r = await evaluator.EvaluateAsync(new AccuracyRequest { Design = designs[i], Network = network, Seed = seed * 1000 + i }, ct).ConfigureAwait(false);
            var row = new TrialCostRow(i, designs[i].Key, network.TotalMacs, r.Metrics["accuracy"], r.Seconds, r.Epochs, r.Attributes.GetValueOrDefault("stopped_by", ""));
            rows.Add((row, r));
            onRow?.Invoke(row);
        }
        return rows;
    }
}
