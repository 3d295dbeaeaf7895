using Tandem.Core.Objectives;
using Tandem.Core.Studies;
using Tandem.Reporting;
using Tandem.Reporting.Export;
using Tandem.Reporting.Html;
using Tandem.Reporting.Plots;

namespace Tandem.Cli.Output;

/// <summary>
/// Writes a study's files into one folder: <c>trials.csv</c>, <c>front.csv</c>, <c>study.json</c>,
/// <c>front.png</c> and <c>report.html</c>. Used by <c>tandem search</c> at the end and by <c>tandem show --out</c>.
/// </summary>
internal static class StudyOutputs
{
    public static string DefaultFolder(CliContext context, string study) =>
        context.ResolvePath(Path.Combine("tandem-out", string.Concat(study.Select(c => Path.GetInvalidFileNameChars().Contains(c) || c == ' ' ? '_' : c))));

    public static async Task<string> WriteAsync(CliContext context, IStudyStorage storage, string study, IReadOnlyList<Objective> objectives,
        IReadOnlyList<Constraint> specs, string? folder, CancellationToken cancellationToken)
    {
        string dir = folder is null ? DefaultFolder(context, study) : context.ResolvePath(folder);
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Core.InputException($"cannot create the output folder {dir}: {e.Message}");
        }
        var data = await StudyReportData.LoadAsync(storage, study, objectives, specs, cancellationToken);
        StudyExport.WriteTrialsCsv(data, Path.Combine(dir, "trials.csv"));
        StudyExport.WriteFrontCsv(data, Path.Combine(dir, "front.csv"));
        StudyExport.WriteJson(data, Path.Combine(dir, "study.json"));
        FrontPlot.Render(data.Trials, objectives, data.FrontNumbers().ToHashSet(), Path.Combine(dir, "front.png"),
            new FrontPlotOptions { Title = $"{study}: {data.Trials.Count} designs", Constraints = specs });
        HtmlReport.Write(data, Path.Combine(dir, "report.html"));
        return dir;
    }
}
