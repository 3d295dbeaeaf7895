using System.CommandLine;
using System.Globalization;
using System.Text;
using Tandem.Core;
using Tandem.Core.Spaces.Families;
using Tandem.Torch.Measurements;

namespace Tandem.Cli.Commands;

/// <summary>
/// <c>tandem fidelity</c>: ranks each cheap fidelity (zero-cost proxies, the supernet, short training)
/// against longer standalone training on N random designs of a family, and prints Kendall τ,
/// Spearman ρ and seconds per design; writes designs.csv, summary.csv and summary.md to --out.
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
        var fidelities = new Option<string>("--fidelities") { Description = "Comma-separated fidelities to rank.", DefaultValueFactory = _ => "synflow,naswot,grad_norm,snip,supernet,train" };
        var refEpochs = new Option<double>("--reference-epochs") { Description = "Epochs of the reference (standalone) training.", DefaultValueFactory = _ => 3 };
        var refSamples = new Option<int>("--reference-samples") { Description = "Training images of the reference training.", DefaultValueFactory = _ => 16_000 };
        var supernetEpochs = new Option<double?>("--supernet-epochs") { Description = "Epochs of supernet training (default: the evaluator's)." };
        var validation = new Option<int>("--validation-samples") { Description = "Training-file images held out for validation (every fidelity uses the same ones).", DefaultValueFactory = _ => 5_000 };
        var output = new Option<string?>("--out") { Description = "Folder for designs.csv, summary.csv and summary.md." };
        var command = new Command("fidelity", "Rank cheap accuracy fidelities against longer standalone training (Kendall τ, Spearman ρ, seconds per design).");
        foreach (var o in new Option[] { family, designs, seed, dataset, data, fidelities, refEpochs, refSamples, supernetEpochs, validation, output }) command.Options.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            int n = parse.GetValue(designs);
            if (n < 3) throw new InputException($"--designs must be at least 3 (got {n})");
            if (parse.GetValue(refEpochs) <= 0) throw new InputException("--reference-epochs must be > 0");
            if (parse.GetValue(refSamples) < 1) throw new InputException("--reference-samples must be ≥ 1");
            var fam = FamilyByName(parse.GetValue(family)!);
            var overrides = new Dictionary<string, IReadOnlyList<(string, object?)>>();
            if (parse.GetValue(supernetEpochs) is double se)
            {
                if (se <= 0) throw new InputException("--supernet-epochs must be > 0");
                overrides["supernet"] = [("epochs", se)];
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
                Overrides = overrides,
                ValidationSamples = parse.GetValue(validation),
            };
            StreamWriter? rowsFile = null;
            var previous = new List<FidelityRow>();
            if (outDir != null)
            {
                Directory.CreateDirectory(outDir);
                string existing = Path.Combine(outDir, "designs.csv");
                if (File.Exists(existing)) previous.AddRange(ReadRows(existing));
                rowsFile = new StreamWriter(Path.Combine(outDir, "designs.csv"), append: false, new UTF8Encoding(false)) { AutoFlush = true };
                rowsFile.WriteLine("design,fidelity,score,seconds,epochs,macs,parameters,one_off_seconds,design_key,failure");
                foreach (var row in previous) WriteRow(rowsFile, row);
            }
            try
            {
                var (_, summary) = await FidelityComparison.RunAsync(options, row => { if (rowsFile != null) WriteRow(rowsFile, row); },
                    new LineProgress(context), ct, previous);
                var table = new Table().AddColumns("fidelity", "designs", "Kendall τ", "Spearman ρ", "s/design (eval)", "s/design (amortised)", "one-off s");
                foreach (var s in summary)
                    table.AddRow(s.Fidelity, s.Designs.ToString(CultureInfo.InvariantCulture), F2(s.KendallTau), F2(s.SpearmanRho), F2(s.SecondsPerDesign), F2(s.AmortisedSecondsPerDesign), F2(s.OneOffSeconds));
                context.Out.Write(table);
                context.Out.WriteLine($"reference: standalone training, {options.ReferenceEpochs} epochs of {options.ReferenceTrainSamples} images; τ and ρ are against its validation accuracy; seconds are wall-clock seconds.");
                if (outDir != null)
                {
                    var csv = new StringBuilder("fidelity,designs,kendall_tau,spearman_rho,seconds_per_design,amortised_seconds_per_design,one_off_seconds\n");
                    var md = new StringBuilder("| fidelity | designs | Kendall τ | Spearman ρ | s/design (evaluation) | s/design (amortised) | one-off s |\n|---|---|---|---|---|---|---|\n");
                    foreach (var s in summary)
                    {
                        csv.AppendLine(string.Join(',', s.Fidelity, s.Designs, F(s.KendallTau), F(s.SpearmanRho), F(s.SecondsPerDesign), F(s.AmortisedSecondsPerDesign), F(s.OneOffSeconds)));
                        md.AppendLine($"| {s.Fidelity} | {s.Designs} | {F2(s.KendallTau)} | {F2(s.SpearmanRho)} | {F2(s.SecondsPerDesign)} | {F2(s.AmortisedSecondsPerDesign)} | {F2(s.OneOffSeconds)} |");
                    }
                    File.WriteAllText(Path.Combine(outDir, "summary.csv"), csv.ToString());
                    File.WriteAllText(Path.Combine(outDir, "summary.md"), md.ToString());
                    context.Out.WriteLine($"wrote {Path.Combine(outDir, "designs.csv")}, summary.csv and summary.md");
                }
            }
            finally { rowsFile?.Dispose(); }
            return TandemCli.ExitOk;
        });
        return command;
    }

    internal static INetworkFamily FamilyByName(string name) => name.ToLowerInvariant() switch
    {
        PlainCnnFamily.FamilyName => new PlainCnnFamily(),
        MobileNetV2Family.FamilyName => new MobileNetV2Family(),
        _ => throw new InputException($"--family '{name}' is not accepted; accepted: {PlainCnnFamily.FamilyName}, {MobileNetV2Family.FamilyName}"),
    };

    private static void WriteRow(StreamWriter w, FidelityRow row) => w.WriteLine(string.Join(',',
        row.Design, row.Fidelity, F(row.Score), F(row.Seconds), F(row.Epochs), row.Macs, row.Parameters, F(row.OneOffSeconds), Quote(row.DesignKey), Quote(row.Failure ?? "")));

    /// <summary>Rows of an earlier run's designs.csv (to continue an interrupted measurement).</summary>
    private static IEnumerable<FidelityRow> ReadRows(string path)
    {
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var f = SplitCsv(line);
            if (f.Count != 10) throw new InputException($"{path}: line '{line}' does not have the 10 columns of a designs.csv written by 'tandem fidelity'; delete the file to start over");
            double D(string t) => double.Parse(t, NumberStyles.Float, CultureInfo.InvariantCulture);
            yield return new FidelityRow(int.Parse(f[0], CultureInfo.InvariantCulture), f[8], long.Parse(f[5], CultureInfo.InvariantCulture), long.Parse(f[6], CultureInfo.InvariantCulture),
                f[1], D(f[2]), D(f[3]), D(f[4]), f[9].Length == 0 ? null : f[9]) { OneOffSeconds = D(f[7]) };
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

/// <summary>Writes progress lines at once, in order, with the local time (Progress&lt;T&gt; would post them to the thread pool and reorder them).</summary>
internal sealed class LineProgress(CliContext context) : IProgress<string>
{
    private readonly Lock _gate = new();

    public void Report(string value)
    {
        lock (_gate) context.Error.WriteLine($"[{context.Time.GetLocalNow():HH:mm:ss}] {value}");
    }
}
