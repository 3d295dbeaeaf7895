using Tandem.Core.Accuracy;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Workloads;
using Tandem.Testing;
using Tandem.Torch.Measurements;
using Tandem.Torch.Modules;
using Tandem.Torch.Supernet;
using TorchSharp;
using static Tandem.Torch.Tests.TestSupport;
using static TorchSharp.torch;

namespace Tandem.Torch.Tests.Supernet;

public sealed class SupernetTests
{
    internal static readonly MobileNetV2Family SmallMobile = new(new MobileNetV2Options
    {
        StemChannels = 8, Widths = [[8, 12], [12, 16]], Strides = [1, 2], Depths = [1, 2], Kernels = [3, 5], Expansions = [2, 3], HeadChannels = 32,
    });

    /// <summary>Copies the active sub-network's sliced tensors into a standalone module of the lowered design.</summary>
    private static void Inherit(Tandem.Torch.Supernet.Supernet net, WorkloadModule target)
    {
        var mine = target.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(target.named_buffers()).ToDictionary(p => p.Item1, p => p.Item2);
        var active = net.ActiveTensors().ToList();
        Assert.Equal(mine.Keys.Order(), active.Select(a => a.Name).Order());
        using var noGrad = no_grad();
        foreach (var (name, t) in active)
        {
            Assert.Equal(mine[name].shape, t.shape);
            mine[name].copy_(t);
        }
    }

    private static void AssertSameOutputs(Tandem.Torch.Supernet.Supernet net, Workload network, long[] inputShape)
    {
        using var module = new WorkloadModule(network, 99);
        using var batch = randn(inputShape, generator: new Generator(5));
        net.Recalibrate([batch]);
        Inherit(net, module);
        net.eval();
        module.eval();
        using var a = net.forward(batch);
        using var b = module.forward(batch);
        Assert.True(a.allclose(b, rtol: 1e-4, atol: 1e-4), $"max difference {(a - b).abs().max().item<float>()}");
    }

    [Fact]
    public void Plain_cnn_sub_networks_inherit_exactly_the_supernet_weights()
    {
        using var net = new PlainCnnSupernet(SmallFamily, new TensorShape(1, 12, 12), 4, seed: 1);
        var rng = new Random(3);
        foreach (var design in new[] { SmallDesign(1, 4, 3), SmallDesign(2, 16, 5, "yes", "avg"), SmallSpace.Sample(rng), SmallSpace.Sample(rng) })
        {
            net.Activate(design);
            AssertSameOutputs(net, Lower(design), [6, 1, 12, 12]);
        }
    }

    [Fact]
    public void MobileNetV2_sub_networks_inherit_exactly_the_supernet_weights()
    {
        using var net = new MobileNetV2Supernet(SmallMobile, new TensorShape(1, 12, 12), 4, seed: 1);
        var space = new DesignSpace(SmallMobile.Parameters);
        var rng = new Random(4);
        foreach (var design in new[] { net.Extreme(true, rng), net.Extreme(false, rng), space.Sample(rng), space.Sample(rng) })
        {
            net.Activate(design);
            var w = SmallMobile.Lower(design, new TensorShape(1, 12, 12), 4);
            AssertSameOutputs(net, w, [6, 1, 12, 12]);
        }
    }

    [Fact]
    public void Largest_and_smallest_take_the_extremes_of_every_ordinal_parameter()
    {
        using var net = new PlainCnnSupernet(SmallFamily, new TensorShape(1, 12, 12), 4, seed: 1);
        var rng = new Random(1);
        var big = net.Extreme(true, rng);
        var small = net.Extreme(false, rng);
        Assert.Equal(16, big.GetInt("arch.s2.channels"));
        Assert.Equal(2, big.GetInt("arch.s1.layers"));
        Assert.Equal(4, small.GetInt("arch.s2.channels"));
        Assert.Equal(3, small.GetInt("arch.s1.kernel"));
    }

