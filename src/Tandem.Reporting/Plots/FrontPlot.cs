using System.Globalization;
using ScottPlot;
using Tandem.Core.Objectives;
using Tandem.Core.Studies;

namespace Tandem.Reporting.Plots;

/// <summary>
/// Options of <see cref="FrontPlot"/>. Sizes are in pixels (also the SVG's user units) and must be
/// at least 200. <see cref="Constraints"/> marks complete trials that break a spec as infeasible and
/// draws each spec on an axis metric as a dashed line at its bound.
/// </summary>
public sealed record FrontPlotOptions
{
    public int WidthPixels { get; init; } = PlotFiles.DefaultWidthPixels;
    public int HeightPixels { get; init; } = PlotFiles.DefaultHeightPixels;
    public string? Title { get; init; }
    public IReadOnlyList<Constraint> Constraints { get; init; } = [];
}

/// <summary>
/// A study's designs in objective space: the first objective on x, the second on y (with one
/// objective, y against trial number), a third as colour with a colour bar; a fourth or later one is
/// not drawn (the title says so). Complete designs are faint dots, infeasible ones (breaking a spec)
/// open grey circles, pruned ones red crosses, and the Pareto front large outlined dots, joined in x
/// order when there are two objectives. Axis labels carry units (<see cref="MetricUnits.Header"/>)
/// and which way is better. A trial without a finite value for an axis metric is not drawn (the
/// legend counts say how many were). PNG or SVG by the extension of the path; deterministic.
/// </summary>
public static class FrontPlot
{
    private static readonly Color DesignColor = Color.FromHex("#1f77b4").WithAlpha(0.35);
    private static readonly Color FrontColor = Color.FromHex("#d62728");
    private static readonly Color PrunedColor = Color.FromHex("#9467bd").WithAlpha(0.75);
    private static readonly Color InfeasibleColor = Color.FromHex("#7f7f7f").WithAlpha(0.7);
    private static readonly Color SpecColor = Color.FromHex("#ff7f0e");

    /// <summary>Writes the plot to <paramref name="path"/> (.png or .svg).</summary>
    public static void Render(IReadOnlyList<TrialRecord> trials, IReadOnlyList<Objective> objectives, IReadOnlyCollection<int> front, string path,
        FrontPlotOptions? options = null)
    {
        options ??= new FrontPlotOptions();
        PlotFiles.Save(Build(trials, objectives, front, options), path, options.WidthPixels, options.HeightPixels);
    }

    /// <summary>The plot as PNG bytes (for embedding in an HTML report).</summary>
    public static byte[] RenderPng(IReadOnlyList<TrialRecord> trials, IReadOnlyList<Objective> objectives, IReadOnlyCollection<int> front,
        FrontPlotOptions? options = null)
    {
        options ??= new FrontPlotOptions();
        return Build(trials, objectives, front, options).GetImageBytes(options.WidthPixels, options.HeightPixels, ImageFormat.Png);
    }

