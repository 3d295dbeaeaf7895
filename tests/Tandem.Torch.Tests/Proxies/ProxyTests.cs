using Tandem.Core.Accuracy;
using Tandem.Torch.Proxies;
using static Tandem.Torch.Tests.TestSupport;

namespace Tandem.Torch.Tests.Proxies;

public sealed class ProxyTests
{
    public static TheoryData<string> Names => new(ZeroCostProxies.Names);

    private static IAccuracyEvaluator Create(string proxy) =>
        TorchComponents.Register(new AccuracyEvaluatorRegistry())
            .Create(proxy, Config(("dataset", "synthetic"), ("validation_samples", 300), ("batch_size", 32)), Environment());

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Proxy_scores_are_finite_and_deterministic(string proxy)
    {
        var eval = Create(proxy);
        Assert.Equal(proxy, eval.Fidelity);
        Assert.Equal([proxy], eval.MetricNames);
        var d = SmallDesign(2, 8, 3, "yes");
        var a = await eval.EvaluateAsync(Request(d, seed: 4), TestContext.Current.CancellationToken);
        var b = await eval.EvaluateAsync(Request(d, seed: 4), TestContext.Current.CancellationToken);
        Assert.True(double.IsFinite(a.Metrics[proxy]), $"{proxy} = {a.Metrics[proxy]}");
        Assert.Equal(a.Metrics[proxy], b.Metrics[proxy]);
        Assert.Equal(0, a.Epochs);
        Assert.True(a.Seconds >= 0);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Proxy_scores_differ_between_small_and_wide_networks(string proxy)
    {
        var eval = Create(proxy);
        var small = await eval.EvaluateAsync(Request(SmallDesign(1, 4, 3), seed: 4), TestContext.Current.CancellationToken);
        var wide = await eval.EvaluateAsync(Request(SmallDesign(2, 16, 5), seed: 4), TestContext.Current.CancellationToken);
        Assert.NotEqual(small.Metrics[proxy], wide.Metrics[proxy]);
        if (proxy is "synflow" or "naswot") Assert.True(wide.Metrics[proxy] > small.Metrics[proxy], $"{proxy}: wide {wide.Metrics[proxy]} vs small {small.Metrics[proxy]}");
    }
}
