using Tandem.Reporting.Plots;
using Tandem.Testing;

namespace Tandem.Reporting.Tests.Plots;

public sealed class ConvergencePlotTests
{
    private static ConvergenceSeries[] TwoSeries() =>
    [
        new("random", [10, 20, 30, 40], [0.20, 0.30, 0.35, 0.37], [0.05, 0.04, 0.03, 0.03]),
        new("nsga2", [10, 20, 30, 40], [0.25, 0.40, 0.48, 0.52], [0, 0.02, 0.02, 0.01]),
    ];

    [Fact]
    public void Png_is_written_with_the_standard_size()
    {
        using var dir = new TempDirectory();
        string path = dir.File("conv.png");
        ConvergencePlot.Render(TwoSeries(), "Hypervolume", "trials", "hypervolume", path);
        Assert.Equal((PlotFiles.DefaultWidthPixels, PlotFiles.DefaultHeightPixels), ImageAssert.Png(path));
        ImageAssert.KeepForViewing(path, "convergence.png");
    }

    [Fact]
    public void Svg_contains_title_labels_and_legend()
    {
        using var dir = new TempDirectory();
        string path = dir.File("sub/conv.SVG");
        ConvergencePlot.Render(TwoSeries(), "Hypervolume vs budget", "trials", "hypervolume [-]", path);
        string svg = ImageAssert.Svg(path);
        foreach (string text in new[] { "Hypervolume vs budget", "trials", "hypervolume [-]", "random", "nsga2" })
            Assert.Contains(text, svg);
    }

    [Fact]
    public void Same_input_gives_the_same_bytes()
    {
        using var dir = new TempDirectory();
        ConvergencePlot.Render(TwoSeries(), "t", "x", "y", dir.File("a.png"));
        ConvergencePlot.Render(TwoSeries(), "t", "x", "y", dir.File("b.png"));
        Assert.Equal(File.ReadAllBytes(dir.File("a.png")), File.ReadAllBytes(dir.File("b.png")));
    }

    [Fact]
    public void Unknown_extension_is_refused_naming_the_file()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<ReportException>(() => ConvergencePlot.Render(TwoSeries(), "t", "x", "y", dir.File("conv.gif")));
        Assert.Contains("conv.gif", e.Message);
        Assert.Contains(".png or .svg", e.Message);
        Assert.False(File.Exists(dir.File("conv.gif")));
    }

    [Fact]
    public void Mismatched_lengths_are_a_caller_error()
    {
        using var dir = new TempDirectory();
        var bad = new ConvergenceSeries("bad", [1, 2, 3], [1, 2], [0, 0, 0]);
        var e = Assert.Throws<ArgumentException>(() => ConvergencePlot.Render([bad], "t", "x", "y", dir.File("c.png")));
        Assert.Contains("bad", e.Message);
        Assert.Throws<ArgumentException>(() => ConvergencePlot.Render([], "t", "x", "y", dir.File("c.png")));
        Assert.Throws<ArgumentException>(() =>
            ConvergencePlot.Render([new ConvergenceSeries("n", [1, 2], [1, double.NaN], [0, 0])], "t", "x", "y", dir.File("c.png")));
    }
}
