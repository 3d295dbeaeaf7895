using System.Globalization;
using System.Text;
using Tandem.Core.Objectives;
using Tandem.Core.Studies;
using Tandem.Reporting.Export;
using Tandem.Reporting.Plots;

namespace Tandem.Reporting.Html;

/// <summary>
/// A single self-contained HTML page summarising a study: what was asked (objectives, specs), what
/// happened (trial counts by state), the Pareto front as a table with units in every numeric header,
/// why designs were pruned (per spec: how many broke it and by how much) or failed, recent events,
/// and the front plot inlined as a base64 PNG. The page loads nothing from elsewhere, is well-formed
/// XML as well as HTML, and is deterministic (no generation time is printed).
/// </summary>
public static class HtmlReport
{
    public static void Write(StudyReportData data, string path, HtmlReportOptions? options = null)
    {
        string html = Render(data, options);
        ReportFiles.EnsureFolder(path);
        string temp = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try
        {
            File.WriteAllText(temp, html, new UTF8Encoding(false));
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw new ReportException($"cannot write the report '{path}': {e.Message}", e);
        }
    }

    public static string Render(StudyReportData data, HtmlReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new HtmlReportOptions();
        if (options.MaxReasons < 1 || options.MaxEvents < 1) throw new ArgumentException("MaxReasons and MaxEvents must be at least 1", nameof(options));
        var front = data.FrontNumbers();
        var frontSet = front.ToHashSet();
        var trials = data.Trials;
        string title = options.Title ?? $"Tandem study {data.Study.Name}";

        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n");
        h.Append("<title>").Append(E(title)).Append("</title>\n<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n");
        h.Append("<h1>").Append(E(title)).Append("</h1>\n");

        // Summary.
        int Count(TrialState s) => trials.Count(t => t.State == s);
        int infeasible = trials.Count(t => StudyFront.Classify(t, frontSet, data.Constraints) == TrialClass.Infeasible);
        h.Append("<h2>Summary</h2>\n<table class=\"summary\">\n");
        Row(h, "Study", data.Study.Name);
        Row(h, "Status", data.Study.Status.ToString());
        Row(h, "Created", Display(data.Study.CreatedAt));
        Row(h, "Tandem version", data.Study.ProgramVersion);
        Row(h, "Design space signature", data.Study.SpaceSignature);
        Row(h, "Trials", trials.Count.ToString(CultureInfo.InvariantCulture));
        Row(h, "Complete", Count(TrialState.Complete).ToString(CultureInfo.InvariantCulture)
            + (infeasible > 0 ? $" ({infeasible} of them break a spec)" : ""));
        Row(h, "Pruned (broke a spec before the expensive step)", Count(TrialState.Pruned).ToString(CultureInfo.InvariantCulture));
        Row(h, "Failed", Count(TrialState.Failed).ToString(CultureInfo.InvariantCulture));
        if (Count(TrialState.Running) > 0) Row(h, "Running (unfinished)", Count(TrialState.Running).ToString(CultureInfo.InvariantCulture));
        Row(h, "Pareto front", $"{front.Count} design{(front.Count == 1 ? "" : "s")}");
        h.Append("</table>\n");

        h.Append("<h2>Objectives and specs</h2>\n<ul>\n");
        foreach (var o in data.Objectives)
            h.Append("<li>").Append(o.Direction == Direction.Minimize ? "minimize " : "maximize ").Append("<code>").Append(E(o.Metric)).Append("</code>")
                .Append(MetricUnits.Of(o.Metric) is { Length: > 0 } u ? $" [{E(u)}]" : "").Append("</li>\n");
        foreach (var c in data.Constraints)
            h.Append("<li>spec <code>").Append(E(c.Metric)).Append("</code> ").Append(E(c.Symbol)).Append(' ').Append(E(WithUnit(c.Bound, c.Metric))).Append("</li>\n");
        if (data.Objectives.Count == 0 && data.Constraints.Count == 0) h.Append("<li>none given</li>\n");
        h.Append("</ul>\n");

        if (data.Objectives.Count > 0)
        {
            var png = FrontPlot.RenderPng(trials, data.Objectives, front.ToArray(), new FrontPlotOptions
            {
                Constraints = data.Constraints,
                WidthPixels = options.PlotWidthPixels,
                HeightPixels = options.PlotHeightPixels,
                Title = $"{data.Study.Name}: designs in objective space",
            });
            h.Append("<h2>Designs in objective space</h2>\n<p><img alt=\"Designs of study ").Append(E(data.Study.Name))
                .Append(" in objective space, Pareto front highlighted\" width=\"").Append(options.PlotWidthPixels).Append("\" height=\"").Append(options.PlotHeightPixels)
                .Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(png)).Append("\" /></p>\n");
        }

