using System.CommandLine;
using System.Globalization;
using System.Text;
using Tandem.Core;
using Tandem.Core.Accuracy;
using Tandem.Core.Spaces.Families;
using Tandem.Torch;
using Tandem.Torch.Data;
using Tandem.Torch.Measurements;

namespace Tandem.Cli.Commands;

/// <summary>
/// <c>tandem throughput</c>: training and inference speed (images/s) of three plain-CNN sizes, the
/// wall time of default-budget "train" trials on random designs, and the final retraining of the
/// best of them at a larger budget with its test accuracy. Writes throughput.md to --out.
/// </summary>
internal static class ThroughputCommand
{
    public static Command Create(CliContext context)
    {
        var data = new Option<string?>("--data") { Description = "Folder with the Fashion-MNIST IDX files (gzip or not)." };
        var dataset = new Option<string>("--dataset") { Description = "fashion-mnist, mnist, cifar10, cifar100 or synthetic.", DefaultValueFactory = _ => "fashion-mnist" };
        var steps = new Option<int>("--steps") { Description = "Timed training steps (batch 128) per network size.", DefaultValueFactory = _ => 30 };
        var trials = new Option<int>("--trials") { Description = "Random default-family designs trained at the default budget (0 = skip).", DefaultValueFactory = _ => 8 };
        var scale = new Option<double>("--final-scale") { Description = "Budget scale of the final retraining of the best trial (0 = skip).", DefaultValueFactory = _ => 4 };
        var seed = new Option<int>("--seed") { Description = "Seed of designs, split and weights.", DefaultValueFactory = _ => 1 };
        var validation = new Option<int>("--validation-samples") { Description = "Training-file images held out for validation.", DefaultValueFactory = _ => 5_000 };
        var output = new Option<string?>("--out") { Description = "Folder for throughput.md." };
        var command = new Command("throughput", "Measure training speed (images/s), time per default-budget trial, and the final retraining's test accuracy.");
        foreach (var o in new Option[] { data, dataset, steps, trials, scale, seed, validation, output }) command.Options.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            int nSteps = parse.GetValue(steps), nTrials = parse.GetValue(trials), sd = parse.GetValue(seed);
            double finalScale = parse.GetValue(scale);
            if (nSteps < 1) throw new InputException($"--steps must be at least 1 (got {nSteps})");
            if (nTrials < 0) throw new InputException($"--trials must be 0 or more (got {nTrials})");
            if (finalScale < 0) throw new InputException($"--final-scale must be 0 or more (got {finalScale})");
            var family = new PlainCnnFamily();
            var env = new AccuracyEnvironment { Family = family, Seed = sd, DataDirectory = parse.GetValue(data) is { } d ? context.ResolvePath(d) : null, WorkingDirectory = context.WorkingDirectory };
            var config = ConfigPairs.Map("tandem throughput", [("dataset", parse.GetValue(dataset)), ("validation_samples", parse.GetValue(validation))]);
            var registry = TorchComponents.Register(new AccuracyEvaluatorRegistry());
            var evaluator = registry.Create("train", config, env);
            var task = evaluator.Task; // decodes the dataset (and fails early on a bad folder)
            var tensors = DatasetCache.Get(DatasetOptions.Bind(config, env));
            var md = new StringBuilder();
            var log = new LineProgress(context);

            var speed = new Table().AddColumns("network", "MMACs/image", "parameters", "train images/s", "inference images/s");
            md.AppendLine($"Threads: {TorchRuntime.Threads}; convolutions: {TorchRuntime.Convolutions}; batch 128; {nSteps} timed steps after 3 warm-up steps.\n");
            md.AppendLine("| network | MMACs/image | parameters | train images/s | inference images/s |\n|---|---|---|---|---|");
            foreach (var (name, design) in Throughput.ReferenceDesigns(family))
            {
                var network = family.Lower(design, task.Input, task.NumClasses);
                var row = Throughput.Measure(name, design, network, tensors, nSteps, 128, sd);
                speed.AddRow(name, M(row.Macs), row.Parameters.ToString("N0", CultureInfo.InvariantCulture), row.TrainImagesPerSecond.ToString("0", CultureInfo.InvariantCulture), row.InferenceImagesPerSecond.ToString("0", CultureInfo.InvariantCulture));
                md.AppendLine($"| {name} (`{design.Key}`) | {M(row.Macs)} | {row.Parameters:N0} | {row.TrainImagesPerSecond:0} | {row.InferenceImagesPerSecond:0} |");
                log.Report($"{name}: {row.TrainImagesPerSecond:0} train images/s");
            }
            context.Out.Write(speed);

            if (nTrials > 0)
            {
                var designs = FidelityComparison.SampleDesigns(family, nTrials, sd);
                var rows = await Throughput.TrialCost(evaluator, family, designs, sd, r => log.Report($"trial {r.Index + 1}/{nTrials}: {r.Accuracy:F2} % in {r.Seconds:F1} s ({r.StoppedBy})"), ct);
                var t = new Table().AddColumns("trial", "MMACs/image", "validation accuracy %", "seconds", "epochs", "stopped by");
                md.AppendLine($"\nDefault \"train\" budget on {nTrials} random plain-CNN designs (seed {sd}):\n");
                md.AppendLine("| trial | MMACs/image | validation accuracy % | seconds | epochs | stopped by |\n|---|---|---|---|---|---|");
                foreach (var (r, _) in rows)
                {
                    t.AddRow((r.Index + 1).ToString(CultureInfo.InvariantCulture), M(r.Macs), r.Accuracy.ToString("F2", CultureInfo.InvariantCulture), r.Seconds.ToString("F1", CultureInfo.InvariantCulture), r.Epochs.ToString("F2", CultureInfo.InvariantCulture), r.StoppedBy);
                    md.AppendLine($"| {r.Index + 1} | {M(r.Macs)} | {r.Accuracy:F2} | {r.Seconds:F1} | {r.Epochs:F2} | {r.StoppedBy} |");
                }
                context.Out.Write(t);
                var secs = rows.Select(r => r.Row.Seconds).Order().ToArray();
                string summary = $"time per trial: mean {secs.Average():F1} s, median {secs[secs.Length / 2]:F1} s, max {secs[^1]:F1} s";
                context.Out.WriteLine(summary);
                md.AppendLine($"\n{summary}\n");

                if (finalScale > 0)
                {
                    var best = rows.MaxBy(r => r.Row.Accuracy).Row;
                    var design = designs[best.Index];
                    var network = family.Lower(design, task.Input, task.NumClasses);
                    log.Report($"final retraining of trial {best.Index + 1} at budget scale {finalScale}");
                    var r = await evaluator.EvaluateAsync(new AccuracyRequest { Design = design, Network = network, Seed = sd, BudgetScale = finalScale, MeasureTest = true }, ct);
                    string line = $"final retraining of trial {best.Index + 1} (`{design.Key}`) at budget scale {finalScale}: test accuracy {r.Metrics["test_accuracy"]:F2} %, validation accuracy {r.Metrics["accuracy"]:F2} %, {r.Seconds:F1} s, {r.Epochs:F2} epochs of {r.Attributes["train_samples"]} images";
                    context.Out.WriteLine(line);
                    md.AppendLine(line);
                }
            }
            if (parse.GetValue(output) is { } o)
            {
                string dir = context.ResolvePath(o);
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(dir, "throughput.md"), md.ToString());
                context.Out.WriteLine($"wrote {Path.Combine(dir, "throughput.md")}");
            }
            return TandemCli.ExitOk;
        });
        return command;
    }

    private static string M(long macs) => (macs / 1e6).ToString("0.0", CultureInfo.InvariantCulture);
}
