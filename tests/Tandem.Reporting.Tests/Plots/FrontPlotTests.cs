using Tandem.Core.Objectives;
using Tandem.Core.Studies;
using Tandem.Reporting.Plots;
using Tandem.Testing;

namespace Tandem.Reporting.Tests.Plots;

public sealed class FrontPlotTests
{
    [Fact]
    public void Two_objectives_give_a_png_with_the_front_and_the_pruned_designs()
    {
        using var dir = new TempDirectory();
        var data = SampleStudy.Data();
        string path = dir.File("front.png");
        FrontPlot.Render(data.Trials, data.Objectives, data.FrontNumbers().ToArray(), path, new FrontPlotOptions { Constraints = data.Constraints });
        Assert.Equal((900, 600), ImageAssert.Png(path, minBytes: 15_000));
        ImageAssert.KeepForViewing(path, "front2.png");
    }

    [Fact]
    public void Three_objectives_give_a_colour_bar_labelled_with_the_third_metric_and_its_unit()
    {
        using var dir = new TempDirectory();
        var data = SampleStudy.Data(SampleStudy.ThreeObjectives);
        var front = data.FrontNumbers().ToArray();
        var options = new FrontPlotOptions { Constraints = data.Constraints, Title = "demo" };
        FrontPlot.Render(data.Trials, data.Objectives, front, dir.File("front.png"), options);
        ImageAssert.Png(dir.File("front.png"));
        ImageAssert.KeepForViewing(dir.File("front.png"), "front3.png");

        FrontPlot.Render(data.Trials, data.Objectives, front, dir.File("front.svg"), options);
        string svg = ImageAssert.Svg(dir.File("front.svg"));
        Assert.Contains("energy_uj [µJ] (lower is better)", svg);
    }

    [Fact]
    public void Axis_labels_and_legend_carry_units_and_counts()
    {
        using var dir = new TempDirectory();
        var data = SampleStudy.Data();
        var front = data.FrontNumbers();
        FrontPlot.Render(data.Trials, data.Objectives, front.ToArray(), dir.File("f.svg"), new FrontPlotOptions { Constraints = data.Constraints });
        string svg = ImageAssert.Svg(dir.File("f.svg"));
        Assert.Contains("accuracy [%] (higher is better)", svg);
        Assert.Contains("latency_ms [ms] (lower is better)", svg);
        Assert.Contains($"Pareto front ({front.Count})", svg);
        int pruned = data.Trials.Count(t => t.State == TrialState.Pruned);
        Assert.Contains($"pruned, broke a spec ({pruned}; 0 drawn)", svg); // pruned designs have no accuracy to place them
        Assert.Contains("spec latency_ms ≤ 2 ms", svg);
    }

    [Fact]
    public void Pruned_designs_are_drawn_when_the_axes_are_hardware_metrics()
    {
        using var dir = new TempDirectory();
        var data = SampleStudy.Data();
        Objective[] hardware = [new("latency_ms", Direction.Minimize), new("energy_uj", Direction.Minimize)];
        var front = StudyFront.Compute(data.Trials, hardware, data.Constraints);
        FrontPlot.Render(data.Trials, hardware, front, dir.File("hw.svg"), new FrontPlotOptions { Constraints = data.Constraints });
        int pruned = data.Trials.Count(t => t.State == TrialState.Pruned);
        Assert.Contains($"pruned, broke a spec ({pruned})", ImageAssert.Svg(dir.File("hw.svg")));
        FrontPlot.Render(data.Trials, hardware, front, dir.File("hw.png"), new FrontPlotOptions { Constraints = data.Constraints });
        ImageAssert.KeepForViewing(dir.File("hw.png"), "front-hw.png");
    }

    [Fact]
    public void One_objective_is_plotted_against_the_trial_number()
    {
        using var dir = new TempDirectory();
        var data = SampleStudy.Data();
        Objective[] one = [new("accuracy", Direction.Maximize)];
        FrontPlot.Render(data.Trials, one, StudyFront.Compute(data.Trials, one), dir.File("one.svg"));
        string svg = ImageAssert.Svg(dir.File("one.svg"));
        Assert.Contains("trial number", svg);
        Assert.Contains("accuracy [%]", svg);
    }

    [Fact]
    public void An_empty_study_still_gives_a_valid_image()
    {
        using var dir = new TempDirectory();
        FrontPlot.Render([], SampleStudy.TwoObjectives, [], dir.File("empty.png"));
        ImageAssert.Png(dir.File("empty.png"), minBytes: 1_000);
    }

    [Fact]
    public void Same_input_gives_the_same_bytes()
    {
        var data = SampleStudy.Data(SampleStudy.ThreeObjectives);
        var front = data.FrontNumbers().ToArray();
        var a = FrontPlot.RenderPng(data.Trials, data.Objectives, front);
        var b = FrontPlot.RenderPng(SampleStudy.Trials(), data.Objectives, front);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Bad_extension_and_no_objectives_are_refused()
    {
        using var dir = new TempDirectory();
        var data = SampleStudy.Data();
        Assert.Throws<ReportException>(() => FrontPlot.Render(data.Trials, data.Objectives, [], dir.File("f.jpg")));
        Assert.Throws<ArgumentException>(() => FrontPlot.Render(data.Trials, [], [], dir.File("f.png")));
    }
}
