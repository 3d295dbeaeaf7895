using ScottPlot;

namespace Tandem.Reporting.Benchmarks;

/// <summary>One curve of a benchmark plot: mean and standard deviation over seeds at each x (evaluations).</summary>
public sealed record CurveSeries(string Name, double[] X, double[] Mean, double[] Std);

/// <summary>
/// Convergence plots of the search benchmarks: one line per strategy (mean over seeds) with a shaded
/// band of ± one standard deviation. The file type follows the extension (.png or .svg).
/// </summary>
public static class BenchmarkPlot
{
    public static void Render(IReadOnlyList<CurveSeries> series, string title, string xLabel, string yLabel, string path,
        int width = 900, int height = 560)
    {
        var plot = new Plot();
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var color = plot.Add.Palette.GetColor(i);
            var lower = s.Mean.Zip(s.Std, (m, d) => m - d).ToArray();
            var upper = s.Mean.Zip(s.Std, (m, d) => m + d).ToArray();
            var band = plot.Add.FillY(s.X, lower, upper);
            band.FillColor = color.WithAlpha(0.18);
            band.LineWidth = 0;
            var line = plot.Add.Scatter(s.X, s.Mean);
            line.Color = color;
            line.MarkerSize = 0;
            line.LineWidth = 2;
            line.LegendText = s.Name;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.LowerRight);
        string ext = Path.GetExtension(path).ToLowerInvariant();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        if (ext == ".svg") plot.SaveSvg(path, width, height);
        else plot.SavePng(path, width, height);
    }
}