        FrontTable(h, data);
        PrunedTable(h, data, options.MaxReasons);
        ReasonTable(h, "Why trials failed", trials.Where(t => t.State == TrialState.Failed), options.MaxReasons);
        Events(h, data.Events, options.MaxEvents);

        h.Append("<p class=\"foot\">Written by Tandem. Numbers carry the unit named in brackets in their column header.</p>\n</body>\n</html>\n");
        return h.ToString();
    }

    private static void FrontTable(StringBuilder h, StudyReportData data)
    {
        var front = StudyExport.FrontBestFirst(data);
        h.Append("<h2>Pareto front</h2>\n");
        if (front.Count == 0)
        {
            h.Append("<p>No complete design meets every spec yet.</p>\n");
            return;
        }
        var metrics = StudyExport.MetricOrder(data).Where(m => front.Any(t => t.Metrics.ContainsKey(m))).ToArray();
        var parameters = front.SelectMany(t => t.Params.Keys).Distinct().Order(StringComparer.Ordinal).ToArray();
        bool fidelity = front.Any(t => t.Attributes.ContainsKey("fidelity"));
        h.Append("<table class=\"data\">\n<thead><tr><th>trial</th>");
        foreach (string m in metrics) h.Append("<th class=\"num\">").Append(E(MetricUnits.Header(m))).Append("</th>");
        if (fidelity) h.Append("<th>fidelity</th>");
        foreach (string p in parameters) h.Append("<th>").Append(E(p)).Append("</th>");
        h.Append("</tr></thead>\n<tbody>\n");
        foreach (var t in front)
        {
            h.Append("<tr><td class=\"num\">").Append(t.Number).Append("</td>");
            foreach (string m in metrics) h.Append("<td class=\"num\">").Append(t.Metrics.TryGetValue(m, out double v) ? E(Number(v)) : "").Append("</td>");
            if (fidelity) h.Append("<td>").Append(E(t.Attributes.GetValueOrDefault("fidelity", ""))).Append("</td>");
            foreach (string p in parameters) h.Append("<td>").Append(E(t.Params.GetValueOrDefault(p, ""))).Append("</td>");
            h.Append("</tr>\n");
        }
        h.Append("</tbody>\n</table>\n");
    }

    /// <summary>Per spec: how many pruned (and complete) designs broke it and by how much; then other prune reasons.</summary>
    private static void PrunedTable(StringBuilder h, StudyReportData data, int maxReasons)
    {
        var pruned = data.Trials.Where(t => t.State == TrialState.Pruned).ToArray();
        var complete = data.Trials.Where(t => t.State == TrialState.Complete).ToArray();
        h.Append("<h2>Why designs were pruned</h2>\n");
        if (pruned.Length == 0 && !complete.Any(t => StudyFront.Breaks(t, data.Constraints).Count > 0))
        {
            h.Append("<p>No design broke a spec.</p>\n");
            return;
        }
        if (data.Constraints.Count > 0)
        {
            h.Append("<table class=\"data\">\n<thead><tr><th>spec</th><th class=\"num\">pruned designs breaking it</th>")
                .Append("<th class=\"num\">complete designs breaking it</th><th class=\"num\">median excess</th><th class=\"num\">largest excess</th></tr></thead>\n<tbody>\n");
            foreach (var c in data.Constraints)
            {
                var breakingPruned = pruned.Where(t => StudyFront.Breaks(t, [c]).Count > 0).ToArray();
                int breakingComplete = complete.Count(t => StudyFront.Breaks(t, [c]).Count > 0);
                var excess = breakingPruned.Select(t => Math.Abs(t.Metrics[c.Metric] - c.Bound)).Where(double.IsFinite).Order().ToArray();
                h.Append("<tr><td><code>").Append(E(c.Metric)).Append("</code> ").Append(E(c.Symbol)).Append(' ').Append(E(WithUnit(c.Bound, c.Metric))).Append("</td>")
                    .Append("<td class=\"num\">").Append(breakingPruned.Length).Append("</td>")
                    .Append("<td class=\"num\">").Append(breakingComplete).Append("</td>")
                    .Append("<td class=\"num\">").Append(excess.Length > 0 ? E(WithUnit(Median(excess), c.Metric)) : "").Append("</td>")
                    .Append("<td class=\"num\">").Append(excess.Length > 0 ? E(WithUnit(excess[^1], c.Metric)) : "").Append("</td></tr>\n");
            }
            h.Append("</tbody>\n</table>\n");
            h.Append("<p>A design breaking several specs counts once under each.</p>\n");
        }
        // Pruned for a reason no given spec explains (e.g. a network that cannot exist for the input size).
        var unexplained = pruned.Where(t => StudyFront.Breaks(t, data.Constraints).Count == 0).ToArray();
        if (unexplained.Length > 0)
            ReasonTable(h, data.Constraints.Count > 0 ? "Pruned for other reasons" : "Prune reasons", unexplained, maxReasons, level: 3);
    }

    private static void ReasonTable(StringBuilder h, string heading, IEnumerable<TrialRecord> trials, int maxReasons, int level = 2)
    {
        var groups = trials.GroupBy(t => t.Reason ?? "(no reason given)")
            .Select(g => (Reason: g.Key, Count: g.Count(), Example: g.Min(t => t.Number)))
            .OrderByDescending(g => g.Count).ThenBy(g => g.Reason, StringComparer.Ordinal).ToArray();
        if (groups.Length == 0) return;
        h.Append($"<h{level}>").Append(E(heading)).Append($"</h{level}>\n");
        h.Append("<table class=\"data\">\n<thead><tr><th>reason</th><th class=\"num\">trials</th><th class=\"num\">first trial</th></tr></thead>\n<tbody>\n");
        foreach (var g in groups.Take(maxReasons))
            h.Append("<tr><td class=\"text\">").Append(E(g.Reason)).Append("</td><td class=\"num\">").Append(g.Count)
                .Append("</td><td class=\"num\">").Append(g.Example).Append("</td></tr>\n");
        h.Append("</tbody>\n</table>\n");
        if (groups.Length > maxReasons)
            h.Append("<p>").Append(groups.Length - maxReasons).Append(" more distinct reasons (").Append(groups.Skip(maxReasons).Sum(g => g.Count))
                .Append(" trials) are not shown; the CSV export has them all.</p>\n");
    }

    private static void Events(StringBuilder h, IReadOnlyList<StudyEvent> events, int max)
    {
        if (events.Count == 0) return;
        h.Append("<h2>Events</h2>\n");
        if (events.Count > max) h.Append("<p>The last ").Append(max).Append(" of ").Append(events.Count).Append(" events.</p>\n");
        h.Append("<table class=\"data\">\n<thead><tr><th>time</th><th>kind</th><th>message</th></tr></thead>\n<tbody>\n");
        foreach (var e in events.Skip(Math.Max(0, events.Count - max)))
            h.Append("<tr><td>").Append(E(Display(e.Time))).Append("</td><td>").Append(E(e.Kind)).Append("</td><td class=\"text\">").Append(E(e.Message)).Append("</td></tr>\n");
        h.Append("</tbody>\n</table>\n");
    }

    private static void Row(StringBuilder h, string name, string value) =>
        h.Append("<tr><th>").Append(E(name)).Append("</th><td>").Append(E(value)).Append("</td></tr>\n");

    private static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;

    /// <summary>Whole numbers (MACs, parameters, cycles) in full up to 10¹², everything else to 6 significant digits.</summary>
    private static string Number(double v) =>
        Math.Abs(v) < 1e12 && v == Math.Floor(v) ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("G6", CultureInfo.InvariantCulture);

    private static string Display(DateTimeOffset t) => t.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture);

    private static string WithUnit(double v, string metric) => MetricUnits.Of(metric) is { Length: > 0 } u ? $"{Number(v)} {u}" : Number(v);

    /// <summary>Escapes text for HTML and XML alike (other characters, µ and ² included, stay readable).</summary>
    internal static string E(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                // Control characters are not allowed in XML; show them rather than break the page.
                case < ' ' and not ('\n' or '\t' or '\r'): sb.Append('\uFFFD'); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }

    private const string Style = """
        body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 75em; color: #222; }
        h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
        table { border-collapse: collapse; margin: 0.5em 0; }
        th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; vertical-align: top; }
        thead th { background: #f3f3f3; }
        table.summary th { text-align: left; background: #f8f8f8; font-weight: normal; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        td.text { white-space: pre-wrap; max-width: 50em; }
        img { max-width: 100%; height: auto; }
        code { font-family: "DejaVu Sans Mono", monospace; }
        .foot { color: #777; font-size: 0.85em; margin-top: 2em; }

        """;
}
