using System.CommandLine;
using System.Text.Json.Nodes;
using Tandem.Core;
using Tandem.Core.Accuracy.Tabular;
using Tandem.Core.Benchmarking;
using Tandem.Core.Configuration;
using Tandem.Core.Objectives;
using Tandem.Core.Search;
using Tandem.Reporting.Plots;

namespace Tandem.Cli.Commands;

/// <summary>
/// <c>tandem benchmark tabular …</c>: runs search strategies several times on a table that gives
/// every design's objectives and reports how much of the exact Pareto front each finds
/// (summary.json, curves.csv and two convergence plots in --out).
/// </summary>
internal static class BenchmarkCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("benchmark", "Measure search strategies against exact Pareto fronts.");
        command.Subcommands.Add(Tabular(context));
        command.Subcommands.Add(Codesign(context));
        return command;
    }

    private static Command Codesign(CliContext context)
    {
        var tables = new Option<string[]>("--table") { Description = "NAS-Bench-201 accuracy CSV (arch_str plus accuracy columns); repeat to join several on --key.", Required = true };
        var key = new Option<string>("--key") { Description = "Column naming the cell.", DefaultValueFactory = _ => "arch_str" };
        var dataset = new Option<string>("--dataset") { Description = "cifar10, cifar100 or imagenet16-120: the input size, classes and default accuracy column.", DefaultValueFactory = _ => "cifar10" };
        var column = new Option<string?>("--accuracy-column") { Description = "Accuracy column (default: the dataset's test accuracy)." };
        var rows = new Option<string>("--rows") { Description = "Systolic array rows to enumerate, comma-separated.", DefaultValueFactory = _ => "8,16,32" };
        var cols = new Option<string>("--cols") { Description = "Systolic array columns to enumerate, comma-separated.", DefaultValueFactory = _ => "8,16,32" };
        var dataflows = new Option<string>("--dataflows") { Description = "Dataflows to enumerate (os, ws, is), comma-separated.", DefaultValueFactory = _ => "os,ws,is" };
        var sram = new Option<int>("--sram-kb") { Description = "Size of each of the three SRAMs in KiB (fixed).", DefaultValueFactory = _ => 64 };
        var clock = new Option<int>("--clock-mhz") { Description = "Clock in MHz (fixed).", DefaultValueFactory = _ => 400 };
        var constraints = new Option<string[]>("--constraint") { Description = "Spec on accuracy, latency_ms or energy_uj, e.g. \"latency_ms<=2\"; repeat for several." };
        var strategies = new Option<string>("--strategies") { Description = "Comma-separated strategy labels.", DefaultValueFactory = _ => "random,nsga2" };
        var strategyOptions = new Option<string?>("--strategy-options") { Description = "JSON file mapping labels to strategy sections." };
        var budget = new Option<int>("--budget") { Description = "Evaluations per run (network-first spends half on networks alone).", DefaultValueFactory = _ => 300 };
        var seeds = new Option<int>("--seeds") { Description = "Runs per strategy and mode.", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "Threads for the exhaustive enumeration.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var output = new Option<string>("--out") { Description = "Folder for summary.json, curves.csv and the plots.", Required = true };

        var command = new Command("codesign", "NB201 cells × systolic arrays: joint search vs hardware-first vs network-first against the exhaustively enumerated front.");
        foreach (var o in new Option[] { tables, key, dataset, column, rows, cols, dataflows, sram, clock, constraints, strategies, strategyOptions, budget, seeds, threads, output })
            command.Options.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            var files = (parse.GetValue(tables) ?? []).Select(context.ResolvePath).ToArray();
            var table = MetricTable.Load(files, parse.GetValue(key)!);
            string datasetName = parse.GetValue(dataset)!;
            if (!TableAccuracyEvaluator.Datasets.TryGetValue(datasetName, out var ds))
                throw new BenchmarkInputException($"--dataset '{datasetName}' is not accepted; accepted: {string.Join(", ", TableAccuracyEvaluator.Datasets.Keys)}");
            string accColumn = parse.GetValue(column) ?? ds.Column;
            table.Numbers(accColumn);
            int[] Ints(Option<string> o) => parse.GetValue(o)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(t => int.TryParse(t, out int v) && v > 0 ? v : throw new BenchmarkInputException($"{o.Name}: '{t}' is not a positive whole number")).ToArray();
            var template = new Tandem.Core.Hardware.Systolic.SystolicTemplate(new Tandem.Core.Hardware.Systolic.SystolicTemplateOptions
            {
                Rows = Ints(rows),
                Columns = Ints(cols),
                Dataflows = parse.GetValue(dataflows)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                IfmapSramKiB = [Positive(parse.GetValue(sram), "--sram-kb")],
                FilterSramKiB = [parse.GetValue(sram)],
                OfmapSramKiB = [parse.GetValue(sram)],
                ClockMHz = [Positive(parse.GetValue(clock), "--clock-mhz")],
            });
            var specs = (parse.GetValue(constraints) ?? []).Select(ParseConstraint).ToArray();
            var registry = StrategyCatalog.Create();
            var entries = Strategies(parse.GetValue(strategies)!, parse.GetValue(strategyOptions) is { } f ? context.ResolvePath(f) : null, registry);
            int budgetValue = Positive(parse.GetValue(budget), "--budget");
            if (budgetValue < 2) throw new BenchmarkInputException("--budget must be at least 2 (network-first spends half on networks alone)");
            var bench = new CodesignBenchmark(new CodesignBenchmarkOptions
            {
                Family = new Tandem.Core.Spaces.Families.Nb201Family(),
                Table = table,
                AccuracyColumn = accColumn,
                Input = ds.Task.Input,
                NumClasses = ds.Task.NumClasses,
                Hardware = template,
                Strategies = entries,
                Budget = budgetValue,
                Seeds = Positive(parse.GetValue(seeds), "--seeds"),
                Constraints = specs,
                Threads = Positive(parse.GetValue(threads), "--threads"),
            }, registry);
            var modes = await bench.RunAsync(new SyncProgress(context.Error), ct);
            var exact = modes.Values.First().Exact;
            var combined = new BenchmarkResult(exact, budgetValue,
                modes.SelectMany(m => m.Value.Strategies.Select(s => new StrategyResult($"{m.Key}/{s.Label}", s.Runs))).ToArray());
            string outDir = context.ResolvePath(parse.GetValue(output)!);
            var meta = new JsonObject
            {
                ["benchmark"] = "codesign",
                ["command"] = CommandLine(parse),
                ["tables"] = new JsonArray(files.Select(x => (JsonNode)JsonValue.Create(x)!).ToArray()),
                ["accuracy_column"] = accColumn,
                ["dataset"] = datasetName,
                ["objectives"] = new JsonArray(CodesignBenchmark.Objectives.Select(o => (JsonNode)JsonValue.Create(o.ToString())!).ToArray()),
                ["constraints"] = new JsonArray(specs.Select(c => (JsonNode)JsonValue.Create(c.ToString())!).ToArray()),
                ["hardware_space"] = template.Parameters.Select(p => p.ToString()).Aggregate(new JsonArray(), (a, p) => { a.Add(p); return a; }),
                ["pairs_enumerated"] = bench.Enumeration.Pairs,
                ["enumeration_seconds"] = bench.Enumeration.Seconds,
                ["hardware_first_fixed_hardware"] = bench.FixedHardware,
                ["modes"] = new JsonArray(CodesignBenchmark.Modes.Select(m => (JsonNode)JsonValue.Create(m)!).ToArray()),
                ["seeds"] = parse.GetValue(seeds),
                ["machine"] = Machine.Describe(),
            };
            await WriteOutputsAsync(context, combined, meta, outDir, ct);
            return 0;
        });
        return command;
    }

    private static string CommandLine(ParseResult parse) =>
        "tandem " + string.Join(" ", parse.Tokens.Select(t => t.Value.Contains(' ') || t.Value.Contains('<') || t.Value.Contains('>') ? $"\"{t.Value}\"" : t.Value));

    private static Command Tabular(CliContext context)
    {
        var space = new Option<string>("--space") { Description = $"The tabular design space ({string.Join(", ", TabularSpace.Known)}).", Required = true };
        var tables = new Option<string[]>("--table") { Description = "CSV file giving every design's metrics; repeat to join several on --key.", Required = true };
        var key = new Option<string>("--key") { Description = "Column naming the design (NAS-Bench-201: arch_str).", DefaultValueFactory = _ => "arch_str" };
        var maximize = new Option<string[]>("--maximize") { Description = "Column to maximise; repeat for several." };
        var minimize = new Option<string[]>("--minimize") { Description = "Column to minimise; repeat for several." };
        var constraints = new Option<string[]>("--constraint") { Description = "Hard constraint on a column, e.g. \"raspi4_latency_ms<=20\"; repeat for several." };
        var strategies = new Option<string>("--strategies") { Description = "Comma-separated strategy labels (names, or keys of --strategy-options).", DefaultValueFactory = _ => "random,evolution,nsga2,bo,rl" };
        var strategyOptions = new Option<string?>("--strategy-options") { Description = "JSON file mapping labels to strategy sections, e.g. {\"bo-shrink\": {\"name\": \"bo\", \"shrinking\": true}}." };
        var budget = new Option<int>("--budget") { Description = "Distinct evaluations per run.", DefaultValueFactory = _ => 300 };
        var seeds = new Option<int>("--seeds") { Description = "Runs per strategy (seeds first-seed … first-seed+K−1).", DefaultValueFactory = _ => 10 };
        var firstSeed = new Option<int>("--first-seed") { Description = "First seed.", DefaultValueFactory = _ => 0 };
        var workers = new Option<int>("--workers") { Description = "Designs evaluated at a time (strategies are asked for batches of this size).", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out") { Description = "Folder for summary.json, curves.csv and the plots.", Required = true };

        var command = new Command("tabular", "Run strategies × seeds on a table of all designs and compare them with the exact Pareto front.");
        foreach (var o in new Option[] { space, tables, key, maximize, minimize, constraints, strategies, strategyOptions, budget, seeds, firstSeed, workers, output })
            command.Options.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            var objectives = (parse.GetValue(maximize) ?? []).Select(m => new Objective(m, Direction.Maximize))
                .Concat((parse.GetValue(minimize) ?? []).Select(m => new Objective(m, Direction.Minimize))).ToArray();
            if (objectives.Length == 0) throw new BenchmarkInputException("give at least one --maximize or --minimize column");
            var specs = (parse.GetValue(constraints) ?? []).Select(ParseConstraint).ToArray();
            int budgetValue = Positive(parse.GetValue(budget), "--budget");
            int seedCount = Positive(parse.GetValue(seeds), "--seeds");
            int workerCount = Positive(parse.GetValue(workers), "--workers");
            var files = (parse.GetValue(tables) ?? []).Select(context.ResolvePath).ToArray();
            var table = MetricTable.Load(files, parse.GetValue(key)!);
            var registry = StrategyCatalog.Create();
            var entries = Strategies(parse.GetValue(strategies)!, parse.GetValue(strategyOptions) is { } f ? context.ResolvePath(f) : null, registry);
            var options = new TabularBenchmarkOptions
            {
                Space = TabularSpace.Create(parse.GetValue(space)!),
                Table = table,
                Objectives = objectives,
                Constraints = specs,
                Strategies = entries,
                Budget = budgetValue,
                Seeds = seedCount,
                FirstSeed = parse.GetValue(firstSeed),
                Workers = workerCount,
            };
            string outDir = context.ResolvePath(parse.GetValue(output)!);
            var result = await new TabularBenchmark(options, registry).RunAsync(new SyncProgress(context.Error), ct);
            var meta = new JsonObject
            {
                ["benchmark"] = "tabular",
                ["command"] = CommandLine(parse),
                ["space"] = options.Space.Name,
                ["tables"] = new JsonArray(files.Select(x => (JsonNode)JsonValue.Create(x)!).ToArray()),
                ["key"] = table.Key,
                ["objectives"] = new JsonArray(objectives.Select(o => (JsonNode)JsonValue.Create(o.ToString())!).ToArray()),
                ["constraints"] = new JsonArray(specs.Select(c => (JsonNode)JsonValue.Create(c.ToString())!).ToArray()),
                ["seeds"] = seedCount,
                ["first_seed"] = options.FirstSeed,
                ["workers"] = workerCount,
                ["machine"] = Machine.Describe(),
            };
            await WriteOutputsAsync(context, result, meta, outDir, ct);
            return 0;
        });
        return command;
    }

    /// <summary>Writes summary.json, curves.csv and the two plots to <paramref name="outDir"/> and prints the result table.</summary>
    private static async Task WriteOutputsAsync(CliContext context, BenchmarkResult result, JsonObject meta, string outDir, CancellationToken ct)
    {
        await BenchmarkReport.WriteAsync(result, meta, outDir, ct);
        Plot(result, outDir);
        Print(context, result);
        context.Out.WriteLine($"wrote {Path.Combine(outDir, "summary.json")}, curves.csv, hypervolume_ratio.png, front_fraction.png");
    }

    internal static void Plot(BenchmarkResult result, string outDir)
    {
        var x = Enumerable.Range(1, result.Budget).Select(i => (double)i).ToArray();
        var hv = result.Strategies.Select(s => { var (m, d) = s.Curve(r => r.HypervolumeRatio); return new ConvergenceSeries(s.Label, x, m, d); }).ToArray();
        var ff = result.Strategies.Select(s => { var (m, d) = s.Curve(r => r.FrontFraction); return new ConvergenceSeries(s.Label, x, m, d); }).ToArray();
        ConvergencePlot.Render(hv, $"Hypervolume ratio to the exact front ({result.Exact.Size} members)", "evaluations", "hypervolume ratio", Path.Combine(outDir, "hypervolume_ratio.png"));
        ConvergencePlot.Render(ff, "Fraction of the exact Pareto front found", "evaluations", "front fraction", Path.Combine(outDir, "front_fraction.png"));
    }

    internal static void Print(CliContext context, BenchmarkResult result)
    {
        var table = new Table().AddColumns("strategy", "HV ratio (mean ± std)", "front found (mean ± std)", "s/run");
        foreach (var s in result.Strategies)
        {
            var (hv, hvs) = s.Curve(r => r.HypervolumeRatio);
            var (ff, ffs) = s.Curve(r => r.FrontFraction);
            var secs = StrategyResult.MeanStd(s.Runs.Select(r => r.Seconds).ToArray());
            table.AddRow(Markup.Escape(s.Label), $"{hv[^1]:F4} ± {hvs[^1]:F4}", $"{ff[^1]:P1} ± {ffs[^1]:P1}", $"{secs.Mean:F1}");
        }
        context.Out.Write(table);
    }

    private static Constraint ParseConstraint(string text)
    {
        try { return Constraint.Parse(text); }
        catch (FormatException e) { throw new BenchmarkInputException($"--constraint: {e.Message}"); }
    }

    private static int Positive(int value, string name) =>
        value >= 1 ? value : throw new BenchmarkInputException($"{name} must be at least 1 (got {value})");

    internal static IReadOnlyList<BenchmarkStrategy> Strategies(string list, string? optionsFile, StrategyRegistry registry)
    {
        ConfigMap? file = null;
        if (optionsFile != null)
        {
            if (!File.Exists(optionsFile)) throw new BenchmarkInputException($"--strategy-options: no such file {optionsFile}");
            file = JsonConfigReader.Parse(File.ReadAllText(optionsFile), optionsFile) as ConfigMap
                ?? throw new BenchmarkInputException($"{optionsFile}: expected a JSON object mapping labels to strategy sections");
        }
        var labels = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (labels.Length == 0) throw new BenchmarkInputException("--strategies is empty; accepted: " + string.Join(", ", registry.Available.Select(a => a.Name)));
        var result = new List<BenchmarkStrategy>();
        foreach (var label in labels)
        {
            ConfigMap config;
            if (file?.GetMap(label) is { } m) config = m;
            else
            {
                registry.EnsureKnown(label, ConfigMap.Empty("--strategies", "command line"));
                config = ConfigMap.Empty(label, "command line");
            }
            registry.EnsureKnown(config.GetString("name", label), config);
            result.Add(new BenchmarkStrategy(label, config));
        }
        return result;
    }

    /// <summary>Writes progress lines straight away (Progress&lt;T&gt; would post them to the thread pool out of order).</summary>
    private sealed class SyncProgress(TextWriter writer) : IProgress<string>
    {
        public void Report(string value) => writer.WriteLine(value);
    }
}

/// <summary>A bad benchmark flag (no objective, a malformed constraint, a missing options file).</summary>
internal sealed class BenchmarkInputException(string message) : InputException(message);

/// <summary>The strategy registry the CLI offers: Core's strategies plus the Torch project's RL controller.</summary>
internal static class StrategyCatalog
{
    public static StrategyRegistry Create() => Tandem.Torch.Search.TorchStrategies.Register(BuiltInStrategies.Register(new StrategyRegistry()));
}

/// <summary>Describes the machine a benchmark ran on (cores, CPU model, .NET and OS).</summary>
internal static class Machine
{
    public static JsonObject Describe()
    {
        string cpu = "unknown";
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException) { }
        return new JsonObject
        {
            ["cores"] = Environment.ProcessorCount,
            ["cpu"] = cpu,
            ["dotnet"] = Environment.Version.ToString(),
            ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        };
    }
}
