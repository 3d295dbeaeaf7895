using Tandem.Core.Accuracy;
using Tandem.Core.Configuration;
using Tandem.Core.Workloads;
using Tandem.Torch.Data;
using Tandem.Torch.Evaluators;
using Tandem.Torch.Modules;
using Tandem.Torch.Supernet;
using Tandem.Torch.Training;
using TorchSharp;
using static Tandem.Torch.Tests.TestSupport;
using static TorchSharp.torch;

namespace Tandem.Torch.Tests.Supernet;

public sealed class ProgressiveShrinkingTests
{
    [Fact]
    public void Progressive_phases_follow_the_fractions_and_enable_kernel_then_depth_then_width()
    {
        var o = new SandwichOptions { Schedule = SupernetSchedule.Progressive, PhaseFractions = [1, 1, 1, 1] };
        Assert.Equal(0, o.PhaseAt(0));
        Assert.Equal(0, o.PhaseAt(0.249));
        Assert.Equal(1, o.PhaseAt(0.25));
        Assert.Equal(2, o.PhaseAt(0.6));
        Assert.Equal(3, o.PhaseAt(0.75));
        Assert.Equal(3, o.PhaseAt(1));
        // A phase of fraction 0 is skipped.
        var skip = o with { PhaseFractions = [0.5, 0, 0.25, 0.25] };
        Assert.Equal(2, skip.PhaseAt(0.5));
        Assert.Equal(3, new SandwichOptions().PhaseAt(0)); // the sandwich rule: the whole space from the start
        Assert.Equal(ElasticDimensions.None, SandwichOptions.Elastic(0));
        Assert.Equal(ElasticDimensions.Kernel, SandwichOptions.Elastic(1));
        Assert.Equal(ElasticDimensions.Kernel | ElasticDimensions.Depth, SandwichOptions.Elastic(2));
        Assert.Equal(ElasticDimensions.All, SandwichOptions.Elastic(3));
    }

    [Fact]
    public void Restricted_samples_keep_the_dimensions_not_yet_elastic_at_their_maximum()
    {
        using var net = new PlainCnnSupernet(SmallFamily, new TensorShape(1, 12, 12), 4, seed: 1);
        var rng = new Random(2);
        var kernels = new HashSet<int>();
        for (int i = 0; i < 40; i++)
        {
            var d = net.Sample(rng, ElasticDimensions.Kernel);
            Assert.Equal(16, d.GetInt("arch.s1.channels"));
            Assert.Equal(2, d.GetInt("arch.s2.layers"));
            kernels.Add(d.GetInt("arch.s1.kernel"));
            var none = net.Sample(rng, ElasticDimensions.None);
            Assert.Equal(5, none.GetInt("arch.s2.kernel"));
        }
        Assert.Equal([3, 5], kernels.Order());
        var small = net.Extreme(largest: false, rng, ElasticDimensions.Kernel | ElasticDimensions.Depth);
        Assert.Equal(3, small.GetInt("arch.s1.kernel"));
        Assert.Equal(1, small.GetInt("arch.s1.layers"));
        Assert.Equal(16, small.GetInt("arch.s1.channels"));
    }

    [Fact]
    public void Reordering_channels_keeps_the_largest_network_and_sorts_filters_by_importance()
    {
        using var net = new PlainCnnSupernet(SmallFamily, new TensorShape(1, 12, 12), 4, seed: 1);
        Scramble(net);
        using var batch = randn([6, 1, 12, 12], generator: new Generator(5));
        foreach (var design in new[] { SmallDesign(2, 16, 5, "yes", "max"), SmallDesign(2, 16, 5, "no", "avg") })
        {
            net.Activate(design);
            net.Recalibrate([batch]);
            net.eval();
            using var before = net.forward(batch);
            Assert.Equal(2, net.ReorderChannels());
            net.Recalibrate([batch]);
            net.eval();
            using var after = net.forward(batch);
            Assert.True(before.allclose(after, rtol: 1e-4, atol: 1e-4), $"max difference {(before - after).abs().max().item<float>()}");
        }
        // Per stage, the summed L1 norms of the output filters are now descending.
        var first = net.named_parameters().Where(p => p.name.StartsWith("s1_l", StringComparison.Ordinal) && p.name.EndsWith("_weight", StringComparison.Ordinal) && !p.name.Contains("_bn_"))
            .Select(p => p.parameter.abs().sum([1L, 2L, 3L])).Aggregate((a, b) => a + b).data<float>().ToArray();
        for (int i = 1; i < first.Length; i++) Assert.True(first[i - 1] >= first[i], $"channel {i} is more important than channel {i - 1}");
    }

