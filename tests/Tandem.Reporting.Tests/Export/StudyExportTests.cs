using System.Text.Json;
using System.Text.Json.Nodes;
using Tandem.Core.Objectives;
using Tandem.Core.Studies;
using Tandem.Reporting.Export;
using Tandem.Reporting.Plots;
using Tandem.Testing;

namespace Tandem.Reporting.Tests.Export;

public sealed class StudyExportTests
{
    private static string TrialsCsv(StudyReportData data)
    {
        var w = new StringWriter();
        StudyExport.WriteTrialsCsv(data, w);
        return w.ToString();
    }

    [Fact]
    public void The_trials_csv_has_a_stable_header_with_units()
    {
        var rows = Csv.Parse(TrialsCsv(SampleStudy.Data()));
        Assert.Equal(
            ["number", "state", "reason", "fidelity", "started_at", "finished_at", "duration_s", "design_key",
             "arch.depth", "arch.ops", "hw.rows",
             "accuracy [%]", "latency_ms [ms]", "energy_uj [µJ]", "macs [MACs]",
             "attr:hardware"],
            rows[0]);
        Assert.Equal(61, rows.Count);
        Assert.All(rows, r => Assert.Equal(rows[0].Length, r.Length));
    }

    [Fact]
    public void Every_trial_round_trips_through_the_csv()
    {
        var data = SampleStudy.Data();
        var rows = Csv.Parse(TrialsCsv(data));
        var header = rows[0];
        int Col(string name) => Array.IndexOf(header, name);
        foreach (var (t, row) in data.Trials.Zip(rows.Skip(1)))
        {
            Assert.Equal(t.Number.ToString(System.Globalization.CultureInfo.InvariantCulture), row[Col("number")]);
            Assert.Equal(t.State.ToString(), row[Col("state")]);
            Assert.Equal(t.Reason ?? "", row[Col("reason")]);
            Assert.Equal(t.StartedAt, DateTimeOffset.Parse(row[Col("started_at")], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(t.DesignKey, row[Col("design_key")]);
            foreach (var (p, v) in t.Params) Assert.Equal(v, row[Col(p)]);
            foreach (var (m, v) in t.Metrics)
                Assert.Equal(v, double.Parse(row[Col(MetricUnits.Header(m))], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(t.Metrics.ContainsKey("accuracy") ? t.Metrics["accuracy"].ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "", row[Col("accuracy [%]")]);
            Assert.Equal(t.Attributes.GetValueOrDefault("fidelity", ""), row[Col("fidelity")]);
        }
    }

    [Fact]
    public void Commas_quotes_and_newlines_are_quoted_per_rfc_4180()
    {
        var trial = SampleStudy.Trials(1)[0] with
        {
            State = TrialState.Failed,
            Reason = "NaN loss, epoch 3: \"exploding\"\nsee log",
            Params = new Dictionary<string, string> { ["arch.ops"] = "conv3x3,conv5x5", ["note"] = " padded " },
            Metrics = new Dictionary<string, double> { ["accuracy"] = double.NaN, ["latency_ms"] = double.PositiveInfinity, ["tiny_s"] = 5e-324 },
            Attributes = new Dictionary<string, string>(),
        };
        var data = SampleStudy.Data() with { Trials = [trial] };
        string csv = TrialsCsv(data);
        Assert.Contains("\"NaN loss, epoch 3: \"\"exploding\"\"\nsee log\"", csv);
        Assert.Contains("\"conv3x3,conv5x5\"", csv);
        Assert.Contains("\" padded \"", csv);
        Assert.EndsWith("\r\n", csv);
        var rows = Csv.Parse(csv);
        Assert.Equal(2, rows.Count);
        var row = rows[1];
        var header = rows[0];
        Assert.Equal(trial.Reason, row[Array.IndexOf(header, "reason")]);
        Assert.Equal("conv3x3,conv5x5", row[Array.IndexOf(header, "arch.ops")]);
        Assert.Equal(" padded ", row[Array.IndexOf(header, "note")]);
        Assert.Equal("NaN", row[Array.IndexOf(header, "accuracy [%]")]);
        Assert.Equal("Infinity", row[Array.IndexOf(header, "latency_ms [ms]")]);
        Assert.Equal(5e-324, double.Parse(row[Array.IndexOf(header, "tiny_s [s]")], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_parameter_named_like_a_fixed_column_is_prefixed()
    {
        var trial = SampleStudy.Trials(1)[0] with { Params = new Dictionary<string, string> { ["state"] = "x", ["attr:odd"] = "y" } };
        var header = Csv.Parse(TrialsCsv(SampleStudy.Data() with { Trials = [trial] }))[0];
        Assert.Contains("param:state", header);
        Assert.Contains("param:attr:odd", header);
        Assert.Equal(header.Length, header.Distinct().Count());
    }

    [Fact]
    public void The_front_csv_lists_the_front_best_first()
    {
        var data = SampleStudy.Data();
        var w = new StringWriter();
        StudyExport.WriteFrontCsv(data, w);
        var rows = Csv.Parse(w.ToString());
        Assert.Equal(Csv.Parse(TrialsCsv(data))[0], rows[0]);
        var numbers = rows.Skip(1).Select(r => int.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(data.FrontNumbers().Order(), numbers.Order());
        var accuracy = rows.Skip(1).Select(r => double.Parse(r[Array.IndexOf(rows[0], "accuracy [%]")], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(accuracy.OrderDescending(), accuracy); // accuracy is maximised: best first
        Assert.All(rows.Skip(1), r => Assert.Equal("Complete", r[1]));
    }

    [Fact]
    public void The_json_document_round_trips()
    {
        using var dir = new TempDirectory();
        var data = SampleStudy.Data(SampleStudy.ThreeObjectives);
        var odd = data.Trials[0] with { Metrics = new Dictionary<string, double> { ["accuracy"] = double.NaN, ["x_ms"] = double.NegativeInfinity, ["y"] = -0.0, ["z"] = 0.1 + 0.2 } };
        data = data with { Trials = [odd, .. data.Trials.Skip(1)], Events = [.. data.Events, new StudyEvent(SampleStudy.T0, "note", "plain", "not json, just text")] };
        string path = dir.File("out/study.json");
        StudyExport.WriteJson(data, path);
        var back = StudyExport.ReadJson(path);

        Assert.Equal(data.Study with { ConfigJson = "" }, back.Study with { ConfigJson = "" });
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(data.Study.ConfigJson), JsonNode.Parse(back.Study.ConfigJson)));
        Assert.Equal(data.Objectives, back.Objectives);
        Assert.Equal(data.Constraints, back.Constraints);
        Assert.Equal(data.FrontNumbers(), back.FrontNumbers());
        Assert.Equal(data.Trials.Count, back.Trials.Count);
        foreach (var (a, b) in data.Trials.Zip(back.Trials))
        {
            Assert.Equal(a with { Params = b.Params, Metrics = b.Metrics, Attributes = b.Attributes }, b);
            Assert.Equal(a.StartedAt.Offset, b.StartedAt.Offset);
            Assert.Equal(a.Params.OrderBy(kv => kv.Key), b.Params.OrderBy(kv => kv.Key));
            Assert.Equal(a.Attributes.OrderBy(kv => kv.Key), b.Attributes.OrderBy(kv => kv.Key));
            Assert.Equal(a.Metrics.Keys.Order(), b.Metrics.Keys.Order());
            foreach (var (m, v) in a.Metrics)
                Assert.Equal(BitConverter.DoubleToInt64Bits(v), BitConverter.DoubleToInt64Bits(b.Metrics[m]));
        }
        Assert.Equal(data.Events.Count, back.Events.Count);
        Assert.Equal("not json, just text", back.Events[^1].DataJson);
        Assert.Null(back.Events[0].DataJson);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(data.Events[1].DataJson!), JsonNode.Parse(back.Events[1].DataJson!)));
    }

    [Fact]
    public void The_json_document_carries_units_counts_and_readable_text()
    {
        var w = new StringWriter();
        StudyExport.WriteJson(SampleStudy.Data(), w);
        var doc = JsonNode.Parse(w.ToString())!;
        Assert.Equal("tandem-study", (string?)doc["format"]);
        Assert.Equal("ms", (string?)doc["units"]!["latency_ms"]);
        Assert.Equal("%", (string?)doc["objectives"]![0]!["unit"]);
        Assert.Equal("Maximize", (string?)doc["objectives"]![0]!["direction"]);
        Assert.Equal("latency_ms <= 2", (string?)doc["constraints"]![0]!["spec"]);
        var trials = SampleStudy.Trials();
        Assert.Equal(trials.Count(t => t.State == TrialState.Pruned), (int)doc["counts"]!["pruned"]!);
        Assert.Equal(trials.Count, (int)doc["counts"]!["total"]!);
        Assert.Equal(7, (int)doc["config"]!["study"]!["seed"]!);
        Assert.Contains("\"energy_uj\": \"µJ\"", w.ToString());
    }

    [Fact]
    public void Exports_are_deterministic()
    {
        string Json(StudyReportData d) { var w = new StringWriter(); StudyExport.WriteJson(d, w); return w.ToString(); }
        var a = SampleStudy.Data();
        // The same trials with their dictionaries built in another order give the same bytes.
        var b = a with
        {
            Trials = SampleStudy.Trials().Select(t => t with
            {
                Params = t.Params.Reverse().ToDictionary(),
                Metrics = t.Metrics.Reverse().ToDictionary(),
            }).ToArray(),
        };
        Assert.Equal(TrialsCsv(a), TrialsCsv(b));
        Assert.Equal(Json(a), Json(b));
    }

    [Fact]
    public void Files_are_utf8_without_bom_and_leave_no_temporary_file()
    {
        using var dir = new TempDirectory();
        StudyExport.WriteTrialsCsv(SampleStudy.Data(), dir.File("t.csv"));
        StudyExport.WriteFrontCsv(SampleStudy.Data(), dir.File("f.csv"));
        var bytes = File.ReadAllBytes(dir.File("t.csv"));
        Assert.Equal((byte)'n', bytes[0]);
        Assert.Contains("energy_uj [µJ]", System.Text.Encoding.UTF8.GetString(bytes));
        Assert.Equal(["f.csv", "t.csv"], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Reading_something_else_is_refused_clearly()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("a.json"), """{"format":"optuna","format_version":1}""");
        Assert.Contains("not a Tandem study export", Assert.Throws<ReportException>(() => StudyExport.ReadJson(dir.File("a.json"))).Message);
        File.WriteAllText(dir.File("b.json"), "not json");
        Assert.Contains(dir.File("b.json"), Assert.Throws<ReportException>(() => StudyExport.ReadJson(dir.File("b.json"))).Message);
        File.WriteAllText(dir.File("c.json"), """{"format":"tandem-study","format_version":99}""");
        Assert.Contains("newer Tandem", Assert.Throws<ReportException>(() => StudyExport.ReadJson(dir.File("c.json"))).Message);
        Assert.Throws<ReportException>(() => StudyExport.ReadJson(dir.File("missing.json")));
    }

    [Fact]
    public void The_csv_parser_refuses_malformed_text()
    {
        Assert.Throws<FormatException>(() => Csv.Parse("a,\"b"));
        Assert.Throws<FormatException>(() => Csv.Parse("a,b\"c\r\n"));
        Assert.Equal([["a", "b,c", ""], ["", "x\r\ny"]], Csv.Parse("a,\"b,c\",\r\n,\"x\r\ny\"\r\n"));
    }
}
