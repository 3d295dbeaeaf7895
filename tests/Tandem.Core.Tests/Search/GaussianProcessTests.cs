using Tandem.Core.Spaces;
using Tandem.Core.Search.Strategies;

namespace Tandem.Core.Tests.Search;

public class GaussianProcessTests
{
    private static readonly DesignSpace Space = new([new FloatParameter("x", 0, 1)]);

    /// <summary>
    /// Outputs whose top quarter is crowded into a sliver of the range (like NAS-Bench-201's accuracies near
    /// 94 %), with a little deterministic jitter so that the GP needs some noise.
    /// </summary>
    private static GaussianProcess Fitted(bool rawNoise, double minNoise = 1e-6)
    {
        var gp = new GaussianProcess(Space, minNoise: minNoise, rawNoise: rawNoise);
        for (int i = 0; i < 80; i++)
        {
            double x = i / 79.0;
            double y = x < 0.75 ? 10 * x : 7.5 + 0.2 * (x - 0.75);
            y += 0.01 * Math.Sin(37 * i);
            gp.Add([x], y);
        }
        gp.Fit();
        return gp;
    }

    [Fact]
    public void Raw_unit_noise_is_larger_where_the_rank_warp_stretches_the_outputs()
    {
        var gp = Fitted(rawNoise: true);
        double bulk = gp.NoiseVarianceAt(gp.Warp(3.0)), top = gp.NoiseVarianceAt(gp.Warp(7.52));
        // The crowded top is spread by the warp about 50 times more per unit than the bulk: its noise,
        // the same in output units, is larger in the warped scale (factor clamped at 100).
        Assert.True(top > 10 * bulk, $"top {top} vs bulk {bulk}");
        Assert.InRange(bulk, gp.NoiseVariance / 100, gp.NoiseVariance * 100);
    }

    [Fact]
    public void Warped_noise_is_the_same_everywhere()
    {
        var gp = Fitted(rawNoise: false);
        Assert.Equal(gp.NoiseVariance, gp.NoiseVarianceAt(gp.Warp(3.0)));
        Assert.Equal(gp.NoiseVariance, gp.NoiseVarianceAt(gp.Warp(7.52)));
    }

    [Fact]
    public void The_fitted_noise_never_falls_below_the_floor()
    {
        Assert.True(Fitted(rawNoise: false).NoiseVariance < 0.05);
        Assert.True(Fitted(rawNoise: false, minNoise: 0.05).NoiseVariance >= 0.05 * (1 - 1e-12));
    }

    /// <summary>
    /// Cached means equal uncached ones to the last bit through everything that changes the model:
    /// inputs added one by one, refits (new hyperparameters), fantasies removed again and replaced by
    /// other inputs (kriging believer) — also for inputs not predicted between the removal and the new
    /// inputs — on a mixed space; and an input first seen late is right too.
    /// </summary>
    [Fact]
    public void Cached_means_are_the_uncached_means_through_adds_fits_and_removals()
    {
        var space = new DesignSpace([new CategoricalParameter("c", ["a", "b", "c", "d"]), new FloatParameter("x", 0, 1)]);
        var rng = new Random(3);
        double[] Input() => [rng.Next(4), rng.NextDouble()];
        double F(double[] x) => Math.Sin(3 * x[1]) + 0.5 * x[0] + 0.05 * rng.NextDouble();
        var gp = new GaussianProcess(space);
        var probes = Enumerable.Range(0, 40).Select(_ => Input()).ToArray();
        void Check(IEnumerable<double[]> xs)
        {
            foreach (var x in xs) Assert.Equal(gp.PredictMean(x), gp.PredictMeanCached(x));
        }
        Assert.Equal(0, gp.PredictMeanCached(probes[0]));
        for (int i = 0; i < 30; i++)
        {
            var x = Input();
            gp.Add(x, F(x));
            if (i % 7 == 6) gp.Fit();
            Check(probes.Take(30));
        }
        // Fantasies: add three, predict, remove them, add two different ones.
        for (int round = 0; round < 3; round++)
        {
            for (int k = 0; k < 3; k++) { var x = Input(); gp.Add(x, F(x)); }
            Check(probes.Take(30));
            gp.RemoveLast(3);
            Check(probes.Take(20)); // probes 20–29 keep rows that still cover the removed fantasies
            for (int k = 0; k < 2; k++) { var x = Input(); gp.Add(x, F(x)); }
            Check(probes.Take(30));
        }
        gp.Fit();
        Check(probes);
    }