    [Fact]
    public void Independent_kernels_give_each_kernel_size_its_own_weights_and_survive_reordering()
    {
        using var net = new PlainCnnSupernet(SmallFamily, new TensorShape(1, 12, 12), 4, seed: 1, independentKernels: true);
        var names = net.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("s1_l1_k3_weight", names);
        Assert.Contains("s1_l1_k5_weight", names);
        Assert.DoesNotContain("s1_l1_weight", names);
        Assert.Equal([16, 1, 3, 3], net.named_parameters().Single(p => p.name == "s1_l1_k3_weight").parameter.shape);
        Scramble(net);
        using var batch = randn([6, 1, 12, 12], generator: new Generator(5));
        var rng = new Random(7);
        var designs = new[] { SmallDesign(1, 4, 3), SmallDesign(2, 16, 3, "yes", "avg"), SmallDesign(2, 8, 5, "yes", "max"), SmallSpace.Sample(rng), SmallSpace.Sample(rng) };
        foreach (var design in designs)
        {
            net.Activate(design);
            AssertCopyMatches(net, Lower(design), batch);
        }
        // A 3×3 sub-network runs on its own tensor, not on the centre of the 5×5 one.
        net.Activate(SmallDesign(1, 16, 3));
        var active = net.ActiveTensors().Single(t => t.Name == "s1_conv1.weight").Tensor;
        var five = net.named_parameters().Single(p => p.name == "s1_l1_k5_weight").parameter;
        Assert.True(active.allclose(net.named_parameters().Single(p => p.name == "s1_l1_k3_weight").parameter, rtol: 0, atol: 0));
        Assert.False(active.allclose(five.narrow(2, 1, 3).narrow(3, 1, 3)));
        // Sorting channels permutes every kernel size's tensor alike: full-width networks of either kernel compute the same.
        var wide = new[] { SmallDesign(2, 16, 3, "yes", "max"), SmallDesign(2, 16, 5, "no", "avg") };
        var before = new List<Tensor>();
        foreach (var design in wide)
        {
            net.Activate(design);
            net.Recalibrate([batch]);
            net.eval();
            before.Add(net.forward(batch));
        }
        Assert.Equal(2, net.ReorderChannels());
        for (int i = 0; i < wide.Length; i++)
        {
            net.Activate(wide[i]);
            net.Recalibrate([batch]);
            net.eval();
            using var after = net.forward(batch);
            Assert.True(before[i].allclose(after, rtol: 1e-4, atol: 1e-4), $"kernel {wide[i].GetInt("arch.s1.kernel")}: max difference {(before[i] - after).abs().max().item<float>()}");
        }
        foreach (var design in designs)
        {
            net.Activate(design);
            AssertCopyMatches(net, Lower(design), batch);
        }
    }

