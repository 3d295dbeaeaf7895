using System.CommandLine;
using System.Globalization;
using System.Text;
using Tandem.Core;
using Tandem.Core.Spaces.Families;
using Tandem.Torch.Measurements;

namespace Tandem.Cli.Commands;

/// <summary>
/// <c>tandem fidelity</c>: ranks each cheap fidelity (zero-cost proxies, the supernet, short training)
/// against longer standalone training (the mean over <c>--reference-seeds</c> seeds) on N random designs
/// of a family, prints Kendall τ, Spearman ρ and seconds per design, and the agreement between the
/// reference seeds (the ceiling seed noise puts on any fidelity); writes designs.csv, summary.csv,
/// reference-agreement.csv and summary.md to --out. A rerun with the same --out reuses finished rows.
/// </summary>
internal static class FidelityCommand
{
    public static Command Create(CliContext context)
    {
        var family = new Option<string>("--family") { Description = "Network family: plain-cnn or mobilenetv2 (default options).", DefaultValueFactory = _ => PlainCnnFamily.FamilyName };
        var designs = new Option<int>("--designs") { Description = "Number of distinct random designs.", DefaultValueFactory = _ => 30 };
        var seed = new Option<int>("--seed") { Description = "Seed of the designs, the split and the weights.", DefaultValueFactory = _ => 1 };
        var dataset = new Option<string>("--dataset") { Description = "fashion-mnist, mnist, cifar10, cifar100 or synthetic.", DefaultValueFactory = _ => "fashion-mnist" };
        var data = new Option<string?>("--data") { Description = "Folder with the dataset files (IDX files, gzip or not; CIFAR binary batches)." };
        var fidelities = new Option<string>("--fidelities") { Description = "Comma-separated fidelities to rank: evaluator names, or label:evaluator for a variant (e.g. supernet-ft:supernet); append /metric to score by another metric of the evaluator (e.g. supernet-ll:supernet/log_likelihood).", DefaultValueFactory = _ => "synflow,naswot,grad_norm,snip,supernet,train" };
        var refEpochs = new Option<double>("--reference-epochs") { Description = "Epochs of the reference (standalone) training.", DefaultValueFactory = _ => 3 };
        var refSamples = new Option<int>("--reference-samples") { Description = "Training images of the reference training.", DefaultValueFactory = _ => 16_000 };
        var refSeeds = new Option<int>("--reference-seeds") { Description = "Reference trainings per design with different seeds; fidelities are ranked against their mean.", DefaultValueFactory = _ => 3 };
        var set = new Option<string[]>("--set") { Description = "An evaluator option for one fidelity label (or 'reference'), e.g. supernet.finetune_steps=100; repeat for several.", AllowMultipleArgumentsPerToken = false };
        var supernetEpochs = new Option<double?>("--supernet-epochs") { Description = "Epochs of supernet training (default: the evaluator's)." };
        var validation = new Option<int>("--validation-samples") { Description = "Training-file images held out for validation (every fidelity uses the same ones).", DefaultValueFactory = _ => 5_000 };
        var output = new Option<string?>("--out") { Description = "Folder for designs.csv, summary.csv and summary.md." };
        var command = new Command("fidelity", "Rank cheap accuracy fidelities against longer standalone training (Kendall τ, Spearman ρ, seconds per design).");
        foreach (var o in new Option[] { family, designs, seed, dataset, data, fidelities, refEpochs, refSamples, refSeeds, set, supernetEpochs, validation, output }) command.Options.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            int n = parse.GetValue(designs);
            if (n < 3) throw new InputException($"--designs must be at least 3 (got {n})");
            if (parse.GetValue(refEpochs) <= 0) throw new InputException("--reference-epochs must be > 0");
            if (parse.GetValue(refSamples) < 1) throw new InputException("--reference-samples must be ≥ 1");
            if (parse.GetValue(refSeeds) is < 1 or > 20) throw new InputException($"--reference-seeds must be 1 to 20 (got {parse.GetValue(refSeeds)})");
            var fam = FamilyByName(parse.GetValue(family)!);
            var overrides = ParseSettings(parse.GetValue(set) ?? []);
            if (parse.GetValue(supernetEpochs) is double se)
            {
                if (se <= 0) throw new InputException("--supernet-epochs must be > 0");
                overrides["supernet"] = [.. overrides.GetValueOrDefault("supernet", []).Where(p => p.Key != "epochs"), ("epochs", se)];
            }
            string? dataDir = parse.GetValue(data) is { } d ? context.ResolvePath(d) : null;
            string? outDir = parse.GetValue(output) is { } o ? context.ResolvePath(o) : null;
            var options = new FidelityComparisonOptions
            {
                Family = fam,
                Designs = n,
                Seed = parse.GetValue(seed),
                Dataset = parse.GetValue(dataset)!,
                DataDirectory = dataDir,
                Fidelities = parse.GetValue(fidelities)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                ReferenceEpochs = parse.GetValue(refEpochs),
                ReferenceTrainSamples = parse.GetValue(refSamples),
                ReferenceSeeds = parse.GetValue(refSeeds),
                Overrides = overrides.ToDictionary(p => p.Key, p => (IReadOnlyList<(string, object?)>)p.Value),
                ValidationSamples = parse.GetValue(validation),
            };
            StreamWriter? rowsFile = null;
            var previous = new List<FidelityRow>();
            var written = new List<FidelityRow>(); // every row in designs.csv, in file order
            if (outDir != null)
            {
                Directory.CreateDirectory(outDir);
                string existing = Path.Combine(outDir, "designs.csv");
                if (File.Exists(existing)) previous.AddRange(ReadRows(existing));
                rowsFile = new StreamWriter(Path.Combine(outDir, "designs.csv"), append: false, new UTF8Encoding(false)) { AutoFlush = true };
                rowsFile.WriteLine(DesignsHeader);
                foreach (var row in previous) WriteRow(rowsFile, row);
                written.AddRange(previous);
            }
            var progress = new LineProgress(context);
            try
            {
                var result = await FidelityComparison.RunAsync(options, row => { if (rowsFile != null) { WriteRow(rowsFile, row); written.Add(row); } },
                    progress, ct, previous);
                var summary = result.Summary;
                context.Out.Write(SummaryTable(summary));
                string referenceNote = $"reference: standalone training, {options.ReferenceEpochs} epochs of {options.ReferenceTrainSamples} images, {options.ReferenceSeeds} seed(s); "
                    + "τ and ρ are against the per-design mean validation accuracy over the seeds (a reference seed row: against the mean of the other seeds); seconds are wall-clock seconds.";
                context.Out.WriteLine(referenceNote);
                if (result.ReferenceAgreement.Count > 0) context.Out.Write(AgreementTable(result.ReferenceAgreement));
                string? load = progress.LoadSummary();
                if (load != null) context.Out.WriteLine(load);
                if (outDir != null)
                {
                    var csv = new StringBuilder("fidelity,designs,kendall_tau,spearman_rho,seconds_per_design,amortised_seconds_per_design,one_off_seconds\n");
                    var md = new StringBuilder("| fidelity | designs | Kendall τ | Spearman ρ | s/design (evaluation) | s/design (amortised) | one-off s |\n|---|---|---|---|---|---|---|\n");
                    foreach (var s in summary)
                    {
                        csv.AppendLine(string.Join(',', s.Fidelity, s.Designs, F(s.KendallTau), F(s.SpearmanRho), F(s.SecondsPerDesign), F(s.AmortisedSecondsPerDesign), F(s.OneOffSeconds)));
                        md.AppendLine($"| {s.Fidelity} | {s.Designs} | {F2(s.KendallTau)} | {F2(s.SpearmanRho)} | {F2(s.SecondsPerDesign)} | {F2(s.AmortisedSecondsPerDesign)} | {F2(s.OneOffSeconds)} |");
                    }
                    md.AppendLine().AppendLine(referenceNote).AppendLine();
                    var agreementCsv = new StringBuilder("a,b,designs,kendall_tau,spearman_rho\n");
                    if (result.ReferenceAgreement.Count > 0)
                        md.AppendLine("| reference seeds | designs | Kendall τ | Spearman ρ |\n|---|---|---|---|");
                    foreach (var a in result.ReferenceAgreement)
                    {
                        agreementCsv.AppendLine(string.Join(',', a.A, a.B, a.Designs, F(a.KendallTau), F(a.SpearmanRho)));
                        md.AppendLine($"| {a.A} vs {a.B} | {a.Designs} | {F2(a.KendallTau)} | {F2(a.SpearmanRho)} |");
                    }
                    if (load != null) md.AppendLine().AppendLine(load + " (this invocation only; reused rows were measured earlier).");
                    File.WriteAllText(Path.Combine(outDir, "summary.csv"), csv.ToString());
                    File.WriteAllText(Path.Combine(outDir, "reference-agreement.csv"), agreementCsv.ToString());
                    File.WriteAllText(Path.Combine(outDir, "summary.md"), md.ToString());
                    rowsFile!.Dispose();
                    rowsFile = null;
                    int dropped = DropSuperseded(Path.Combine(outDir, "designs.csv"), written);
                    context.Out.WriteLine($"wrote {Path.Combine(outDir, "designs.csv")}, summary.csv, reference-agreement.csv and summary.md"
                        + (dropped > 0 ? $" ({dropped} superseded row(s) of an earlier run dropped from designs.csv)" : ""));
                }
            }
            finally { rowsFile?.Dispose(); }
            return TandemCli.ExitOk;
        });
        command.Subcommands.Add(CreateRank(context));
        return command;
    }

    /// <summary>
    /// <c>tandem fidelity rank ROWS.csv [--reference OTHER.csv | --against LABEL]</c>: ranks the rows of a designs.csv
    /// written by <c>tandem fidelity</c> again, without training anything — against their own
    /// reference replicates (the table the run printed), against the reference rows of another run
    /// of the same designs (matched by design key), such as a longer training, or against one of the
    /// file's own fidelities; the file's own reference replicates are then ranked like any other fidelity.
    /// </summary>
    private static Command CreateRank(CliContext context)
    {
        var rowsFile = new Argument<string>("ROWS") { Description = "A designs.csv written by 'tandem fidelity'." };
        var reference = new Option<string?>("--reference") { Description = "Another run's designs.csv of the same designs: rank against the mean of its reference rows instead." };
        var against = new Option<string?>("--against") { Description = "A fidelity label of ROWS: rank every label against its scores instead of a reference (how alike two fidelities rank)." };
        var byParameter = new Option<string?>("--by-parameter") { Description = "A fidelity label of ROWS: also print, per value of every design parameter, its mean standardised score and the reference's (where it misjudges a design choice)." };
        var command = new Command("rank", "Rank the fidelities of a finished 'tandem fidelity' run again (against its own or another run's reference, or one of its fidelities), without training.");
        command.Arguments.Add(rowsFile);
        command.Options.Add(reference);
        command.Options.Add(against);
        command.Options.Add(byParameter);
        command.SetAction(parse =>
        {
            string path = context.ResolvePath(parse.GetValue(rowsFile)!);
            var rows = ReadDesignsFile(path);
            if (rows.Count == 0) throw new InputException($"{path}: no rows; expected a designs.csv written by 'tandem fidelity'");
            string accepted = string.Join(", ", rows.Select(x => x.Fidelity).Distinct());
            string? biasLabel = parse.GetValue(byParameter);
            if (biasLabel != null && !rows.Any(x => x.Fidelity == biasLabel))
                throw new InputException($"--by-parameter '{biasLabel}': no rows of that fidelity in {path}; accepted: {accepted}");
            IReadOnlyDictionary<string, double>? referenceScores = null;
            string? againstLabel = parse.GetValue(against);
            if (againstLabel != null)
            {
                if (parse.GetValue(reference) != null)
                    throw new InputException("--against and --reference both name what to rank against; give one of them");
                var scores = FidelityComparison.ScoresByKey(rows, againstLabel);
                if (scores.Count < 2)
                    throw new InputException($"--against '{againstLabel}': {scores.Count} design(s) with a finite score of that fidelity in {path}; at least 2 are needed; accepted: {accepted}");
                referenceScores = scores;
                context.Out.Write(SummaryTable(FidelityComparison.SummariseAgainst(rows, scores)));
                context.Out.WriteLine($"reference: the scores of '{againstLabel}' in {path} ({scores.Count} designs); every label, reference replicates included, is ranked against them.");
            }
            else if (parse.GetValue(reference) is { } r)
            {
                string refPath = context.ResolvePath(r);
                var refRows = ReadDesignsFile(refPath);
                var scores = FidelityComparison.MeanReferenceByKey(refRows);
                referenceScores = scores;
                if (scores.Count == 0)
                    throw new InputException($"{refPath}: no finite reference scores (rows labelled '{FidelityComparison.Reference}' or '{FidelityComparison.Reference}_seedN'); accepted: a designs.csv of a 'tandem fidelity' run with reference trainings");
                int common = rows.Select(x => x.DesignKey).Distinct(StringComparer.Ordinal).Count(scores.ContainsKey);
                if (common < 2)
                    throw new InputException($"{refPath}: its reference covers {common} of the designs in {path}; at least 2 in common (same design keys) are needed to rank");
                context.Out.Write(SummaryTable(FidelityComparison.SummariseAgainst(rows, scores)));
                int replicates = refRows.Where(x => FidelityComparison.IsReference(x.Fidelity)).Select(x => x.Fidelity).Distinct().Count();
                context.Out.WriteLine($"reference: the mean of {replicates} reference replicate(s) in {refPath} ({common} designs in common, matched by design key); "
                    + $"every label of {path}, its own reference replicates included, is ranked against it.");
            }
            else
            {
                if (!rows.Any(x => FidelityComparison.IsReference(x.Fidelity)))
                    throw new InputException($"{path}: no reference rows ('{FidelityComparison.Reference}', '{FidelityComparison.Reference}_seedN'); give --reference with a run that has them");
                int designs = rows.Select(x => x.DesignKey).Distinct(StringComparer.Ordinal).Count();
                context.Out.Write(SummaryTable(FidelityComparison.Summarise(rows, designs)));
                var agreement = FidelityComparison.AgreeReferences(rows);
                if (agreement.Count > 0) context.Out.Write(AgreementTable(agreement));
                context.Out.WriteLine($"reference: the per-design mean of the reference replicates in {path} (a reference replicate: against the mean of the others).");
            }
            // Without --reference or --against, the bias is judged against the file's own reference replicates.
            if (biasLabel != null) WriteBias(context, biasLabel, rows, referenceScores ?? FidelityComparison.MeanReferenceByKey(rows));
            return TandemCli.ExitOk;
        });
        return command;
    }

    /// <summary><c>--by-parameter</c>: where one fidelity misjudges a design choice against the reference.</summary>
    private static void WriteBias(CliContext context, string label, IReadOnlyList<FidelityRow> rows, IReadOnlyDictionary<string, double> reference)
    {
        FidelityBias bias;
        try { bias = FidelityComparison.BiasByParameter(rows, label, reference); }
        catch (ArgumentException e) { throw new InputException($"--by-parameter '{label}': {e.Message}"); }
        var table = new Table().AddColumns("parameter", "value", "designs", $"{label} z", "reference z", "gap (reference − fidelity)");
        foreach (var v in bias.Values)
            table.AddRow(v.Parameter, v.Value, v.Designs.ToString(CultureInfo.InvariantCulture), Signed(v.FidelityZ), Signed(v.ReferenceZ), Signed(v.Gap));
        context.Out.Write(table);
        context.Out.WriteLine($"{label} over {bias.Designs} designs: scores and reference standardised (mean 0, standard deviation 1) over those designs, "
            + "averaged per parameter value; a positive gap: the fidelity under-rates designs with that value. "
            + $"Pearson r of each design's gap with its log MACs {F2(bias.GapVsLogMacs)}, with its log parameters {F2(bias.GapVsLogParameters)}.");
    }

    private static string Signed(double v) => double.IsFinite(v) ? v.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture) : "n/a";

    private static Table SummaryTable(IEnumerable<FidelitySummary> summary)
    {
        var table = new Table().AddColumns("fidelity", "designs", "Kendall τ", "Spearman ρ", "s/design (eval)", "s/design (amortised)", "one-off s");
        foreach (var s in summary)
            table.AddRow(s.Fidelity, s.Designs.ToString(CultureInfo.InvariantCulture), F2(s.KendallTau), F2(s.SpearmanRho), F2(s.SecondsPerDesign), F2(s.AmortisedSecondsPerDesign), F2(s.OneOffSeconds));
        return table;
    }

    private static Table AgreementTable(IEnumerable<ReferenceAgreement> agreement)
    {
        var table = new Table().AddColumns("reference seeds", "designs", "Kendall τ", "Spearman ρ");
        foreach (var a in agreement)
            table.AddRow($"{a.A} vs {a.B}", a.Designs.ToString(CultureInfo.InvariantCulture), F2(a.KendallTau), F2(a.SpearmanRho));
        return table;
    }

    /// <summary>
    /// The rows of a designs.csv named by the user, one per fidelity and design: a later row replaces an
    /// earlier one (a rerun into the same folder appends the supernet rows it always recomputes). A
    /// missing or unreadable file is an input error.
    /// </summary>
    private static List<FidelityRow> ReadDesignsFile(string path)
    {
        if (!File.Exists(path)) throw new InputException($"{path}: file not found; expected a designs.csv written by 'tandem fidelity'");
        try { return [.. Latest(ReadRows(path))]; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new InputException($"{path}: cannot be read ({e.Message})"); }
    }

    /// <summary>Parses repeated <c>--set LABEL.KEY=VALUE</c> into per-label option pairs (a later setting of the same key wins).</summary>
    internal static Dictionary<string, List<(string Key, object? Value)>> ParseSettings(IEnumerable<string> settings)
    {
        var result = new Dictionary<string, List<(string, object?)>>(StringComparer.Ordinal);
        foreach (var s in settings)
        {
            int eq = s.IndexOf('=', StringComparison.Ordinal);
            int dot = eq < 0 ? -1 : s.LastIndexOf('.', eq);
            if (eq < 0 || dot <= 0 || dot == eq - 1)
                throw new InputException($"--set '{s}': expected LABEL.KEY=VALUE, e.g. supernet.finetune_steps=100");
            string label = s[..dot].Trim(), key = s[(dot + 1)..eq].Trim(), value = s[(eq + 1)..].Trim();
            if (!result.TryGetValue(label, out var list)) result[label] = list = [];
            list.RemoveAll(p => p.Item1 == key);
            list.Add((key, value));
        }
        return result;
    }

    internal static INetworkFamily FamilyByName(string name) => name.ToLowerInvariant() switch
    {
        PlainCnnFamily.FamilyName => new PlainCnnFamily(),
        MobileNetV2Family.FamilyName => new MobileNetV2Family(),
        _ => throw new InputException($"--family '{name}' is not accepted; accepted: {PlainCnnFamily.FamilyName}, {MobileNetV2Family.FamilyName}"),
    };

    private const string DesignsHeader = "design,fidelity,score,seconds,epochs,macs,parameters,one_off_seconds,design_key,failure";

    /// <summary>
    /// After a finished run: keeps only the last row of each fidelity and design key in designs.csv (a
    /// rerun recomputes supernet rows and failed ones and appends them after the earlier rows). Done
    /// only once the run has finished, through a temporary file renamed over the old one, so an
    /// interrupted run never loses rows. <paramref name="rows"/> are the file's rows in file order.
    /// Returns the number of rows dropped.
    /// </summary>
    private static int DropSuperseded(string path, IReadOnlyList<FidelityRow> rows)
    {
        var kept = Latest(rows).ToHashSet(ReferenceEqualityComparer.Instance);
        if (kept.Count == rows.Count) return 0;
        string temporary = path + ".tmp";
        using (var w = new StreamWriter(temporary, append: false, new UTF8Encoding(false)))
        {
            w.WriteLine(DesignsHeader);
            foreach (var row in rows) if (kept.Contains(row)) WriteRow(w, row);
        }
        File.Move(temporary, path, overwrite: true);
        return rows.Count - kept.Count;
    }

    /// <summary>The last row of each fidelity and design key (a later row replaces an earlier one), in order of first appearance.</summary>
    private static IEnumerable<FidelityRow> Latest(IEnumerable<FidelityRow> rows) =>
        rows.GroupBy(r => (r.Fidelity, r.DesignKey)).Select(g => g.Last());

    private static void WriteRow(StreamWriter w, FidelityRow row) => w.WriteLine(string.Join(',',
        row.Design, row.Fidelity, F(row.Score), F(row.Seconds), F(row.Epochs), row.Macs, row.Parameters, F(row.OneOffSeconds), Quote(row.DesignKey), Quote(row.Failure ?? "")));

    /// <summary>Rows of an earlier run's designs.csv (to continue an interrupted measurement, or to rank it again).</summary>
    private static IEnumerable<FidelityRow> ReadRows(string path)
    {
        int number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (number == 1)
            {
                if (line.Trim() != DesignsHeader)
                    throw new InputException($"{path}, line 1: the header is not that of a designs.csv written by 'tandem fidelity' (expected '{DesignsHeader}')");
                continue;
            }
            if (line.Length == 0) continue;
            var f = SplitCsv(line);
            if (f.Count != 10) throw new InputException($"{path}, line {number}: {f.Count} columns, expected the 10 of a designs.csv written by 'tandem fidelity'; delete the file to start over");
            double D(int i, string column) => double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new InputException($"{path}, line {number}: {column} '{f[i]}' is not a number");
            long L(int i, string column) => long.TryParse(f[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
                : throw new InputException($"{path}, line {number}: {column} '{f[i]}' is not a whole number");
            int design = int.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var d) ? d
                : throw new InputException($"{path}, line {number}: design '{f[0]}' is not a whole number");
            yield return new FidelityRow(design, f[8], L(5, "macs"), L(6, "parameters"),
                f[1], D(2, "score"), D(3, "seconds"), D(4, "epochs"), f[9].Length == 0 ? null : f[9]) { OneOffSeconds = D(7, "one_off_seconds") };
        }
    }

    private static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else sb.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(c);
        }
        fields.Add(sb.ToString());
        return fields;
    }

    private static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
    private static string F2(double v) => double.IsNaN(v) ? "n/a" : v.ToString("0.00", CultureInfo.InvariantCulture);
    private static string Quote(string s) => "\"" + s.Replace("\"", "\"\"") + "\"";
}