    [Fact]
    public async Task Supernet_evaluator_trains_once_ranks_sub_networks_and_reuses_its_cache()
    {
        using var cache = new TempDirectory();
        var registry = TorchComponents.Register(new AccuracyEvaluatorRegistry());
        var config = Config(("dataset", "synthetic"), ("epochs", 3), ("train_samples", 800), ("validation_samples", 300), ("batch_size", 32),
            ("calibration_samples", 256), ("cache", cache.Path));
        var eval = registry.Create("supernet", config, Environment());
        Assert.Equal("supernet", eval.Fidelity);
        var big = SmallDesign(2, 16, 3);
        var r1 = await eval.EvaluateAsync(Request(big), TestContext.Current.CancellationToken);
        var r2 = await eval.EvaluateAsync(Request(SmallDesign(1, 8, 5)), TestContext.Current.CancellationToken);
        Assert.Equal("yes", r1.Attributes["supernet_trained_in_this_trial"]);
        Assert.Equal("no", r2.Attributes["supernet_trained_in_this_trial"]);
        Assert.True(r1.Metrics["accuracy"] > 60, $"largest sub-network accuracy {r1.Metrics["accuracy"]} %");
        Assert.True(r2.Metrics["accuracy"] > 40, $"small sub-network accuracy {r2.Metrics["accuracy"]} %");
        Assert.True(r1.Seconds > r2.Seconds); // the first one paid for training

        var again = registry.Create("supernet", config, Environment());
        var r3 = await again.EvaluateAsync(Request(big), TestContext.Current.CancellationToken);
        Assert.StartsWith("loaded from", r3.Attributes["supernet"]);
        Assert.Equal("no", r3.Attributes["supernet_trained_in_this_trial"]); // loading is not training
        Assert.Equal(r1.Attributes["supernet_train_seconds"], r3.Attributes["supernet_train_seconds"]);
        Assert.Equal(r1.Metrics["accuracy"], r3.Metrics["accuracy"]);
        // The other metrics: log-likelihood of the true class (better than chance for the largest
        // network; −ln 4 for four equally likely classes) and the angle to the initial weights, which a
        // supernet loaded from the cache measures against the same rebuilt initialisation.
        Assert.Equal(["accuracy", "log_likelihood", "weight_angle"], eval.MetricNames);
        Assert.True(r1.Metrics["log_likelihood"] > -Math.Log(4), $"log-likelihood {r1.Metrics["log_likelihood"]}");
        Assert.True(r1.Metrics["log_likelihood"] < 0);
        Assert.InRange(r1.Metrics["weight_angle"], 0.01, Math.PI / 2);
        Assert.Equal(r1.Metrics["weight_angle"], r3.Metrics["weight_angle"], 12);
        Assert.Equal(r1.Metrics["log_likelihood"], r3.Metrics["log_likelihood"], 12);
        (eval as IDisposable)?.Dispose();
        (again as IDisposable)?.Dispose();
    }

    /// <summary>
    /// <c>proxy: naswot</c>: each design also gets its NASWOT score — the naswot fidelity's score of the
    /// same request — and <c>combined</c>, its log-likelihood and NASWOT score each standardised over
    /// <c>proxy_designs</c> random designs drawn from the study seed. The test redraws those designs (FidelityComparison.SampleDesigns),
    /// scores them with a supernet evaluator without the proxy (same cached weights) and the naswot
    /// fidelity (weights from the study seed), and recomputes the sum. Fine-tuning with a proxy is refused.
    /// </summary>
    [Fact]
    public async Task Supernet_proxy_combines_standardised_log_likelihood_and_proxy_scores()
    {
        using var cache = new TempDirectory();
        var registry = TorchComponents.Register(new AccuracyEvaluatorRegistry());
        (string, object)[] common = [("dataset", "synthetic"), ("epochs", 2), ("train_samples", 600), ("validation_samples", 300), ("batch_size", 32),
            ("calibration_samples", 128), ("cache", cache.Path)];
        var ct = TestContext.Current.CancellationToken;
        var combined = registry.Create("supernet", Config([.. common, ("proxy", "naswot"), ("proxy_designs", 5), ("proxy_weight", 0.5)]), Environment());
        Assert.Equal(["accuracy", "log_likelihood", "weight_angle", "naswot", "combined"], combined.MetricNames);
        var design = SmallDesign(2, 8, 5, "yes");
        var result = await combined.EvaluateAsync(Request(design), ct);

        var plain = registry.Create("supernet", Config(common), Environment());
        var naswot = registry.Create("naswot", Config(("dataset", "synthetic"), ("validation_samples", 300)), Environment());
        Assert.Equal(result.Metrics["log_likelihood"], (await plain.EvaluateAsync(Request(design), ct)).Metrics["log_likelihood"], 12);
        Assert.Equal(result.Metrics["naswot"], (await naswot.EvaluateAsync(Request(design), ct)).Metrics["naswot"], 12);

        var lls = new List<double>();
        var scores = new List<double>();
        foreach (var d in FidelityComparison.SampleDesigns(Environment().Family, 5, seed: 1)) // the study seed of Environment()
        {
            lls.Add((await plain.EvaluateAsync(Request(d), ct)).Metrics["log_likelihood"]);
            scores.Add((await naswot.EvaluateAsync(Request(d, seed: 1), ct)).Metrics["naswot"]);
        }
        static double Z(double v, List<double> all)
        {
            double mean = all.Average();
            return (v - mean) / Math.Sqrt(all.Sum(x => (x - mean) * (x - mean)) / (all.Count - 1));
        }
        Assert.Equal(Z(result.Metrics["log_likelihood"], lls) + 0.5 * Z(result.Metrics["naswot"], scores), result.Metrics["combined"], 9);
        Assert.Contains("5 random designs", result.Attributes["combined_standards"]);

        var e = Assert.Throws<Tandem.Core.Configuration.ConfigException>(() =>
            registry.Create("supernet", Config([.. common, ("proxy", "naswot"), ("finetune_steps", 10)]), Environment()));
        Assert.Contains("finetune_steps: 0", e.Message);
        foreach (var ev in new[] { combined, plain }) (ev as IDisposable)?.Dispose();
    }

    [Fact]
    public void Supernet_evaluator_rejects_zero_budgets()
    {
        var registry = TorchComponents.Register(new AccuracyEvaluatorRegistry());
        Assert.Throws<Tandem.Core.Configuration.ConfigException>(() =>
            registry.Create("supernet", Config(("dataset", "synthetic"), ("epochs", 0)), Environment()));
    }
}
