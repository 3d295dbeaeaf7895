using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Tandem.Core.Objectives;
using Tandem.Core.Studies;
using Tandem.Reporting.Plots;

namespace Tandem.Reporting.Export;

/// <summary>
/// Writes a study as CSV (all trials, or the Pareto front) and as one JSON document, and reads the
/// JSON back. Output is deterministic (same data, same bytes), culture-invariant and UTF-8 without BOM.
/// <para>CSV columns, in this order: <c>number, state, reason, fidelity, started_at, finished_at,
/// duration_s, design_key</c>; then one column per design parameter (named as the parameter, sorted
/// ordinally; prefixed <c>param:</c> only if the name would clash with another column); then one per
/// metric, the objectives' metrics first (in objective order), then the specs' metrics, then the rest
/// sorted ordinally, each header carrying its unit in brackets (<c>latency_ms [ms]</c>, from
/// <see cref="MetricUnits.Header"/>; a header without brackets has no unit); then one per other
/// attribute as <c>attr:NAME</c>. Numbers use the shortest text that round-trips exactly ("R"), with
/// <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c>; times are ISO 8601 with offset; a missing value is an
/// empty field. The front CSV has the same columns, its rows ordered best-first by the first
/// objective (then by number).</para>
/// <para>The JSON document (format <c>tandem-study</c>, version <see cref="JsonFormatVersion"/>) holds
/// the study record, its configuration as a JSON object, objectives and specs with units, a unit per
/// metric, state counts, the trials, the front's trial numbers and the events; non-finite metrics
/// are the strings "NaN", "Infinity", "-Infinity". The configuration and each event's data are nested
/// as JSON when they are JSON (so they read back semantically equal, compactly formatted) and kept as
/// a JSON string otherwise.</para>
/// </summary>
public static class StudyExport
{
    public const string JsonFormat = "tandem-study";
    public const int JsonFormatVersion = 1;

    private static readonly string[] FixedColumns = ["number", "state", "reason", "fidelity", "started_at", "finished_at", "duration_s", "design_key"];
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
        // The file is data, not HTML: keep µ, ², ≤ readable instead of \u-escaping them.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static void WriteTrialsCsv(StudyReportData data, string path) => ToFile(path, w => WriteTrialsCsv(data, w));

    public static void WriteFrontCsv(StudyReportData data, string path) => ToFile(path, w => WriteFrontCsv(data, w));

    public static void WriteJson(StudyReportData data, string path) => ToFile(path, w => WriteJson(data, w));

    public static void WriteTrialsCsv(StudyReportData data, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(data);
        WriteCsv(data, data.Trials, writer);
    }

    public static void WriteFrontCsv(StudyReportData data, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(data);
        WriteCsv(data, FrontBestFirst(data), writer);
    }

    /// <summary>The front's trials, best first by the first objective (then by number).</summary>
    public static IReadOnlyList<TrialRecord> FrontBestFirst(StudyReportData data)
    {
        var numbers = data.FrontNumbers().ToHashSet();
        var front = data.Trials.Where(t => numbers.Contains(t.Number));
        if (data.Objectives.Count == 0) return front.OrderBy(t => t.Number).ToArray();
        var first = data.Objectives[0];
        return front.OrderBy(t => t.Metric(first.Metric) is { } v && double.IsFinite(v) ? first.ToMinimization(v) : double.PositiveInfinity)
            .ThenBy(t => t.Number).ToArray();
    }

    private static void WriteCsv(StudyReportData data, IEnumerable<TrialRecord> rows, TextWriter writer)
    {
        var columns = Columns(data);
        Csv.Write(writer, columns.Select(c => c.Header));
        foreach (var t in rows) Csv.Write(writer, columns.Select(c => c.Value(t)));
    }

    /// <summary>The CSV columns for a study's trials (the same for the trials and the front file).</summary>
    internal static IReadOnlyList<(string Header, Func<TrialRecord, string> Value)> Columns(StudyReportData data)
    {
        var trials = data.Trials;
        var columns = new List<(string Header, Func<TrialRecord, string> Value)>
        {
            ("number", t => t.Number.ToString(CultureInfo.InvariantCulture)),
            ("state", t => t.State.ToString()),
            ("reason", t => t.Reason ?? ""),
            ("fidelity", t => t.Attributes.TryGetValue("fidelity", out var f) ? f : ""),
            ("started_at", t => Time(t.StartedAt)),
            ("finished_at", t => t.FinishedAt is { } f ? Time(f) : ""),
            ("duration_s", t => t.FinishedAt is { } f ? Number((f - t.StartedAt).TotalSeconds) : ""),
            ("design_key", t => t.DesignKey),
        };
        var metrics = MetricOrder(data);
        var taken = new HashSet<string>(FixedColumns.Concat(metrics.Select(MetricUnits.Header)), StringComparer.Ordinal);
        foreach (string p in trials.SelectMany(t => t.Params.Keys).Distinct().Order(StringComparer.Ordinal))
        {
            string header = taken.Contains(p) || p.StartsWith("attr:", StringComparison.Ordinal) || p.StartsWith("param:", StringComparison.Ordinal) ? "param:" + p : p;
            columns.Add((header, t => t.Params.TryGetValue(p, out var v) ? v : ""));
        }
        foreach (string m in metrics)
            columns.Add((MetricUnits.Header(m), t => t.Metrics.TryGetValue(m, out double v) ? Number(v) : ""));
        foreach (string a in trials.SelectMany(t => t.Attributes.Keys).Where(k => k != "fidelity").Distinct().Order(StringComparer.Ordinal))
            columns.Add(("attr:" + a, t => t.Attributes.TryGetValue(a, out var v) ? v : ""));
        return columns;
    }

