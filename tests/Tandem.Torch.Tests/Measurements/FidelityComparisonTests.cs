using Tandem.Core.Configuration;
using Tandem.Torch.Measurements;

namespace Tandem.Torch.Tests.Measurements;

public sealed class FidelityComparisonTests
{
    private static FidelityRow Row(int design, string fidelity, double score) => new(design, $"d{design}", 0, 0, fidelity, score, 1, 0, null);

    [Fact]
    public void Fidelities_are_ranked_against_the_seed_mean_and_seeds_against_each_other()
    {
        // Seed 1 and seed 2 disagree on designs 2 and 3; their mean orders 0 < 1 < 2 < 3.
        double[] s1 = [80, 81, 83, 82.5], s2 = [80, 81, 82, 84];
        var rows = new List<FidelityRow>();
        for (int d = 0; d < 4; d++)
        {
            rows.Add(Row(d, FidelityComparison.ReferenceLabel(0), s1[d]));
            rows.Add(Row(d, FidelityComparison.ReferenceLabel(1), s2[d]));
            rows.Add(Row(d, "proxy", d)); // the order of the mean
        }
        var summary = FidelityComparison.Summarise(rows, 4).ToDictionary(s => s.Fidelity);
        Assert.Equal(1, summary["proxy"].KendallTau, 12);
        // Each seed is ranked against the other one alone: τ = 4/6 (one discordant pair of six).
        Assert.Equal(4 / 6.0, summary["reference"].KendallTau, 12);
        Assert.Equal(4 / 6.0, summary["reference_seed2"].KendallTau, 12);
        var agreement = Assert.Single(FidelityComparison.AgreeReferences(rows));
        Assert.Equal(("reference", "reference_seed2", 4), (agreement.A, agreement.B, agreement.Designs));
        Assert.Equal(4 / 6.0, agreement.KendallTau, 12);
    }

    [Fact]
    public void A_design_some_seed_failed_on_is_left_out_of_the_mean()
    {
        var rows = new List<FidelityRow>
        {
            Row(0, "reference", 1), Row(1, "reference", 2), Row(2, "reference", 3),
            Row(0, "reference_seed2", 1), Row(1, "reference_seed2", double.NaN), Row(2, "reference_seed2", 3),
            Row(0, "x", 1), Row(1, "x", 9), Row(2, "x", 3),
        };
        var x = FidelityComparison.Summarise(rows, 3).Single(s => s.Fidelity == "x");
        Assert.Equal(2, x.Designs);
        Assert.Equal(1, x.KendallTau, 12);
    }

    [Fact]
    public void An_outside_reference_ranks_every_label_including_the_own_replicates_by_design_key()
    {
        // This run: designs d0..d3 with a proxy and its own reference seed; another run of the same
        // designs (numbered differently) has two longer reference seeds whose mean orders d3 < d2 < d1 < d0.
        var rows = new List<FidelityRow>();
        for (int d = 0; d < 4; d++)
        {
            rows.Add(Row(d, "proxy", -d));
            rows.Add(Row(d, FidelityComparison.ReferenceLabel(0), d));
        }
        var other = new List<FidelityRow>
        {
            Row(0, "x", 5) with { DesignKey = "d3" },
            Row(0, "reference", 1) with { DesignKey = "d3" }, Row(1, "reference", 2) with { DesignKey = "d2" },
            Row(2, "reference", 3) with { DesignKey = "d1" }, Row(3, "reference", 6) with { DesignKey = "d0" },
            Row(0, "reference_seed2", 1) with { DesignKey = "d3" }, Row(1, "reference_seed2", 2) with { DesignKey = "d2" },
            Row(2, "reference_seed2", 5) with { DesignKey = "d1" }, Row(3, "reference_seed2", double.NaN) with { DesignKey = "d0" },
        };
        var mean = FidelityComparison.MeanReferenceByKey(other);
        Assert.Equal(new Dictionary<string, double> { ["d3"] = 1, ["d2"] = 2, ["d1"] = 4 }, mean); // d0 failed on one seed: left out
        var summary = FidelityComparison.SummariseAgainst(rows, mean).ToDictionary(s => s.Fidelity);
        Assert.Equal((3, 1.0), (summary["proxy"].Designs, summary["proxy"].KendallTau));
        Assert.Equal((3, -1.0), (summary["reference"].Designs, summary["reference"].KendallTau)); // its own reference is just another label here
        Assert.Equal(1, summary["proxy"].SecondsPerDesign, 12);
    }