    /// <summary>A derived feature: the choice index of parameter "c" divided by 4, ordered or categorical.</summary>
    private sealed class ChoiceFeature(bool ordered) : IDesignFeatures
    {
        public IReadOnlyList<string> Names { get; } = ["c_position"];
        public void Compute(Design design, Span<double> destination) => destination[0] = ordered ? design[0] / 4 : design[0];
        public bool IsCategorical(int index) => !ordered;
    }

    /// <summary>
    /// Told y = choice index at choices 0, 2 and 4, a GP whose derived feature is ordered predicts the
    /// unseen choice 1 below the unseen choice 3 (it interpolates along the feature); with the same
    /// feature categorical both unseen choices mismatch everything alike and get the same prediction.
    /// </summary>
    [Fact]
    public void Ordered_derived_features_are_compared_by_distance()
    {
        var space = new DesignSpace([new CategoricalParameter("c", ["a", "b", "c", "d", "e"])]);
        (double One, double Three) Predictions(bool ordered)
        {
            var features = new ChoiceFeature(ordered);
            var gp = new GaussianProcess(space, features);
            foreach (int c in new[] { 0, 2, 4 }) gp.Add(GaussianProcess.Encode(space.Create([c]), features), c);
            gp.Fit();
            return (gp.Predict(GaussianProcess.Encode(space.Create([1]), features)).Mean, gp.Predict(GaussianProcess.Encode(space.Create([3]), features)).Mean);
        }
        var (one, three) = Predictions(ordered: true);
        Assert.True(three - one > 0.5, $"ordered: choice 1 → {one}, choice 3 → {three} (warped)");
        (one, three) = Predictions(ordered: false);
        Assert.Equal(one, three, 12);
    }
    /// <summary>Two ordered features that always agree (t, t), in one length-scale group.</summary>
    private sealed class TwinFeatures : IDesignFeatures
    {
        public IReadOnlyList<string> Names { get; } = ["t1", "t2"];
        public void Compute(Design design, Span<double> destination) => destination[0] = destination[1] = design[0] / 8;
        public bool IsCategorical(int index) => false;
        public string? Group(int index) => "twins";
    }

    /// <summary>One ordered feature √2·t: the Euclidean length of (t, t).</summary>
    private sealed class DiagonalFeature : IDesignFeatures
    {
        public IReadOnlyList<string> Names { get; } = ["t"];
        public void Compute(Design design, Span<double> destination) => destination[0] = Math.Sqrt(2) * design[0] / 8;
        public bool IsCategorical(int index) => false;
    }

    /// <summary>Two ordered features of a choice c, (c/8, (5c mod 9)/8), optionally rotated by 30° about (½, ½); grouped or not.</summary>
    private sealed class PlaneFeatures(bool grouped, bool rotated) : IDesignFeatures
    {
        public IReadOnlyList<string> Names { get; } = ["u", "v"];
        public void Compute(Design design, Span<double> destination)
        {
            double u = design[0] / 8 - 0.5, v = design[0] * 5 % 9 / 8 - 0.5;
            double a = rotated ? Math.PI / 6 : 0;
            destination[0] = 0.5 + Math.Cos(a) * u - Math.Sin(a) * v;
            destination[1] = 0.5 + Math.Sin(a) * u + Math.Cos(a) * v;
        }
        public bool IsCategorical(int index) => false;
        public string? Group(int index) => grouped ? "plane" : null;
    }

