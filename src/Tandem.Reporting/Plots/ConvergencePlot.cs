using ScottPlot;

namespace Tandem.Reporting.Plots;

/// <summary>
/// One line of a convergence plot: a method's mean metric (e.g. hypervolume) at each budget point
/// <see cref="X"/> over repeated runs, with its standard deviation <see cref="Std"/>. The three
/// arrays have the same length; X is increasing; Std is ≥ 0 (0 draws no band). Units are whatever the
/// caller names in the axis labels.
/// </summary>
public sealed record ConvergenceSeries(string Name, double[] X, double[] Mean, double[] Std);

/// <summary>
/// Renders convergence curves (mean ± std per series, e.g. hypervolume against trials for several
/// search strategies) to a PNG or SVG file chosen by the extension of the path. Each series gets its
/// own colour, a line through its means, a translucent band between mean − std and mean + std, and a
/// legend entry. Invalid input (mismatched lengths, no series, non-finite values) is an
/// <see cref="ArgumentException"/>, since it is a programming error of the caller, not user input.
/// </summary>
public static class ConvergencePlot
{
    public static void Render(IReadOnlyList<ConvergenceSeries> series, string title, string xLabel, string yLabel, string path)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0) throw new ArgumentException("at least one series is needed", nameof(series));
        foreach (var s in series) Validate(s);

        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var color = palette.GetColor(i);
            if (s.Std.Any(v => v > 0))
            {
                var lower = s.Mean.Zip(s.Std, (m, d) => m - d).ToArray();
                var upper = s.Mean.Zip(s.Std, (m, d) => m + d).ToArray();
                var band = plot.Add.FillY(s.X, lower, upper);
                band.FillColor = color.WithAlpha(0.2);
                band.LineWidth = 0;
            }
            var line = plot.Add.Scatter(s.X, s.Mean, color);
            line.LineWidth = 2;
            line.MarkerSize = s.X.Length <= 40 ? 5 : 0;
            line.LegendText = s.Name;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.LowerRight);
        PlotFiles.Save(plot, path);
    }

    private static void Validate(ConvergenceSeries s)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (s.X is null || s.Mean is null || s.Std is null)
            throw new ArgumentException($"series '{s.Name}' has a null array");
        if (s.X.Length == 0 || s.Mean.Length != s.X.Length || s.Std.Length != s.X.Length)
            throw new ArgumentException(
                $"series '{s.Name}' needs X, Mean and Std of one non-zero length (got {s.X.Length}, {s.Mean.Length}, {s.Std.Length})");
        for (int i = 0; i < s.X.Length; i++)
        {
            if (!double.IsFinite(s.X[i]) || !double.IsFinite(s.Mean[i]) || !double.IsFinite(s.Std[i]) || s.Std[i] < 0)
                throw new ArgumentException($"series '{s.Name}' point {i} is not finite or has a negative std");
            if (i > 0 && s.X[i] < s.X[i - 1])
                throw new ArgumentException($"series '{s.Name}' X must not decrease (point {i})");
        }
    }
}