    [Fact]
    public void Sub_networks_inherit_exactly_after_channels_are_reordered()
    {
        using var net = new PlainCnnSupernet(SmallFamily, new TensorShape(1, 12, 12), 4, seed: 1);
        Scramble(net);
        net.ReorderChannels();
        var rng = new Random(7);
        using var batch = randn([6, 1, 12, 12], generator: new Generator(5));
        foreach (var design in new[] { SmallDesign(1, 4, 3), SmallDesign(2, 8, 5, "yes", "avg"), SmallSpace.Sample(rng) })
        {
            net.Activate(design);
            AssertCopyMatches(net, Lower(design), batch);
        }

        using var mobile = new MobileNetV2Supernet(SupernetTests.SmallMobile, new TensorShape(1, 12, 12), 4, seed: 1);
        Scramble(mobile);
        var big = mobile.Extreme(true, rng);
        mobile.Activate(big);
        mobile.Recalibrate([batch]);
        mobile.eval();
        using var before = mobile.forward(batch);
        Assert.True(mobile.ReorderChannels() > 0);
        var space = new Tandem.Core.Spaces.DesignSpace(SupernetTests.SmallMobile.Parameters);
        mobile.Activate(big);
        mobile.Recalibrate([batch]);
        mobile.eval();
        using var after = mobile.forward(batch);
        Assert.True(before.allclose(after, rtol: 1e-4, atol: 1e-4), $"MobileNetV2 largest network changed by {(before - after).abs().max().item<float>()}");
        foreach (var design in new[] { mobile.Extreme(false, rng), space.Sample(rng) })
        {
            mobile.Activate(design);
            AssertCopyMatches(mobile, SupernetTests.SmallMobile.Lower(design, new TensorShape(1, 12, 12), 4), batch);
        }
    }

    /// <summary>Every parameter of <paramref name="net"/>, flattened in order.</summary>
    private static float[] Weights(nn.Module net) => [.. net.parameters().SelectMany(p => p.data<float>().ToArray())];

    /// <summary>400 training and 200 validation images of the synthetic dataset (tensors in the caller's dispose scope).</summary>
    private static TrainingData SmallTrainingData()
    {
        var dataset = DatasetCache.Get(Synthetic);
        var split = DataSplit.Create(dataset.TrainCount, 200, 400, seed: 1);
        var vi = dataset.TrainImages.index_select(0, tensor(split.Validation));
        var vl = dataset.TrainLabels.index_select(0, tensor(split.Validation));
        return new TrainingData(dataset, split.Train, vi, vl, Augmentation.None);
    }

    [Fact]
    public void Progressive_training_is_deterministic_and_sorts_channels_between_phases()
    {
        using var scope = NewDisposeScope();
        var data = SmallTrainingData();
        var options = new TrainingOptions { Budget = new TrainingBudget { Steps = 8 }, BatchSize = 32, LearningRate = 0.05 };
        var recipe = new SandwichOptions { Schedule = SupernetSchedule.Progressive, PhaseFractions = [0.25, 0.25, 0.25, 0.25], ReorderChannels = true, RandomSubnets = 1 };
        float[] Run(out SupernetTrainingOutcome outcome)
        {
            using var net = new PlainCnnSupernet(SmallFamily, new TensorShape(1, 12, 12), 4, seed: 1);
            outcome = SupernetTrainer.Train(net, data, options, recipe, seed: 3, TimeProvider.System, TestContext.Current.CancellationToken);
            return Weights(net);
        }
        var a = Run(out var first);
        var b = Run(out _);
        Assert.Equal(a, b);
        Assert.Equal(8, first.Steps);
        Assert.Equal(3, first.Reorders);
    }

