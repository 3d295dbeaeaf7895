using System.CommandLine;
using Tandem.Cli.Configuration;
using Tandem.Cli.Output;
using Tandem.Core;
using Tandem.Core.Accuracy;
using Tandem.Core.Configuration;
using Tandem.Core.Studies;

namespace Tandem.Cli.Commands;

/// <summary>
/// <c>tandem search</c>: runs a co-exploration study (the built-in default, or <c>--config FILE</c>),
/// or continues a stored one (<c>--resume NAME</c>), then retrains the front and reports it.
/// </summary>
internal static class SearchCommand
{
    public static Command Create(CliContext context)
    {
        var config = new Option<string?>("--config", "-c") { Description = "Study config file (YAML or JSON); without it the built-in default study runs." };
        var resume = new Option<string?>("--resume") { Description = "Continue the stored study of this name (after a crash, a kill or Ctrl+C)." };
        var storage = new Option<string?>("--storage") { Description = $"Where studies are stored: a SQLite file (default {CliContext.DefaultStorage}), sqlite:PATH, or a PostgreSQL URL / connection string." };
        var name = new Option<string?>("--name") { Description = "Study name (default: search-YYYYMMDD-HHMMSS)." };
        var seed = new Option<int?>("--seed") { Description = "Random seed; the same seed and inputs give the same sequence of designs." };
        var trials = new Option<int?>("--trials") { Description = "Maximum number of distinct designs to evaluate (pruned ones included)." };
        var timeLimit = new Option<string?>("--time-limit") { Description = "Wall-clock limit of the search phase, e.g. 10m, 90s, 1.5h." };
        var workers = new Option<int?>("--workers") { Description = "Designs evaluated at a time." };
        var strategy = new Option<string?>("--strategy") { Description = "Search strategy (see 'tandem components')." };
        var accuracy = new Option<string?>("--accuracy") { Description = "Accuracy evaluator / fidelity (see 'tandem components')." };
        var data = new Option<string?>("--data") { Description = "Folder with the dataset files (e.g. IDX files, gzip or not)." };
        var specs = new Option<string[]>("--spec") { Description = "A hardware spec such as \"latency_ms<=2\"; repeat for several; replaces the config's specs.", AllowMultipleArgumentsPerToken = false };
        var noFinal = new Option<bool>("--no-final") { Description = "Skip retraining the front designs at the end." };
        var output = new Option<string?>("--out") { Description = "Folder for the CSV, JSON, PNG and HTML outputs (default tandem-out/STUDY)." };
        var printConfig = new Option<bool>("--print-config") { Description = "Print the resolved study config (YAML) and exit; a starting point for --config." };

        var command = new Command("search", "Search networks and accelerators together and report the Pareto front.");
        foreach (var o in new Option[] { config, resume, storage, name, seed, trials, timeLimit, workers, strategy, accuracy, data, specs, noFinal, output, printConfig })
            command.Options.Add(o);
        command.SetAction((parse, ct) => new SearchRun(context, new SearchArguments
        {
            Config = parse.GetValue(config),
            Resume = parse.GetValue(resume),
            Storage = parse.GetValue(storage),
            Name = parse.GetValue(name),
            Seed = parse.GetValue(seed),
            Trials = parse.GetValue(trials),
            TimeLimit = parse.GetValue(timeLimit),
            Workers = parse.GetValue(workers),
            Strategy = parse.GetValue(strategy),
            Accuracy = parse.GetValue(accuracy),
            Data = parse.GetValue(data),
            Specs = parse.GetValue(specs) ?? [],
            NoFinal = parse.GetValue(noFinal),
            Out = parse.GetValue(output),
            PrintConfig = parse.GetValue(printConfig),
        }).RunAsync(ct));
        return command;
    }
}

internal sealed record SearchArguments
{
    public string? Config { get; init; }
    public string? Resume { get; init; }
    public string? Storage { get; init; }
    public string? Name { get; init; }
    public int? Seed { get; init; }
    public int? Trials { get; init; }
    public string? TimeLimit { get; init; }
    public int? Workers { get; init; }
    public string? Strategy { get; init; }
    public string? Accuracy { get; init; }
    public string? Data { get; init; }
    public string[] Specs { get; init; } = [];
    public bool NoFinal { get; init; }
    public string? Out { get; init; }
    public bool PrintConfig { get; init; }
}

internal sealed class SearchRun(CliContext context, SearchArguments args)
{
    private readonly ComponentCatalog _catalog = ComponentSetup.CreateCatalog();

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        Validate();
        if (args.Resume != null) return await ResumeAsync(cancellationToken);