/// <summary>
/// Writes progress lines at once, in order, with the local time (Progress&lt;T&gt; would post them to
/// the thread pool and reorder them) and, where /proc/loadavg exists, the 1-minute load average, which
/// it also keeps so a measurement can say how loaded the machine was.
/// </summary>
internal sealed class LineProgress(CliContext context) : IProgress<string>
{
    private const string LoadFile = "/proc/loadavg";
    private readonly Lock _gate = new();
    private readonly List<double> _loads = [];

    public void Report(string value)
    {
        double? load = ReadLoad();
        lock (_gate)
        {
            if (load is { } l) _loads.Add(l);
            context.Error.WriteLine(load is { } x ? $"[{context.Time.GetLocalNow():HH:mm:ss} load {x:0.00}] {value}" : $"[{context.Time.GetLocalNow():HH:mm:ss}] {value}");
        }
    }

    /// <summary>"load average (1 min) during the run: mean …, min …, max … over N progress lines", or null when none was read.</summary>
    public string? LoadSummary()
    {
        lock (_gate)
        {
            if (_loads.Count == 0) return null;
            return string.Create(CultureInfo.InvariantCulture,
                $"load average (1 min, {LoadFile}) during the run: mean {_loads.Average():0.00}, min {_loads.Min():0.00}, max {_loads.Max():0.00} over {_loads.Count} progress lines, {System.Environment.ProcessorCount} cores");
        }
    }

    private static double? ReadLoad()
    {
        try
        {
            if (!File.Exists(LoadFile)) return null;
            var first = File.ReadAllText(LoadFile).Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
        }
        catch (IOException) { return null; }
    }
}