    internal static Plot Build(IReadOnlyList<TrialRecord> trials, IReadOnlyList<Objective> objectives, IReadOnlyCollection<int> front, FrontPlotOptions options)
    {
        ArgumentNullException.ThrowIfNull(trials);
        ArgumentNullException.ThrowIfNull(objectives);
        ArgumentNullException.ThrowIfNull(front);
        if (objectives.Count == 0) throw new ArgumentException("at least one objective is needed", nameof(objectives));
        if (options.WidthPixels < 200 || options.HeightPixels < 200) throw new ArgumentException("the plot must be at least 200×200 pixels", nameof(options));

        var frontSet = front as IReadOnlySet<int> ?? front.ToHashSet();
        bool byNumber = objectives.Count == 1;
        var xObjective = byNumber ? null : objectives[0];
        var yObjective = byNumber ? objectives[0] : objectives[1];
        var colourObjective = objectives.Count >= 3 ? objectives[2] : null;

        double? X(TrialRecord t) => byNumber ? t.Number : Finite(t, xObjective!.Metric);
        double? Y(TrialRecord t) => Finite(t, yObjective.Metric);

        var groups = trials.GroupBy(t => StudyFront.Classify(t, frontSet, options.Constraints)).ToDictionary(g => g.Key, g => g.ToArray());
        TrialRecord[] Of(TrialClass c) => groups.TryGetValue(c, out var a) ? a : [];
        var plottable = trials.Where(t => X(t) is not null && Y(t) is not null).ToHashSet();

        // Colour scale of the third objective over every drawn trial that has it.
        ScottPlot.Range? colourRange = null;
        IColormap colormap = new ScottPlot.Colormaps.Viridis();
        if (colourObjective is not null)
        {
            var values = plottable.Select(t => Finite(t, colourObjective.Metric)).OfType<double>().ToArray();
            if (values.Length > 0)
            {
                double lo = values.Min(), hi = values.Max();
                if (hi - lo < 1e-12 * Math.Max(1, Math.Abs(lo))) { lo -= 0.5; hi += 0.5; }
                colourRange = new ScottPlot.Range(lo, hi);
            }
        }
        Color ColourOf(TrialRecord t, Color fallback, double alpha)
        {
            if (colourRange is not { } r || Finite(t, colourObjective!.Metric) is not { } v) return fallback;
            return colormap.GetColor((v - r.Min) / (r.Max - r.Min)).WithAlpha(alpha);
        }

        var plot = new Plot();
        var legend = new List<LegendItem>();
        string Count(TrialRecord[] all, int shown) => shown == all.Length ? $"{all.Length}" : $"{all.Length}; {shown} drawn";
        // With a colour scale the legend shows shapes in neutral grey; the colour bar explains the colours.
        Color Legend(Color c) => colourRange is null ? c : Colors.Gray;

        var pruned = Of(TrialClass.Pruned).Where(plottable.Contains).ToArray();
        foreach (var t in pruned) AddMarker(plot, X(t)!.Value, Y(t)!.Value, MarkerShape.Eks, 8, PrunedColor).MarkerStyle.LineWidth = 1.5f;
        if (Of(TrialClass.Pruned).Length > 0)
            legend.Add(Item($"pruned, broke a spec ({Count(Of(TrialClass.Pruned), pruned.Length)})", MarkerShape.Eks, 8, PrunedColor));

        var infeasible = Of(TrialClass.Infeasible).Where(plottable.Contains).ToArray();
        foreach (var t in infeasible) AddMarker(plot, X(t)!.Value, Y(t)!.Value, MarkerShape.OpenCircle, 6, InfeasibleColor);
        if (Of(TrialClass.Infeasible).Length > 0)
            legend.Add(Item($"complete, breaks a spec ({Count(Of(TrialClass.Infeasible), infeasible.Length)})", MarkerShape.OpenCircle, 6, InfeasibleColor));

        var feasible = Of(TrialClass.Feasible).Where(plottable.Contains).ToArray();
        foreach (var t in feasible) AddMarker(plot, X(t)!.Value, Y(t)!.Value, MarkerShape.FilledCircle, 6, ColourOf(t, DesignColor, 0.45));
        if (Of(TrialClass.Feasible).Length > 0)
            legend.Add(Item($"other designs ({Count(Of(TrialClass.Feasible), feasible.Length)})", MarkerShape.FilledCircle, 6, Legend(DesignColor)));

        var frontTrials = Of(TrialClass.Front).Where(plottable.Contains).OrderBy(t => X(t)).ThenBy(t => Y(t)).ThenBy(t => t.Number).ToArray();
        if (frontTrials.Length > 1 && objectives.Count == 2)
        {
            var line = plot.Add.ScatterLine(frontTrials.Select(t => X(t)!.Value).ToArray(), frontTrials.Select(t => Y(t)!.Value).ToArray(), FrontColor.WithAlpha(0.8));
            line.LineWidth = 1.5f;
        }
        foreach (var t in frontTrials)
        {
            var m = AddMarker(plot, X(t)!.Value, Y(t)!.Value, MarkerShape.FilledCircle, 11, ColourOf(t, FrontColor, 1));
            m.MarkerStyle.OutlineColor = Colors.Black;
            m.MarkerStyle.OutlineWidth = 1.5f;
        }
        if (Of(TrialClass.Front).Length > 0)
            legend.Add(Item($"Pareto front ({Count(Of(TrialClass.Front), frontTrials.Length)})", MarkerShape.FilledCircle, 11, Legend(FrontColor), Colors.Black));

        // Specs on an axis metric as dashed lines at their bounds.
        foreach (var c in options.Constraints)
        {
            string label = $"spec {c.Metric} {c.Symbol} {Number(c.Bound)}{Unit(c.Metric)}";
            if (!byNumber && c.Metric == xObjective!.Metric)
                plot.Add.VerticalLine(c.Bound, 1.5f, SpecColor, LinePattern.Dashed).LegendText = "";
            else if (c.Metric == yObjective.Metric)
                plot.Add.HorizontalLine(c.Bound, 1.5f, SpecColor, LinePattern.Dashed).LegendText = "";
            else continue;
            legend.Add(new LegendItem { LabelText = label, LineColor = SpecColor, LineWidth = 1.5f, LinePattern = LinePattern.Dashed });
        }

        plot.XLabel(byNumber ? "trial number" : AxisLabel(xObjective!));
        plot.YLabel(AxisLabel(yObjective));
        if (colourRange is { } range)
        {
            var bar = plot.Add.ColorBar(new ColourAxis(colormap, range), Edge.Right);
            bar.Label = AxisLabel(colourObjective!);
        }
        string title = options.Title ?? "Designs in objective space";
        if (objectives.Count > 3) title += $" ({objectives.Count - 3} more objective{(objectives.Count > 4 ? "s" : "")} not drawn)";
        plot.Title(title);
        if (plottable.Count == 0) plot.Add.Annotation("no trial has values for these objectives yet");
        if (legend.Count > 0)
        {
            plot.Legend.ManualItems = legend;
            plot.ShowLegend(Alignment.UpperRight);
        }
        return plot;
    }