        var root = ApplyOverrides(args.Config != null ? YamlConfigReader.ReadFile(context.ResolvePath(args.Config)) : DefaultStudy.Load());
        var plan = Bind(root);
        if (args.PrintConfig)
        {
            context.Out.Write(new Text(YamlConfigWriter.Write(JsonConfigReader.Parse(plan.ConfigJson, "resolved"))));
            return TandemCli.ExitOk;
        }
        StudyPreflight.Check(plan);
        string spec = args.Storage ?? plan.Storage ?? CliContext.DefaultStorage;
        await using var storage = context.OpenStorage(spec);
        if (await storage.GetStudyAsync(plan.Name, cancellationToken) is not null)
            throw new InputException($"a study named '{plan.Name}' already exists in {storage.Description}; " +
                $"continue it with 'tandem search --resume {plan.Name}' or choose another --name");
        await storage.CreateStudyAsync(new StudyRecord
        {
            Name = plan.Name,
            SpaceSignature = plan.Problem.Space.Signature,
            ConfigJson = plan.ConfigJson,
            ProgramVersion = ProgramInfo.Version,
            CreatedAt = context.Time.GetUtcNow(),
        }, cancellationToken);
        return await new StudySession(context, _catalog, storage, plan, resumed: false, args).RunAsync(cancellationToken);
    }

    private async Task<int> ResumeAsync(CancellationToken cancellationToken)
    {
        string spec = args.Storage ?? CliContext.DefaultStorage;
        await using var storage = context.OpenExistingStorage(spec);
        var record = await storage.GetStudyAsync(args.Resume!, cancellationToken);
        if (record is null)
        {
            var names = (await storage.ListStudiesAsync(cancellationToken)).Select(s => s.Name).ToArray();
            throw new InputException($"no study named '{args.Resume}' in {storage.Description}; " +
                (names.Length == 0 ? "it holds no studies" : $"it holds: {string.Join(", ", names)}"));
        }
        ConfigMap stored;
        try { stored = (ConfigMap)JsonConfigReader.Parse(record.ConfigJson, $"study '{record.Name}' (stored config)"); }
        catch (Exception e) when (e is ConfigException or InvalidCastException)
        {
            throw new StudyStorageException($"the stored config of study '{record.Name}' in {storage.Description} is damaged: {e.Message}");
        }
        var plan = Bind(ApplyOverrides(stored));
        if (plan.Problem.Space.Signature != record.SpaceSignature)
            throw new InputException($"study '{record.Name}' was created with a different design space than its stored config gives now " +
                $"(signature {record.SpaceSignature}, now {plan.Problem.Space.Signature}); it was made by Tandem {record.ProgramVersion}, this is {ProgramInfo.Version}. It cannot be resumed.");
        await storage.AppendEventAsync(plan.Name, new StudyEvent(context.Time.GetUtcNow(), "resumed", $"resumed by Tandem {ProgramInfo.Version}"), cancellationToken);
        return await new StudySession(context, _catalog, storage, plan, resumed: true, args).RunAsync(cancellationToken);
    }

    private void Validate()
    {
        if (args.Resume != null && args.Config != null)
            throw new InputException("--resume and --config cannot be combined: a resumed study uses the config it was created with");
        if (args.Resume != null && (args.Name != null || args.Seed != null || args.Strategy != null || args.Accuracy != null || args.Specs.Length > 0))
            throw new InputException("--resume keeps the study's name, seed, strategy, accuracy evaluator and specs; only --trials, --time-limit, --workers, --data, --storage, --out and --no-final may be given with it");
        if (args.Trials is < 1) throw new InputException($"--trials must be at least 1 (got {args.Trials})");
        if (args.Workers is < 1 or > 256) throw new InputException($"--workers must be 1 to 256 (got {args.Workers})");
        if (args.Seed is < 0) throw new InputException($"--seed must be 0 or more (got {args.Seed})");
        if (args.TimeLimit != null && (!DurationParser.TryParse(args.TimeLimit, out var t) || t <= TimeSpan.Zero))
            throw new InputException($"--time-limit '{args.TimeLimit}' is not a positive duration; write e.g. 10m, 90s, 1.5h");
        if (args.Data != null && !Directory.Exists(context.ResolvePath(args.Data)))
            throw new InputException($"--data {args.Data}: no such folder");
    }

    private ConfigMap ApplyOverrides(ConfigMap root)
    {
        if (args.Name != null) root = ConfigWriter.Override(root, "name", args.Name);
        if (args.Seed is int seed) root = ConfigWriter.Override(root, "seed", seed);
        if (args.Trials is int trials) root = ConfigWriter.Override(root, "budget.trials", trials);
        if (args.TimeLimit != null) root = ConfigWriter.Override(root, "budget.time_limit", args.TimeLimit);
        if (args.Workers is int workers) root = ConfigWriter.Override(root, "budget.workers", workers);
        if (args.Strategy != null) root = Replace(root, "strategy", "name", args.Strategy);
        if (args.Accuracy != null) root = Replace(root, "accuracy", "evaluator", args.Accuracy);
        if (args.Specs.Length > 0) root = ConfigWriter.Override(root, "specs", args.Specs);
        if (args.NoFinal) root = ConfigWriter.Override(root, "final.top", 0);
        if (args.Data != null) root = ConfigWriter.Override(root, "accuracy.data", context.ResolvePath(args.Data));
        return root;
    }

    /// <summary>Selects another component for a section; its options are kept only when the same component was configured.</summary>
    private static ConfigMap Replace(ConfigMap root, string section, string key, string value)
    {
        var current = root.GetMap(section);
        bool same = string.Equals(current?.GetString(key), value, StringComparison.OrdinalIgnoreCase);
        root = ConfigWriter.Override(root, section, same ? current! : ConfigMap.Empty(section, "command line"));
        return ConfigWriter.Override(root, $"{section}.{key}", value);
    }

    private StudyPlan Bind(ConfigMap root)
    {
        var environment = new AccuracyEnvironment
        {
            Family = null!, // set by the binder once the family is known
            WorkingDirectory = context.WorkingDirectory,
            Time = context.Time,
        };
        return StudyConfigBinder.Bind(root, _catalog, environment,
            () => $"search-{context.Time.GetLocalNow():yyyyMMdd-HHmmss}");
    }
}