    [Fact]
    public void Uniform_single_path_training_is_deterministic_and_differs_from_the_sandwich_rule()
    {
        using var scope = NewDisposeScope();
        var data = SmallTrainingData();
        var options = new TrainingOptions { Budget = new TrainingBudget { Steps = 6 }, BatchSize = 32, LearningRate = 0.05 };
        float[] Run(SandwichOptions recipe)
        {
            using var net = new PlainCnnSupernet(SmallFamily, new TensorShape(1, 12, 12), 4, seed: 1);
            var outcome = SupernetTrainer.Train(net, data, options, recipe, seed: 3, TimeProvider.System, TestContext.Current.CancellationToken);
            Assert.Equal(6, outcome.Steps);
            return Weights(net);
        }
        float[] initial;
        using (var fresh = new PlainCnnSupernet(SmallFamily, new TensorShape(1, 12, 12), 4, seed: 1))
            initial = Weights(fresh);
        var uniform = new SandwichOptions { Schedule = SupernetSchedule.Uniform, RandomSubnets = 2 };
        var a = Run(uniform);
        Assert.Equal(a, Run(uniform));
        Assert.NotEqual(initial, a);
        Assert.NotEqual(a, Run(new SandwichOptions { RandomSubnets = 2 }));
        Assert.Equal(3, uniform.PhaseAt(0)); // the whole space from the first step
        Assert.Throws<ConfigException>(() => (uniform with { RandomSubnets = 0 }).Validate());
    }

    [Fact]
    public void Weight_averaging_hands_over_the_moving_average_of_every_step()
    {
        using var scope = NewDisposeScope();
        var data = SmallTrainingData();
        // A constant learning rate makes the first k steps of any budget the same, so the weights after
        // each step come from trainings of 1 … 6 steps and the average is recomputed by hand.
        var options = new TrainingOptions { Budget = new TrainingBudget { Steps = 6 }, BatchSize = 32, LearningRate = 0.05, Schedule = LearningRateSchedule.Constant };
        var recipe = new SandwichOptions { Schedule = SupernetSchedule.Uniform, RandomSubnets = 1 };
        float[] Run(SandwichOptions r, long steps)
        {
            using var net = new PlainCnnSupernet(SmallFamily, new TensorShape(1, 12, 12), 4, seed: 1);
            SupernetTrainer.Train(net, data, options with { Budget = new TrainingBudget { Steps = steps } }, r, seed: 3, TimeProvider.System, TestContext.Current.CancellationToken);
            return Weights(net);
        }
        const double decay = 0.6;
        double[] expected;
        using (var fresh = new PlainCnnSupernet(SmallFamily, new TensorShape(1, 12, 12), 4, seed: 1))
            expected = [.. Weights(fresh).Select(w => (double)w)];
        for (long t = 0; t < 6; t++)
        {
            var after = Run(recipe, t + 1);
            double d = Math.Min(decay, (1.0 + t) / (10.0 + t));
            for (int i = 0; i < expected.Length; i++) expected[i] = d * expected[i] + (1 - d) * after[i];
        }
        var plain = Run(recipe, 6);
        var averaged = Run(recipe with { EmaDecay = decay }, 6);
        Assert.Equal(expected.Length, averaged.Length);
        double worst = expected.Zip(averaged, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst < 1e-5, $"largest difference from the hand-computed average: {worst}");
        Assert.True(plain.Zip(averaged, (p, a) => Math.Abs(p - a)).Max() > 1e-3); // the average is not the last weights
        Assert.Contains(" ema 0.6", (recipe with { EmaDecay = decay }).Identity());
        Assert.DoesNotContain("ema", recipe.Identity()); // earlier cache keys stay valid
        Assert.Throws<ConfigException>(() => (recipe with { EmaDecay = 1 }).Validate());
    }