    /// <summary>
    /// Features of one group share one length scale over their joint Euclidean distance. A GP that sees
    /// (t, t) as one group is the GP that sees the single feature √2·t (same fit, same predictions, up to
    /// rounding), in the likelihood (pairwise distances) and in predictions (kernel) alike; and a grouped
    /// GP does not change when its features are rotated, while one length scale per feature does.
    /// </summary>
    [Fact]
    public void Grouped_features_share_one_length_scale_over_their_euclidean_distance()
    {
        var space = new DesignSpace([new CategoricalParameter("c", ["0", "1", "2", "3", "4", "5", "6", "7", "8"])]);
        double[] wiggle = [0.3, -0.2, 0.1, 0.25, -0.3];
        double[] Predictions(IDesignFeatures features)
        {
            var gp = new GaussianProcess(space, features, withParameters: false);
            int k = 0;
            foreach (int c in new[] { 0, 2, 3, 5, 8 }) gp.Add(GaussianProcess.Encode(space.Create([c]), features), Math.Sin(c) + wiggle[k++]);
            gp.Fit();
            return new[] { 1, 4, 6, 7 }.SelectMany(c =>
            {
                var (mean, std) = gp.Predict(GaussianProcess.Encode(space.Create([c]), features));
                return new[] { mean, std };
            }).ToArray();
        }
        static double MaxDifference(double[] a, double[] b) => a.Zip(b).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(MaxDifference(Predictions(new DiagonalFeature()), Predictions(new TwinFeatures())) < 1e-9);
        Assert.True(MaxDifference(Predictions(new PlaneFeatures(true, false)), Predictions(new PlaneFeatures(true, true))) < 1e-9);
        Assert.True(MaxDifference(Predictions(new PlaneFeatures(false, false)), Predictions(new PlaneFeatures(false, true))) > 1e-3, "per-feature length scales are rotation-invariant");
    }

    /// <summary>
    /// Without the design's parameters (<c>withParameters: false</c>) a GP sees only the derived
    /// features: designs with equal features are one input, so a parameter that only adds noise cannot
    /// be fitted. Told y = c + a noise pattern in an irrelevant parameter d, it predicts the same for
    /// every d of a c, near the mean of that c's observations, where the GP that also sees d predicts
    /// different values; it needs features to model.
    /// </summary>
    [Fact]
    public void A_model_without_parameters_treats_equal_features_as_repeated_measurements()
    {
        var space = new DesignSpace([new CategoricalParameter("c", ["a", "b", "c", "d", "e"]), new CategoricalParameter("d", ["p", "q", "r", "s", "t"])]);
        var features = new ChoiceFeature(ordered: false);
        double[] wobble = [0.4, -0.3, 0.2, -0.4, 0.1];
        GaussianProcess Fitted(bool withParameters)
        {
            var gp = new GaussianProcess(space, features, withParameters: withParameters);
            foreach (int c in new[] { 0, 2, 4 })
                foreach (int d in new[] { 0, 1, 2, 3 })
                    gp.Add(GaussianProcess.Encode(space.Create([c, d]), features), c + wobble[d]);
            gp.Fit();
            return gp;
        }
        var only = Fitted(withParameters: false);
        double Mean(GaussianProcess gp, int c, int d) => gp.Unwarp(gp.Predict(GaussianProcess.Encode(space.Create([c, d]), features)).Mean);
        double seen = Mean(only, 2, 0), unseen = Mean(only, 2, 4);
        Assert.Equal(seen, unseen, 12);
        Assert.InRange(unseen, 2 + wobble.Take(4).Average() - 0.3, 2 + wobble.Take(4).Average() + 0.3);
        var both = Fitted(withParameters: true);
        Assert.True(Math.Abs(Mean(both, 2, 0) - Mean(both, 2, 3)) > 0.2,
            $"with d the model fits its pattern: {Mean(both, 2, 0)} vs {Mean(both, 2, 3)}");
        Assert.Throws<ArgumentException>(() => new GaussianProcess(space, withParameters: false));
    }
}
