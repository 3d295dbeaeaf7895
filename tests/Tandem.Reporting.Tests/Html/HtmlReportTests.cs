using System.Xml;
using Tandem.Core.Studies;
using Tandem.Reporting.Html;
using Tandem.Testing;

namespace Tandem.Reporting.Tests.Html;

public sealed class HtmlReportTests
{
    /// <summary>The page as an XML document: the report promises well-formed markup.</summary>
    private static XmlDocument Parse(string html)
    {
        var doc = new XmlDocument { XmlResolver = null };
        using var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
        doc.Load(reader);
        return doc;
    }

    private static string[] Cells(XmlNode row, string tag = "td") =>
        row.SelectNodes(tag)!.Cast<XmlNode>().Select(n => n.InnerText).ToArray();

    private static XmlNode TableAfter(XmlDocument doc, string heading) =>
        doc.SelectSingleNode($"//*[self::h2 or self::h3][text()='{heading}']/following-sibling::table[1]")
        ?? throw new Xunit.Sdk.XunitException($"no table after '{heading}'");

    [Fact]
    public void The_page_is_self_contained_and_well_formed_with_the_plot_inlined()
    {
        string html = HtmlReport.Render(SampleStudy.Data());
        var doc = Parse(html);
        Assert.Equal("html", doc.DocumentElement!.Name);
        var img = Assert.Single(doc.SelectNodes("//img")!.Cast<XmlNode>());
        string src = img.Attributes!["src"]!.Value;
        Assert.StartsWith("data:image/png;base64,", src);
        var png = Convert.FromBase64String(src["data:image/png;base64,".Length..]);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.True(png.Length > 10_000);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.Empty(doc.SelectNodes("//script|//link|//iframe")!);
    }

    [Fact]
    public void The_summary_counts_trials_by_state()
    {
        var data = SampleStudy.Data();
        var doc = Parse(HtmlReport.Render(data));
        var summary = doc.SelectNodes("//table[@class='summary']/tr")!.Cast<XmlNode>()
            .ToDictionary(r => r.SelectSingleNode("th")!.InnerText, r => r.SelectSingleNode("td")!.InnerText);
        Assert.Equal("demo", summary["Study"]);
        Assert.Equal("2025-06-01 09:00:00 +02:00", summary["Created"]);
        Assert.Equal("60", summary["Trials"]);
        Assert.Equal(data.Trials.Count(t => t.State == TrialState.Complete).ToString(System.Globalization.CultureInfo.InvariantCulture), summary["Complete"]);
        Assert.Equal(data.Trials.Count(t => t.State == TrialState.Pruned).ToString(System.Globalization.CultureInfo.InvariantCulture),
            summary["Pruned (broke a spec before the expensive step)"]);
        Assert.Equal(data.Trials.Count(t => t.State == TrialState.Failed).ToString(System.Globalization.CultureInfo.InvariantCulture), summary["Failed"]);
        Assert.Equal($"{data.FrontNumbers().Count} designs", summary["Pareto front"]);
    }

