using Tandem.Core.Accuracy;
using Tandem.Core.Configuration;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Workloads;
using Tandem.Torch.Data;
using Tandem.Torch.Evaluators;
using Tandem.Torch.Modules;
using static Tandem.Torch.Tests.TestSupport;

namespace Tandem.Torch.Tests.Evaluators;

public sealed class TrainingEvaluatorTests
{
    private static readonly (string, object)[] Fast =
    [
        ("dataset", "synthetic"), ("epochs", 3), ("train_samples", 800), ("validation_samples", 300), ("batch_size", 32), ("lr", 0.05),
    ];

    private static IAccuracyEvaluator Create(params (string, object)[] extra)
    {
        var registry = TorchComponents.Register(new AccuracyEvaluatorRegistry());
        var keys = extra.Select(e => e.Item1).ToHashSet();
        return registry.Create("train", Config([.. Fast.Where(f => !keys.Contains(f.Item1)), .. extra]), Environment());
    }

    [Fact]
    public async Task Training_on_generated_data_reaches_a_clear_accuracy()
    {
        var eval = Create();
        Assert.Equal("train", eval.Fidelity);
        Assert.Equal(new TensorShape(1, 12, 12), eval.Task.Input);
        var r = await eval.EvaluateAsync(Request(SmallDesign()) with { MeasureTest = true }, TestContext.Current.CancellationToken);
        Assert.True(r.Metrics["accuracy"] > 80, $"validation accuracy {r.Metrics["accuracy"]} %");
        Assert.True(r.Metrics["test_accuracy"] > 75, $"test accuracy {r.Metrics["test_accuracy"]} %");
        Assert.Equal(3, r.Epochs, 2);
        Assert.True(r.Seconds > 0);
        Assert.Equal("train", r.Fidelity);
        Assert.Equal("epochs", r.Attributes["stopped_by"]);
    }

    [Fact]
    public async Task Same_seed_gives_the_same_accuracy()
    {
        var eval = Create(("epochs", 1));
        var d = SmallDesign(2, 8, 3, "yes");
        var a = await eval.EvaluateAsync(Request(d, seed: 9), TestContext.Current.CancellationToken);
        var b = await eval.EvaluateAsync(Request(d, seed: 9), TestContext.Current.CancellationToken);
        Assert.Equal(a.Metrics["accuracy"], b.Metrics["accuracy"]);
    }

    [Fact]
    public async Task Diverging_loss_fails_the_evaluation_with_a_reason()
    {
        var eval = Create(("lr", 1e12), ("schedule", "constant"), ("momentum", 0));
        var e = await Assert.ThrowsAsync<AccuracyEvaluationException>(() => eval.EvaluateAsync(Request(SmallDesign()), TestContext.Current.CancellationToken));
        Assert.Contains("loss became", e.Message);
    }

    [Theory]
    [InlineData("epochs", "0")]
    [InlineData("steps", "-3")]
    [InlineData("samples", "0")]
    [InlineData("time_limit", "0s")]
    [InlineData("lr", "0")]
    public void Zero_or_negative_budgets_are_config_errors(string key, string value)
    {
        var e = Assert.Throws<ConfigException>(() => Create((key, value)));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void Unknown_key_suggests_the_closest()
    {
        var e = Assert.Throws<ConfigException>(() => Create(("epoch", 2)));
        Assert.Contains("did you mean 'epochs'", e.Message);
    }

    [Fact]
    public void Unknown_dataset_lists_the_accepted_ones()
    {
        var e = Assert.Throws<ConfigException>(() => Create(("dataset", "imagenet")));
        Assert.Contains("fashion-mnist", e.Message);
    }

    [Fact]
    public async Task Wrong_image_shape_for_the_family_is_an_input_error()
    {
        var eval = Create();
        var d = SmallDesign();
        var network = SmallFamily.Lower(d, new TensorShape(1, 28, 28), 4);
        var e = await Assert.ThrowsAsync<DatasetException>(() => eval.EvaluateAsync(new AccuracyRequest { Design = d, Network = network, Seed = 1 }, TestContext.Current.CancellationToken));
        Assert.Contains("1x28x28", e.Message);
        Assert.Contains("1x12x12", e.Message);
    }

    [Fact]
    public async Task Missing_data_folder_is_an_input_error()
    {
        var registry = TorchComponents.Register(new AccuracyEvaluatorRegistry());
        var env = Environment() with { DataDirectory = "/nonexistent/fmnist" };
        var eval = registry.Create("train", Config(("dataset", "fashion-mnist")), env);
        var e = Assert.Throws<DatasetException>(() => eval.Task);
        Assert.Contains("/nonexistent/fmnist", e.Message);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Budget_scale_trains_on_more_images()
    {
        var eval = Create(("epochs", 1), ("train_samples", 300));
        var r1 = await eval.EvaluateAsync(Request(SmallDesign()), TestContext.Current.CancellationToken);
        var r2 = await eval.EvaluateAsync(Request(SmallDesign()) with { BudgetScale = 2 }, TestContext.Current.CancellationToken);
        Assert.Equal("300", r1.Attributes["train_samples"]);
        Assert.Equal("600", r2.Attributes["train_samples"]);
        Assert.Equal(1, r2.Epochs, 2);
    }

    [Fact]
    public async Task Training_without_early_stopping_logs_each_epochs_loss_and_the_result()
    {
        var eval = Create(("epochs", 2), ("train_samples", 320));
        var lines = new List<string>();
        var r = await eval.EvaluateAsync(Request(SmallDesign()) with { Log = new ListProgress(lines) }, TestContext.Current.CancellationToken);
        // Epoch 1 ends inside the budget (a training-loss line, no validation pass); epoch 2 ends with it (the result line).
        Assert.Equal(2, lines.Count);
        Assert.Matches(@"^epoch 1: training loss \d+\.\d{4} \(mean over the epoch's steps\), \d+\.\d s$", lines[0]);
        Assert.StartsWith("trained 2 epochs (20 steps) in ", lines[1]);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $": validation accuracy {r.Metrics["accuracy"]:F2} %, loss "), lines[1]);
    }