    /// <summary>Metric names in report order: objectives, then specs, then the rest (ordinal).</summary>
    public static IReadOnlyList<string> MetricOrder(StudyReportData data)
    {
        var order = new List<string>();
        foreach (string m in data.Objectives.Select(o => o.Metric).Concat(data.Constraints.Select(c => c.Metric)))
            if (!order.Contains(m)) order.Add(m);
        order.AddRange(data.Trials.SelectMany(t => t.Metrics.Keys).Distinct().Where(m => !order.Contains(m)).Order(StringComparer.Ordinal));
        return order;
    }

    public static void WriteJson(StudyReportData data, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(data);
        writer.Write(JsonSerializer.Serialize(ToDocument(data), Json));
        writer.Write('\n');
    }

    /// <summary>Reads a document written by <see cref="WriteJson(StudyReportData, string)"/>.</summary>
    public static StudyReportData ReadJson(string path)
    {
        string text;
        try { text = File.ReadAllText(path, Encoding.UTF8); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReportException($"cannot read the study export '{path}': {e.Message}", e);
        }
        return ParseJson(text, path);
    }

    /// <summary>Parses a study document; <paramref name="source"/> names it in messages.</summary>
    public static StudyReportData ParseJson(string json, string source = "the study export")
    {
        StudyDocument? doc;
        try { doc = JsonSerializer.Deserialize<StudyDocument>(json, Json); }
        catch (JsonException e) { throw new ReportException($"{source} is not a Tandem study export: {e.Message}", e); }
        if (doc is null || doc.Format != JsonFormat)
            throw new ReportException($"{source} is not a Tandem study export (its format is '{doc?.Format}', expected '{JsonFormat}')");
        if (doc.FormatVersion > JsonFormatVersion)
            throw new ReportException($"{source} was written by a newer Tandem (format version {doc.FormatVersion}; this Tandem reads up to {JsonFormatVersion})");
        try
        {
            return new StudyReportData
            {
                Study = new StudyRecord
                {
                    Name = doc.Study.Name,
                    SpaceSignature = doc.Study.SpaceSignature,
                    ConfigJson = TextOf(doc.Config) ?? "",
                    ProgramVersion = doc.Study.ProgramVersion,
                    CreatedAt = doc.Study.CreatedAt,
                    Status = doc.Study.Status,
                },
                Objectives = doc.Objectives.Select(o => new Objective(o.Metric, o.Direction)).ToArray(),
                Constraints = doc.Constraints.Select(c => Constraint.Parse(c.Spec)).ToArray(),
                Trials = doc.Trials.Select(t => new TrialRecord
                {
                    Number = t.Number,
                    DesignKey = t.DesignKey,
                    Params = t.Params,
                    State = t.State,
                    Metrics = t.Metrics,
                    Attributes = t.Attributes,
                    Reason = t.Reason,
                    StartedAt = t.StartedAt,
                    FinishedAt = t.FinishedAt,
                }).ToArray(),
                Front = doc.Front,
                Events = doc.Events.Select(e => new StudyEvent(e.Time, e.Kind, e.Message, TextOf(e.Data))).ToArray(),
            };
        }
        catch (Exception e) when (e is NullReferenceException or ArgumentNullException or FormatException)
        {
            throw new ReportException($"{source} is an incomplete Tandem study export: {e.Message}", e);
        }
    }