    [Fact]
    public void The_front_table_has_units_in_every_metric_header_and_one_row_per_front_design()
    {
        var data = SampleStudy.Data();
        var table = TableAfter(Parse(HtmlReport.Render(data)), "Pareto front");
        var header = Cells(table.SelectSingleNode("thead/tr")!, "th");
        Assert.Equal(["trial", "accuracy [%]", "latency_ms [ms]", "energy_uj [µJ]", "macs [MACs]", "fidelity", "arch.depth", "arch.ops", "hw.rows"], header);
        var rows = table.SelectNodes("tbody/tr")!.Cast<XmlNode>().Select(r => Cells(r)).ToArray();
        Assert.Equal(data.FrontNumbers().Order(), rows.Select(r => int.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture)).Order());
        var first = data.Trials.Single(t => t.Number == int.Parse(rows[0][0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(first.Metrics["latency_ms"].ToString("G6", System.Globalization.CultureInfo.InvariantCulture), rows[0][2]);
        Assert.Equal(first.Params["arch.ops"], rows[0][7]);
        Assert.Equal(first.Metrics["macs"].ToString("0", System.Globalization.CultureInfo.InvariantCulture), rows[0][4]); // whole numbers in full
    }

    [Fact]
    public void The_prune_summary_counts_each_spec_with_its_excess_in_units()
    {
        var data = SampleStudy.Data();
        var table = TableAfter(Parse(HtmlReport.Render(data)), "Why designs were pruned");
        var rows = table.SelectNodes("tbody/tr")!.Cast<XmlNode>().Select(r => Cells(r)).ToArray();
        var latency = rows.Single(r => r[0] == "latency_ms ≤ 2 ms");
        var pruned = data.Trials.Where(t => t.State == TrialState.Pruned).ToArray();
        Assert.Equal(pruned.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), latency[1]);
        var excess = pruned.Select(t => t.Metrics["latency_ms"] - 2).Order().ToArray();
        Assert.Equal(excess[^1].ToString("G6", System.Globalization.CultureInfo.InvariantCulture) + " ms", latency[4]);
        Assert.EndsWith(" ms", latency[3]);
        Assert.Equal("0", rows.Single(r => r[0] == "accuracy ≥ 50 %")[1]);
    }

    [Fact]
    public void Failure_reasons_are_grouped_and_markup_in_them_is_escaped()
    {
        var trials = SampleStudy.Trials();
        trials[5] = trials[5] with { State = TrialState.Failed, Reason = "<script>alert('x')</script> & \"quoted\"" };
        var data = SampleStudy.Data() with { Trials = trials };
        string html = HtmlReport.Render(data);
        Assert.DoesNotContain("<script>", html);
        var table = TableAfter(Parse(html), "Why trials failed");
        var reasons = table.SelectNodes("tbody/tr")!.Cast<XmlNode>().Select(r => Cells(r)).ToArray();
        Assert.Contains(reasons, r => r[0] == "<script>alert('x')</script> & \"quoted\"" && r[1] == "1" && r[2] == "5");
        Assert.Equal(trials.Count(t => t.State == TrialState.Failed), reasons.Sum(r => int.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Long_reason_and_event_lists_are_cut_and_say_so()
    {
        var trials = SampleStudy.Trials().Select(t => t.State == TrialState.Pruned ? t with { Reason = $"odd {t.Number}", Metrics = new Dictionary<string, double>() } : t).ToArray();
        var events = Enumerable.Range(0, 30).Select(i => new StudyEvent(SampleStudy.T0.AddSeconds(i), "tick", $"event {i}")).ToArray();
        var doc = Parse(HtmlReport.Render(SampleStudy.Data() with { Trials = trials, Events = events }, new HtmlReportOptions { MaxReasons = 3, MaxEvents = 5 }));
        var other = TableAfter(doc, "Pruned for other reasons");
        Assert.Equal(3, other.SelectNodes("tbody/tr")!.Count);
        Assert.Contains(doc.SelectNodes("//p")!.Cast<XmlNode>(), p => p.InnerText.Contains("more distinct reasons", StringComparison.Ordinal));
        var eventRows = TableAfter(doc, "Events").SelectNodes("tbody/tr")!.Cast<XmlNode>().Select(r => Cells(r)[2]).ToArray();
        Assert.Equal(["event 25", "event 26", "event 27", "event 28", "event 29"], eventRows);
    }

    [Fact]
    public void A_study_without_objectives_or_trials_still_gives_a_valid_page()
    {
        var data = SampleStudy.Data() with { Objectives = [], Constraints = [], Trials = [], Events = [] };
        var doc = Parse(HtmlReport.Render(data));
        Assert.Empty(doc.SelectNodes("//img")!);
        Assert.Contains("No complete design", doc.InnerText);
    }

    [Fact]
    public void The_report_is_deterministic_and_written_as_one_file()
    {
        using var dir = new TempDirectory();
        HtmlReport.Write(SampleStudy.Data(SampleStudy.ThreeObjectives), dir.File("r/a.html"));
        HtmlReport.Write(SampleStudy.Data(SampleStudy.ThreeObjectives), dir.File("r/b.html"));
        Assert.Equal(File.ReadAllBytes(dir.File("r/a.html")), File.ReadAllBytes(dir.File("r/b.html")));
        Assert.Equal(["a.html", "b.html"], Directory.GetFiles(dir.File("r")).Select(Path.GetFileName).Order());
        ImageAssert.KeepForViewing(dir.File("r/a.html"), "report.html");
    }
}