    [Fact]
    public async Task Step_budget_stops_after_the_steps()
    {
        var eval = Create(("steps", 5), ("epochs", null!));
        var r = await eval.EvaluateAsync(Request(SmallDesign()), TestContext.Current.CancellationToken);
        Assert.Equal("5", r.Attributes["steps"]);
        Assert.Equal("steps", r.Attributes["stopped_by"]);
    }

    [Fact]
    public async Task Early_stopping_stops_before_the_epoch_budget()
    {
        var eval = Create(("epochs", 40), ("patience", 1), ("schedule", "constant"), ("lr", 0.3));
        var r = await eval.EvaluateAsync(Request(SmallDesign(1, 4, 3)), TestContext.Current.CancellationToken);
        Assert.Equal("early_stopping", r.Attributes["stopped_by"]);
        Assert.True(r.Epochs < 40);
    }

    [Fact]
    public async Task Hot_start_copies_matching_tensors_from_the_closest_trained_design()
    {
        var eval = Create(("hot_start", true), ("epochs", 1));
        var study = new FakeStudy();
        var first = SmallDesign(1, 8, 3);
        study.AddTrial(0, first);
        var r0 = await eval.EvaluateAsync(Request(first, study: study, trial: 0), TestContext.Current.CancellationToken);
        Assert.False(r0.Attributes.ContainsKey("hot_start_from"));
        Assert.NotNull(await study.GetArtifactAsync(0, HotStart.ArtifactName, TestContext.Current.CancellationToken));

        // Same stage 1, wider stage 2: stage-1 tensors match, stage-2 and head do not.
        var second = first.With("arch.s2.channels", 16);
        study.AddTrial(1, second);
        var r1 = await eval.EvaluateAsync(Request(second, study: study, trial: 1), TestContext.Current.CancellationToken);
        Assert.Equal("0", r1.Attributes["hot_start_from"]);
        var copied = r1.Attributes["hot_start_copied"].Split(' ')[0].Split('/').Select(int.Parse).ToArray();
        Assert.InRange(copied[0], 1, copied[1] - 1);
        Assert.InRange(r1.Epochs, 0.45, 0.6); // hot_start_budget 0.5 of one epoch, rounded up to whole steps
    }

    [Fact]
    public void Hot_start_load_copies_exactly_the_same_shaped_tensors()
    {
        var a = Lower(SmallDesign(1, 8, 3));
        var b = Lower(SmallDesign(1, 8, 5));
        using var ma = new WorkloadModule(a, 1);
        using var mb = new WorkloadModule(b, 2);
        var (copied, total) = HotStart.Load(mb, HotStart.Save(ma));
        // Kernel 5 vs 3: conv weights differ; batch-norm tensors (4 per conv) and the dense head match.
        Assert.Equal(2 * 4 + 2, copied);
        Assert.Equal(2 * 5 + 2, total);
        var wa = ma.named_parameters().First(p => p.name == "classifier.weight").parameter;
        var wb = mb.named_parameters().First(p => p.name == "classifier.weight").parameter;
        Assert.True(wa.eq(wb).all().item<bool>());
    }

    [Fact]
    public void Design_distance_is_zero_for_the_same_design_and_grows_with_changes()
    {
        var d = SmallDesign(1, 8, 3);
        Assert.Equal(0, HotStart.Distance(d, d.ToTextMap()));
        double one = HotStart.Distance(d, d.With("arch.s2.channels", 16).ToTextMap());
        double two = HotStart.Distance(d, d.With("arch.s2.channels", 16).With("arch.s1.kernel", 5).ToTextMap());
        Assert.True(one > 0 && two > one);
    }
}
