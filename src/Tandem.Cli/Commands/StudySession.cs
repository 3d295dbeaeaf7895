using Tandem.Cli.Output;
using Tandem.Core.Objectives;
using Tandem.Core.Studies;

namespace Tandem.Cli.Commands;

/// <summary>
/// One run of a bound study against its storage: search with progress, final retraining of the
/// front, the front table, the pruning summary and the output files. Shared by new and resumed studies.
/// </summary>
internal sealed class StudySession(CliContext context, ComponentCatalog catalog, IStudyStorage storage, StudyPlan plan, bool resumed, SearchArguments args)
{
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        try { return await RunCoreAsync(cancellationToken); }
        finally { (plan.Accuracy as IDisposable)?.Dispose(); } // e.g. a supernet's native tensors
    }

    private async Task<int> RunCoreAsync(CancellationToken cancellationToken)
    {
        var output = context.Out;
        PrintHeader();

        var evaluator = plan.CreateEvaluator();
        var strategyContext = plan.CreateStrategyContext(context.Time, evaluator);
        var strategy = catalog.Strategies.Create(plan.StrategyName, strategyContext, plan.StrategyOptions);
        var progress = new ConsoleProgress(context, plan.Objectives);
        var runner = new StudyRunner(storage, context.Time);
        var options = new StudyRunnerOptions
        {
            Budget = plan.Budget,
            Workers = plan.Workers,
            Canonicalize = plan.Problem.Canonicalize,
        };
        long start = context.Time.GetTimestamp();
        var result = await progress.RunAsync("searching", plan.Budget.MaxTrials,
            () => runner.RunAsync(plan.Name, strategyContext, strategy, evaluator, options, progress, cancellationToken));
        var searchTime = context.Time.GetElapsedTime(start);
        output.WriteLine($"Search stopped ({Describe(result.StopReason)}) after {Format.Duration(searchTime)}: " +
            $"{result.Trials.Count} designs ({result.EvaluatedThisRun} evaluated now{(resumed ? $", {result.ReplayedTrials} restored from storage" : "")}), " +
            $"{result.Duplicates} duplicate proposals answered from the cache.");

        var front = StudyFront.Of(result.Trials, plan.Objectives, plan.Specs);
        var selected = FinalRetrainer.Select(front, plan);
        if (selected.Count > 0)
        {
            output.WriteLine($"Retraining the {selected.Count} most accurate front design{(selected.Count > 1 ? "s" : "")} with ×{plan.Final.BudgetScale:G3} budget and measuring test accuracy…");
            long finalStart = context.Time.GetTimestamp();
            var retrainer = new FinalRetrainer(storage, context.Time);
            await retrainer.RunAsync(plan, selected, new SyncProgress<(int Done, int Total, TrialRecord Trial)>(p =>
                output.WriteLine($"  [{p.Done}/{p.Total}] trial #{p.Trial.Number}: test accuracy " +
                    $"{Format.Number(p.Trial.Metric(MetricNames.TestAccuracy) ?? double.NaN)} % " +
                    $"({Format.Number(p.Trial.Metric(FinalRetrainer.FinalSeconds) ?? double.NaN)} s)")), cancellationToken);
            output.WriteLine($"Final retraining took {Format.Duration(context.Time.GetElapsedTime(finalStart))}.");
        }
        await storage.SetStudyStatusAsync(plan.Name, StudyStatus.Finished, cancellationToken);

        var trials = await storage.GetTrialsAsync(plan.Name, cancellationToken);
        front = StudyFront.Of(trials, plan.Objectives, plan.Specs);
        StudyTables.PrintSummary(output, trials, plan.Specs);
        StudyTables.PrintFront(output, front, plan.Objectives, plan.Problem.Family, plan.Problem.Hardware != null);
        string dir = await StudyOutputs.WriteAsync(context, storage, plan.Name, plan.Objectives, plan.Specs, args.Out, cancellationToken);
        output.WriteLine($"Wrote trials.csv, front.csv, study.json, front.png and report.html to {dir}");
        output.WriteLine($"Stored in {storage.Description} as '{plan.Name}'. Show it again with: tandem show {plan.Name}" +
            (args.Storage is { } s ? $" --storage {s}" : ""));
        return TandemCli.ExitOk;
    }

    private void PrintHeader()
    {
        var o = context.Out;
        var space = plan.Problem.Space;
        o.WriteLine($"{(resumed ? "Resuming" : "Starting")} study '{plan.Name}' in {storage.Description}");
        o.WriteLine($"  space:      {space.Count} parameters, {(space.Size is { } n ? $"{n:N0} designs" : "continuous")}" +
            $" (network {plan.Problem.Family.Name}{(plan.Problem.Hardware is { } hw ? $", hardware {hw.Name}" : ", no hardware")})");
        o.WriteLine($"  task:       {plan.Problem.Task.Name}, input {plan.Problem.Task.Input}, {plan.Problem.Task.NumClasses} classes");
        o.WriteLine($"  objectives: {string.Join(", ", plan.Objectives)}");
        o.WriteLine($"  specs:      {(plan.Specs.Count == 0 ? "none" : string.Join(", ", plan.Specs.Select(c => $"{c.Metric} {c.Symbol} {Format.Number(c.Bound)} {MetricUnits.Of(c.Metric)}".TrimEnd())))}");
        o.WriteLine($"  strategy:   {plan.StrategyName}; accuracy: {plan.Accuracy?.Fidelity ?? "none"}; seed {plan.Seed}; workers {plan.Workers}");
        o.WriteLine($"  budget:     {(plan.Budget.MaxTrials is int t ? $"{t} designs" : "no design limit")}" +
            $"{(plan.Budget.TimeLimit is { } l ? $", {Format.Duration(l)} search time" : "")}" +
            $"{(plan.Accuracy != null && plan.Final.Top > 0 ? $", then retrain up to {plan.Final.Top} front designs ×{plan.Final.BudgetScale:G3}" : "")}");
    }

    private static string Describe(StopReason r) => r switch
    {
        StopReason.TrialBudget => "design budget reached",
        StopReason.TimeLimit => "time limit reached",
        StopReason.StrategyExhausted => "the strategy has nothing more to propose",
        _ => "the strategy kept proposing designs already evaluated",
    };
}

/// <summary>An <see cref="IProgress{T}"/> that calls its handler synchronously (no captured context, no reordering).</summary>
internal sealed class SyncProgress<T>(Action<T> handler) : IProgress<T>
{
    private readonly object _gate = new();
    public void Report(T value) { lock (_gate) handler(value); }
}