    private static StudyDocument ToDocument(StudyReportData data)
    {
        var counts = data.Trials.GroupBy(t => t.State).ToDictionary(g => g.Key, g => g.Count());
        var metricNames = data.Trials.SelectMany(t => t.Metrics.Keys).Concat(data.Objectives.Select(o => o.Metric))
            .Concat(data.Constraints.Select(c => c.Metric)).Distinct();
        return new StudyDocument
        {
            Format = JsonFormat,
            FormatVersion = JsonFormatVersion,
            Study = new StudyDto
            {
                Name = data.Study.Name,
                SpaceSignature = data.Study.SpaceSignature,
                ProgramVersion = data.Study.ProgramVersion,
                CreatedAt = data.Study.CreatedAt,
                Status = data.Study.Status,
            },
            Config = ParseOrText(data.Study.ConfigJson),
            Objectives = data.Objectives.Select(o => new ObjectiveDto { Metric = o.Metric, Direction = o.Direction, Unit = MetricUnits.Of(o.Metric) }).ToArray(),
            Constraints = data.Constraints.Select(c => new ConstraintDto { Spec = c.ToString(), Metric = c.Metric, Bound = c.Bound, Unit = MetricUnits.Of(c.Metric) }).ToArray(),
            Units = new SortedDictionary<string, string>(metricNames.ToDictionary(m => m, MetricUnits.Of), StringComparer.Ordinal),
            Counts = new CountsDto
            {
                Total = data.Trials.Count,
                Complete = counts.GetValueOrDefault(TrialState.Complete),
                Pruned = counts.GetValueOrDefault(TrialState.Pruned),
                Failed = counts.GetValueOrDefault(TrialState.Failed),
                Running = counts.GetValueOrDefault(TrialState.Running),
            },
            Front = data.FrontNumbers().ToArray(),
            Trials = data.Trials.OrderBy(t => t.Number).Select(t => new TrialDto
            {
                Number = t.Number,
                State = t.State,
                DesignKey = t.DesignKey,
                Params = Sorted(t.Params),
                Metrics = Sorted(t.Metrics),
                Attributes = Sorted(t.Attributes),
                Reason = t.Reason,
                StartedAt = t.StartedAt,
                FinishedAt = t.FinishedAt,
            }).ToArray(),
            Events = data.Events.Select(e => new EventDto { Time = e.Time, Kind = e.Kind, Message = e.Message, Data = ParseOrText(e.DataJson) }).ToArray(),
        };
    }

    /// <summary>JSON text as a node (so the document nests it); anything else as a JSON string; null stays null.</summary>
    private static JsonNode? ParseOrText(string? json)
    {
        if (json is null) return null;
        try { return JsonNode.Parse(json); }
        catch (JsonException) { return JsonValue.Create(json); }
    }

    /// <summary>The inverse of <see cref="ParseOrText"/>: a JSON string value gives its text, other JSON its compact text.</summary>
    private static string? TextOf(JsonNode? node) =>
        node is null ? null : node is JsonValue v && v.TryGetValue(out string? text) ? text : node.ToJsonString();

    private static SortedDictionary<string, T> Sorted<T>(IReadOnlyDictionary<string, T> map) =>
        new(map.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), StringComparer.Ordinal);

    internal static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    internal static string Time(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);

    private static void ToFile(string path, Action<TextWriter> write)
    {
        ReportFiles.EnsureFolder(path);
        // Write beside the target and rename, so an interrupted export never leaves a half-written file.
        string temp = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try
        {
            using (var writer = new StreamWriter(temp, append: false, Utf8))
                write(writer);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw new ReportException($"cannot write '{path}': {e.Message}", e);
        }
    }

    private sealed record StudyDocument
    {
        public string Format { get; init; } = "";
        public int FormatVersion { get; init; }
        public StudyDto Study { get; init; } = null!;
        public JsonNode? Config { get; init; }
        public ObjectiveDto[] Objectives { get; init; } = [];
        public ConstraintDto[] Constraints { get; init; } = [];
        public SortedDictionary<string, string> Units { get; init; } = [];
        public CountsDto Counts { get; init; } = new();
        public int[] Front { get; init; } = [];
        public TrialDto[] Trials { get; init; } = [];
        public EventDto[] Events { get; init; } = [];
    }

    private sealed record StudyDto
    {
        public string Name { get; init; } = null!;
        public string SpaceSignature { get; init; } = null!;
        public string ProgramVersion { get; init; } = null!;
        public DateTimeOffset CreatedAt { get; init; }
        public StudyStatus Status { get; init; }
    }

    private sealed record ObjectiveDto
    {
        public string Metric { get; init; } = null!;
        public Direction Direction { get; init; }
        public string Unit { get; init; } = "";
    }

    private sealed record ConstraintDto
    {
        public string Spec { get; init; } = null!;
        public string Metric { get; init; } = null!;
        public double Bound { get; init; }
        public string Unit { get; init; } = "";
    }

    private sealed record CountsDto
    {
        public int Total { get; init; }
        public int Complete { get; init; }
        public int Pruned { get; init; }
        public int Failed { get; init; }
        public int Running { get; init; }
    }

    private sealed record TrialDto
    {
        public int Number { get; init; }
        public TrialState State { get; init; }
        public string DesignKey { get; init; } = null!;
        public SortedDictionary<string, string> Params { get; init; } = [];
        public SortedDictionary<string, double> Metrics { get; init; } = [];
        public SortedDictionary<string, string> Attributes { get; init; } = [];
        public string? Reason { get; init; }
        public DateTimeOffset StartedAt { get; init; }
        public DateTimeOffset? FinishedAt { get; init; }
    }

    private sealed record EventDto
    {
        public DateTimeOffset Time { get; init; }
        public string Kind { get; init; } = null!;
        public string Message { get; init; } = null!;
        public JsonNode? Data { get; init; }
    }
}