    [Fact]
    public void Bias_by_parameter_shows_which_choice_a_fidelity_misjudges()
    {
        // The reference prefers a=2 and b=y; the fidelity gets a right and b backwards. Design 4 has no
        // finite score and design 5 no reference: both are left out.
        FidelityRow Design(int d, string key, long macs, string fidelity, double score) => new(d, key, macs, 7, fidelity, score, 1, 0, null);
        string[] keys = ["a=1;b=x;c=10", "a=1;b=y;c=10", "a=2;b=x;c=9", "a=2;b=y;c=9", "a=1;b=x;c=9", "a=2;b=y;c=10"];
        long[] macs = [10, 100, 10, 100, 10, 100];
        double[] fidelity = [2, 1, 4, 3, double.NaN, 5];
        var rows = keys.Select((k, d) => Design(d, k, macs[d], "f", fidelity[d])).ToList();
        var reference = new Dictionary<string, double> { [keys[0]] = 1, [keys[1]] = 2, [keys[2]] = 3, [keys[3]] = 4, [keys[4]] = 0 };

        var bias = FidelityComparison.BiasByParameter(rows, "f", reference);

        Assert.Equal(4, bias.Designs);
        Assert.Equal(["a=1", "a=2", "b=x", "b=y", "c=9", "c=10"], bias.Values.Select(v => $"{v.Parameter}={v.Value}")); // numeric order for c
        Assert.All(bias.Values, v => Assert.Equal(2, v.Designs));
        var gap = bias.Values.ToDictionary(v => $"{v.Parameter}={v.Value}", v => v.Gap);
        double z = 2 / Math.Sqrt(5); // 1..4 standardised are ±z/2 and ±3z/2 (z = 0.894)
        Assert.Equal(0, gap["a=1"], 12);
        Assert.Equal(0, gap["a=2"], 12);
        Assert.Equal(-z, gap["b=x"], 12); // over-rated
        Assert.Equal(z, gap["b=y"], 12);  // under-rated
        Assert.Equal(-z / 2, bias.Values.Single(v => v.Parameter == "b" && v.Value == "x").ReferenceZ, 12);
        Assert.Equal(1, bias.GapVsLogMacs, 12); // the under-rated designs are the large ones
        Assert.True(double.IsNaN(bias.GapVsLogParameters)); // every design has 7 parameters
        Assert.Throws<ArgumentException>(() => FidelityComparison.BiasByParameter(rows, "f", new Dictionary<string, double> { [keys[0]] = 1 }));
    }

    [Fact]
    public async Task Labels_that_differ_only_in_their_metric_share_one_evaluation_per_design()
    {
        var options = Tiny(["naswot", "again:naswot/naswot", "other:naswot"], new() { ["other"] = [("batch_size", 8)] }) with { ValidationSamples = 200 };
        var result = await FidelityComparison.RunAsync(options, null, null, TestContext.Current.CancellationToken);
        var by = result.Rows.ToLookup(r => r.Fidelity);
        // Same evaluator and settings: the very same results, seconds included (a second evaluation would time differently).
        Assert.Equal(by["naswot"].Select(r => (r.Score, r.Seconds)), by["again"].Select(r => (r.Score, r.Seconds)));
        // Other settings: evaluated again.
        Assert.NotEqual(by["naswot"].Select(r => r.Seconds), by["other"].Select(r => r.Seconds));
    }

    /// <summary>An evaluator's own progress lines (here the supernet's training) reach the run's log, named by fidelity and design.</summary>
    [Fact]
    public async Task Evaluator_progress_reaches_the_log_with_the_fidelity_and_design()
    {
        var options = Tiny(["supernet"], new()
        {
            ["supernet"] = [("epochs", 2), ("train_samples", 200), ("calibration_samples", 64), ("batch_size", 32), ("cache", "none")],
        }) with { ReferenceTrainSamples = 200, ValidationSamples = 100 };
        var lines = new List<string>();
        await FidelityComparison.RunAsync(options, null, new ListProgress(lines), TestContext.Current.CancellationToken);
        // The supernet is trained in the first design's evaluation, so its epochs are that design's lines.
        Assert.Contains(lines, l => l.StartsWith("supernet design 1/3: supernet epoch 1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("supernet design 1/3: supernet epoch 2", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("supernet design 2/3: supernet epoch", StringComparison.Ordinal));
        Assert.Contains("supernet design 3/3: ", string.Join("\n", lines)); // the run's own line per design stays as it was
    }

    /// <summary>Three plain-CNN designs on generated data, one short reference seed.</summary>
    private static FidelityComparisonOptions Tiny(IReadOnlyList<string> fidelities, Dictionary<string, IReadOnlyList<(string, object?)>> overrides) => new()
    {
        Family = new Tandem.Core.Spaces.Families.PlainCnnFamily(),
        Designs = 3,
        Dataset = "synthetic",
        Fidelities = fidelities,
        ReferenceSeeds = 1,
        ReferenceEpochs = 0.2,
        Overrides = overrides,
    };

    [Fact]
    public void Labels_name_variants_of_one_evaluator_and_seeds_stay_stable()
    {
        Assert.Equal(("supernet-ft", "supernet", (string?)null), FidelityComparison.ParseFidelity("supernet-ft:supernet"));
        Assert.Equal(("naswot", "naswot", (string?)null), FidelityComparison.ParseFidelity("naswot"));
        Assert.Equal(("supernet-ll", "supernet", "log_likelihood"), FidelityComparison.ParseFidelity("supernet-ll:supernet/log_likelihood"));
        Assert.Equal(("supernet/weight_angle", "supernet", "weight_angle"), FidelityComparison.ParseFidelity("supernet/weight_angle"));
        Assert.Throws<ConfigException>(() => FidelityComparison.ParseFidelity("supernet-ll:supernet/"));
        Assert.Throws<ConfigException>(() => FidelityComparison.ParseFidelity("reference2:train"));
        Assert.Throws<ConfigException>(() => FidelityComparison.ParseFidelity(":train"));
        Assert.True(FidelityComparison.IsReference("reference_seed3"));
        Assert.False(FidelityComparison.IsReference("reference_seedless"));
        Assert.Equal(1005, FidelityComparison.RequestSeed(1, 5, 0)); // replicate 1 keeps the single-seed seed
        Assert.NotEqual(FidelityComparison.RequestSeed(1, 5, 1), FidelityComparison.RequestSeed(1, 6, 0));
    }
}