    [Fact]
    public void Bad_supernet_options_are_clear_config_errors()
    {
        var registry = TorchComponents.Register(new AccuracyEvaluatorRegistry());
        void Bad(string expected, params (string, object)[] entries)
        {
            var e = Assert.Throws<ConfigException>(() => registry.Create("supernet", Config([("dataset", "synthetic"), .. entries]), Environment()));
            Assert.Contains(expected, e.Message);
        }
        Bad("did you mean 'progressive'", ("shrinking", "progresive"));
        Bad("4 non-negative fractions", ("shrinking", "progressive"), ("phases", "0.5/0.5"));
        Bad("not a fraction", ("phases", "0.2/x/0.2/0.2"));
        Bad("positive sum", ("phases", "0/0/0/0"));
        Bad("needs shrinking: progressive", ("reorder_channels", true));
        Bad("random_subnets must be at least 1", ("shrinking", "uniform"), ("random_subnets", 0));
        Bad("out of range", ("finetune_steps", -1));
        Bad("out of range", ("finetune_lr", 0));
        Bad("did you mean 'finetune_steps'", ("finetune_step", 10));
        Bad("out of range", ("ema", 1));
        Bad("did you mean 'independent'", ("kernel_weights", "independant"));
        var mobile = Assert.Throws<ConfigException>(() => registry.Create("supernet", Config(("dataset", "synthetic"), ("kernel_weights", "independent")),
            Environment(SupernetTests.SmallMobile)));
        Assert.Contains("plain-cnn family only", mobile.Message);

        var ok = SupernetEvaluatorOptions.Bind(Config(("dataset", "synthetic"), ("shrinking", "progressive"), ("phases", "0.1,0.2,0.3,0.4"), ("reorder_channels", true), ("finetune_steps", 20)),
            Environment());
        Assert.Equal(SupernetSchedule.Progressive, ok.Sandwich.Schedule);
        Assert.Equal([0.1, 0.2, 0.3, 0.4], ok.Sandwich.PhaseFractions);
        Assert.True(ok.Sandwich.ReorderChannels);
        Assert.Equal(20, ok.FinetuneSteps);
    }

    [Fact]
    public async Task Fine_tuning_each_sub_network_is_deterministic_and_counted_in_its_seconds()
    {
        using var cache = new Tandem.Testing.TempDirectory();
        var registry = TorchComponents.Register(new AccuracyEvaluatorRegistry());
        var config = Config(("dataset", "synthetic"), ("epochs", 1), ("train_samples", 400), ("validation_samples", 200), ("batch_size", 32),
            ("calibration_samples", 128), ("cache", cache.Path), ("finetune_steps", 5));
        var design = SmallDesign(2, 8, 3);
        var eval = registry.Create("supernet", config, Environment());
        var first = await eval.EvaluateAsync(Request(design), TestContext.Current.CancellationToken); // trains the supernet
        var a = await eval.EvaluateAsync(Request(design), TestContext.Current.CancellationToken);
        var b = await eval.EvaluateAsync(Request(design), TestContext.Current.CancellationToken);
        Assert.Equal(a.Metrics["accuracy"], b.Metrics["accuracy"]);
        Assert.Equal(first.Metrics["accuracy"], a.Metrics["accuracy"]); // fine-tuning a copy leaves the shared weights alone
        Assert.Equal("5", a.Attributes["finetune_steps"]);
        Assert.True(a.Seconds >= double.Parse(a.Attributes["finetune_seconds"], System.Globalization.CultureInfo.InvariantCulture) - 0.01);
        Assert.True(a.Epochs > 0);
        (eval as IDisposable)?.Dispose();
    }

    /// <summary>Gives every channel a different scale, so sorting really permutes them.</summary>
    private static void Scramble(Tandem.Torch.Supernet.Supernet net)
    {
        using var noGrad = no_grad();
        var g = new Generator(11);
        foreach (var p in net.parameters())
        {
            if (p.dim() == 4) p.mul_(rand([p.shape[0], 1, 1, 1], generator: g) * 2 + 0.1);
            else if (p.dim() == 1) p.add_(randn(p.shape, generator: g) * 0.3);
        }
    }

    private static void AssertCopyMatches(Tandem.Torch.Supernet.Supernet net, Workload network, Tensor batch)
    {
        using var module = new WorkloadModule(network, 99);
        net.Recalibrate([batch]);
        net.CopyActiveInto(module);
        net.eval();
        module.eval();
        using var a = net.forward(batch);
        using var b = module.forward(batch);
        Assert.True(a.allclose(b, rtol: 1e-4, atol: 1e-4), $"max difference {(a - b).abs().max().item<float>()}");
    }
}