    private static ScottPlot.Plottables.Marker AddMarker(Plot plot, double x, double y, MarkerShape shape, float size, Color color)
    {
        var m = plot.Add.Marker(x, y, shape, size, color);
        m.LegendText = "";
        return m;
    }

    private static LegendItem Item(string label, MarkerShape shape, float size, Color color, Color? outline = null)
    {
        var marker = new MarkerStyle(shape, size, color) { LineWidth = 1.5f };
        if (outline is { } o) { marker.OutlineColor = o; marker.OutlineWidth = 1.5f; }
        return new LegendItem { LabelText = label, MarkerStyle = marker };
    }

    /// <summary>"latency_ms [ms] (lower is better)".</summary>
    internal static string AxisLabel(Objective o) =>
        $"{MetricUnits.Header(o.Metric)} ({(o.Direction == Direction.Minimize ? "lower" : "higher")} is better)";

    private static string Unit(string metric) => MetricUnits.Of(metric) is { Length: > 0 } u ? " " + u : "";

    private static string Number(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    private static double? Finite(TrialRecord t, string metric) => t.Metrics.TryGetValue(metric, out double v) && double.IsFinite(v) ? v : null;

    /// <summary>Feeds a fixed colour scale to ScottPlot's colour bar.</summary>
    private sealed class ColourAxis(IColormap colormap, ScottPlot.Range range) : IHasColorAxis
    {
        public IColormap Colormap => colormap;
        public ScottPlot.Range GetRange() => range;
    }
}
