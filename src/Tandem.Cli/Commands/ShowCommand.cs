using System.CommandLine;
using System.Globalization;
using Tandem.Cli.Output;
using Tandem.Core;
using Tandem.Core.Configuration;
using Tandem.Core.Objectives;
using Tandem.Core.Studies;

namespace Tandem.Cli.Commands;

/// <summary><c>tandem show [STUDY]</c>: lists stored studies, or prints one study's trials, front and log.</summary>
internal static class ShowCommand
{
    public static Command Create(CliContext context)
    {
        var study = new Argument<string?>("study") { Description = "Study name; without it, the stored studies are listed.", Arity = ArgumentArity.ZeroOrOne };
        var storage = new Option<string?>("--storage") { Description = $"Study store (default {CliContext.DefaultStorage})." };
        var all = new Option<bool>("--all") { Description = "List every trial (default: the last 25)." };
        var output = new Option<string?>("--out") { Description = "Also write trials.csv, front.csv, study.json, front.png and report.html to this folder." };
        var command = new Command("show", "Show stored studies, or one study's trials, Pareto front and log.");
        command.Arguments.Add(study);
        command.Options.Add(storage);
        command.Options.Add(all);
        command.Options.Add(output);
        command.SetAction(async (parse, ct) =>
        {
            await using var store = context.OpenExistingStorage(parse.GetValue(storage) ?? CliContext.DefaultStorage);
            string? name = parse.GetValue(study);
            if (name is null) return await ListAsync(context, store, ct);
            return await ShowAsync(context, store, name, parse.GetValue(all), parse.GetValue(output), ct);
        });
        return command;
    }

    private static async Task<int> ListAsync(CliContext context, IStudyStorage store, CancellationToken ct)
    {
        var studies = await store.ListStudiesAsync(ct);
        if (studies.Count == 0)
        {
            context.Out.WriteLine($"{store.Description} holds no studies. Start one with: tandem search");
            return TandemCli.ExitOk;
        }
        var table = new Table().Title($"Studies in {Markup.Escape(store.Description)}");
        foreach (var c in new[] { "name", "created (UTC)", "status", "designs", "complete", "pruned", "failed", "Tandem" }) table.AddColumn(c);
        foreach (var s in studies)
        {
            var trials = await store.GetTrialsAsync(s.Name, ct);
            table.AddRow(Markup.Escape(s.Name), s.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), s.Status.ToString().ToLowerInvariant(),
                trials.Count.ToString(CultureInfo.InvariantCulture), trials.Count(t => t.State == TrialState.Complete).ToString(CultureInfo.InvariantCulture),
                trials.Count(t => t.State == TrialState.Pruned).ToString(CultureInfo.InvariantCulture), trials.Count(t => t.State == TrialState.Failed).ToString(CultureInfo.InvariantCulture),
                Markup.Escape(s.ProgramVersion));
        }
        context.Out.Write(table);
        return TandemCli.ExitOk;
    }

    private static async Task<int> ShowAsync(CliContext context, IStudyStorage store, string name, bool all, string? folder, CancellationToken ct)
    {
        var record = await store.GetStudyAsync(name, ct);
        if (record is null)
        {
            var names = (await store.ListStudiesAsync(ct)).Select(s => s.Name).ToArray();
            throw new InputException($"no study named '{name}' in {store.Description}; " +
                (names.Length == 0 ? "it holds no studies" : $"it holds: {string.Join(", ", names)}"));
        }
        var outline = LoadOutline(record, store);
        var trials = await store.GetTrialsAsync(name, ct);
        var o = context.Out;
        o.WriteLine($"Study '{record.Name}' ({record.Status.ToString().ToLowerInvariant()}), created {record.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC by Tandem {record.ProgramVersion}, in {store.Description}");
        o.WriteLine($"  objectives: {string.Join(", ", outline.Objectives)}");
        o.WriteLine($"  specs:      {(outline.Specs.Count == 0 ? "none" : string.Join(", ", outline.Specs.Select(c => $"{c.Metric} {c.Symbol} {Format.Number(c.Bound)} {MetricUnits.Of(c.Metric)}".TrimEnd())))}");
        StudyTables.PrintSummary(o, trials, outline.Specs);

        var shown = all ? trials : trials.Skip(Math.Max(0, trials.Count - 25)).ToArray();
        if (shown.Count > 0)
        {
            var table = new Table().Title(Markup.Escape(all || shown.Count == trials.Count ? $"Trials ({trials.Count})" : $"Last {shown.Count} of {trials.Count} trials (--all for every one)"));
            table.AddColumn("#");
            table.AddColumn("state");
            foreach (var obj in outline.Objectives) table.AddColumn(new TableColumn(Markup.Escape(MetricUnits.Header(obj.Metric))).RightAligned());
            table.AddColumn("network");
            if (outline.HasHardware) table.AddColumn("hardware");
            table.AddColumn("why pruned / failed");
            foreach (var t in shown)
            {
                var row = new List<string> { t.Number.ToString(CultureInfo.InvariantCulture), t.State.ToString().ToLowerInvariant() };
                row.AddRange(outline.Objectives.Select(obj => t.Metrics.TryGetValue(obj.Metric, out double v) ? Format.Number(v) : "–"));
                row.Add(StudyTables.DescribeNetwork(outline.Family, t));
                if (outline.HasHardware) row.Add(t.Attributes.GetValueOrDefault("hardware", "–"));
                row.Add(t.Reason ?? "");
                table.AddRow(row.Select(Markup.Escape).ToArray());
            }
            o.Write(table);
        }
        StudyTables.PrintFront(o, StudyFront.Of(trials, outline.Objectives, outline.Specs), outline.Objectives, outline.Family, outline.HasHardware);
        var events = await store.GetEventsAsync(name, ct);
        if (events.Count > 0)
        {
            o.WriteLine("Log:");
            foreach (var e in events.TakeLast(all ? int.MaxValue : 15)) o.WriteLine($"  {e.Time.UtcDateTime:yyyy-MM-dd HH:mm:ss} {e.Kind}: {e.Message}");
        }
        if (folder != null)
        {
            string dir = await StudyOutputs.WriteAsync(context, store, name, outline.Objectives, outline.Specs, folder, ct);
            o.WriteLine($"Wrote trials.csv, front.csv, study.json, front.png and report.html to {dir}");
        }
        return TandemCli.ExitOk;
    }

    internal static StudyOutline LoadOutline(StudyRecord record, IStudyStorage store)
    {
        try
        {
            var root = JsonConfigReader.Parse(record.ConfigJson, $"study '{record.Name}' (stored config)") as ConfigMap
                ?? throw new ConfigException("the stored config is not a map");
            return StudyConfigBinder.Outline(root, ComponentSetup.CreateCatalog());
        }
        catch (ConfigException e)
        {
            throw new StudyStorageException($"the stored config of study '{record.Name}' in {store.Description} cannot be read: {e.Message}");
        }
    }
}
