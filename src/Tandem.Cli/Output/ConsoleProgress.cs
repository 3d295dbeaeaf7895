using System.Globalization;
using Tandem.Core.Objectives;
using Tandem.Core.Studies;

namespace Tandem.Cli.Output;

/// <summary>
/// Progress of a running study. In a terminal, a live Spectre progress bar; when output is
/// redirected (CI, files), one plain line at most every <see cref="LineInterval"/> and at the end.
/// Reports arrive from worker threads; this class serialises them.
/// </summary>
internal sealed class ConsoleProgress(CliContext context, IReadOnlyList<Objective> objectives) : IProgress<StudyProgress>
{
    public static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(5);

    private readonly object _gate = new();
    private long _lastLine = long.MinValue;
    private ProgressTask? _task;

    /// <summary>Runs <paramref name="work"/> with a live bar (terminal) or line reporting (redirected).</summary>
    public async Task<T> RunAsync<T>(string title, int? total, Func<Task<T>> work)
    {
        if (!context.Interactive) return await work();
        T result = default!;
        await context.Out.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                _task = ctx.AddTask(title, maxValue: total ?? 100);
                _task.IsIndeterminate = total is null;
                result = await work();
                _task.Value = _task.MaxValue;
                _task.StopTask();
            });
        return result;
    }

    public void Report(StudyProgress p)
    {
        lock (_gate)
        {
            string summary = Summary(p);
            if (_task != null)
            {
                _task.Description = Markup.Escape(summary);
                if (p.MaxTrials is int max) _task.Value = Math.Min(p.Finished, max);
                else if (p.TimeLimit is { } limit) _task.Value = Math.Min(100, 100 * p.Elapsed / limit);
                return;
            }
            long now = context.Time.GetTimestamp();
            bool last = p.MaxTrials is int m && p.Finished >= m;
            if (!last && _lastLine != long.MinValue && context.Time.GetElapsedTime(_lastLine, now) < LineInterval) return;
            _lastLine = now;
            context.Out.WriteLine($"[{Clock(p.Elapsed)}] {summary}");
        }
    }

    public static string Clock(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"mm\:ss", CultureInfo.InvariantCulture);

    private string Summary(StudyProgress p)
    {
        string total = p.MaxTrials is int max ? $"/{max}" : "";
        string s = $"trials {p.Finished}{total} ({p.Complete} complete, {p.Pruned} pruned, {p.Failed} failed)";
        if (p.LastTrial is { } t)
        {
            s += $" · last #{t.Number} {t.State.ToString().ToLowerInvariant()}";
            foreach (var o in objectives)
                if (t.Metrics.TryGetValue(o.Metric, out double v)) s += $" {o.Metric} {Format.Number(v)} {MetricUnits.Of(o.Metric)}".TrimEnd();
        }
        return s;
    }
}
