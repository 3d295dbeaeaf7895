using System.Collections.Immutable;
using Tandem.Core.Configuration;
using Tandem.Core.Objectives;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Workloads;

namespace Tandem.Core.Accuracy.Tabular;

/// <summary>A network family whose designs have a name in published benchmark tables (NAS-Bench-201's architecture strings).</summary>
public interface ITableKeyedFamily : INetworkFamily
{
    /// <summary>The key of <paramref name="design"/> in the family's benchmark tables.</summary>
    string TableKey(Design design);
}

/// <summary>
/// Options of the tabular evaluator. <see cref="Files"/> are joined on <see cref="Key"/>;
/// <see cref="Column"/> gives the <c>accuracy</c> metric; <see cref="Extra"/> maps further metric
/// names to columns (e.g. a measured latency). <see cref="Task"/> is the dataset the table measured.
/// </summary>
public sealed record TableAccuracyOptions
{
    public required IReadOnlyList<string> Files { get; init; }
    public string Key { get; init; } = "arch_str";
    public required string Column { get; init; }
    public IReadOnlyDictionary<string, string> Extra { get; init; } = ImmutableDictionary<string, string>.Empty;
    public required TaskSpec Task { get; init; }
}

/// <summary>
/// Tabular fidelity: a design's accuracy is looked up in a benchmark table (e.g. NAS-Bench-201's
/// test accuracy after 200 epochs), so a search over the family takes seconds. The family must
/// name its designs (<see cref="ITableKeyedFamily"/>). Lookups are thread-safe; a design missing
/// from the table fails its trial. Registered as "table" with config
/// <c>accuracy: { evaluator: table, files: [nb201_accuracy.csv], key: arch_str, dataset: cifar10, column: cifar10_test_acc, metrics: { raspi4_latency_ms: raspi4_latency_ms } }</c>;
/// <c>dataset</c> (cifar10, cifar100, imagenet16-120) sets the task and the default column.
/// </summary>
public sealed class TableAccuracyEvaluator : IAccuracyEvaluator
{
    private readonly MetricTable _table;
    private readonly Func<Design, string> _keyOf;

    public TableAccuracyEvaluator(MetricTable table, TableAccuracyOptions options, Func<Design, string> keyOf)
    {
        _table = table;
        _keyOf = keyOf;
        Options = options;
        table.RequireColumn(options.Column, "accuracy column");
        table.Numbers(options.Column);
        foreach (var (_, column) in options.Extra)
        {
            table.RequireColumn(column);
            table.Numbers(column);
        }
        MetricNames = options.Extra.Keys.Prepend(Objectives.MetricNames.Accuracy).ToArray();
    }

    public TableAccuracyOptions Options { get; }
    public string Fidelity => "table";
    public TaskSpec Task => Options.Task;
    public IReadOnlyList<string> MetricNames { get; }

    public Task<AccuracyResult> EvaluateAsync(AccuracyRequest request, CancellationToken cancellationToken = default)
    {
        string key = _keyOf(request.Design);
        if (!_table.TryGetRow(key, out int row))
            throw new AccuracyEvaluationException($"no row with {_table.Key} '{key}' in {string.Join(" + ", _table.Files)}");
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [Objectives.MetricNames.Accuracy] = _table.Number(row, Options.Column),
        };
        foreach (var (metric, column) in Options.Extra) metrics[metric] = _table.Number(row, column);
        if (request.MeasureTest) metrics[Objectives.MetricNames.TestAccuracy] = metrics[Objectives.MetricNames.Accuracy];
        return System.Threading.Tasks.Task.FromResult(new AccuracyResult
        {
            Metrics = metrics,
            Fidelity = Fidelity,
            Attributes = ImmutableDictionary<string, string>.Empty.Add("table_key", key),
        });
    }

    /// <summary>The datasets NAS-Bench-201 reports, with their task shape and accuracy column.</summary>
    public static IReadOnlyDictionary<string, (TaskSpec Task, string Column)> Datasets { get; } =
        new Dictionary<string, (TaskSpec, string)>(StringComparer.OrdinalIgnoreCase)
        {
            ["cifar10"] = (new TaskSpec("cifar10", new TensorShape(3, 32, 32), 10), "cifar10_test_acc"),
            ["cifar100"] = (new TaskSpec("cifar100", new TensorShape(3, 32, 32), 100), "cifar100_test_acc"),
            ["imagenet16-120"] = (new TaskSpec("imagenet16-120", new TensorShape(3, 16, 16), 120), "imagenet16_120_test_acc"),
        };

    /// <summary>Registers the evaluator under the name "table".</summary>
    public static AccuracyEvaluatorRegistry Register(AccuracyEvaluatorRegistry registry) =>
        registry.Register("table", "look accuracy up in a benchmark table (NAS-Bench-201 CSVs); options: files, key, dataset, column, metrics", Create);

    private static IAccuracyEvaluator Create(ConfigMap options, AccuracyEnvironment environment)
    {
        options.CheckKeys("evaluator", "fidelity", "files", "key", "dataset", "column", "metrics");
        var files = options.GetStringList("files") ?? throw options.Error("'files' is required: the CSV table(s) to look accuracy up in");
        string baseDir = environment.DataDirectory ?? environment.WorkingDirectory;
        var paths = files.Select(f => Path.GetFullPath(Path.Combine(baseDir, f))).ToArray();
        string dataset = options.GetChoice("dataset", "cifar10", Datasets.Keys);
        var (task, column) = Datasets[dataset];
        var extra = new Dictionary<string, string>(StringComparer.Ordinal);
        if (options.GetMap("metrics") is { } m)
            foreach (var (metric, _) in m.Entries) extra[metric] = m.RequireString(metric);
        if (environment.Family is not ITableKeyedFamily keyed)
            throw options.Error($"the table evaluator needs a family whose designs are named in the table (nb201); '{environment.Family.Name}' is not");
        var table = MetricTable.Load(paths, options.GetString("key", "arch_str"));
        return new TableAccuracyEvaluator(table, new TableAccuracyOptions
        {
            Files = paths,
            Key = table.Key,
            Column = options.GetString("column", column),
            Extra = extra,
            Task = task,
        }, keyed.TableKey);
    }
}
