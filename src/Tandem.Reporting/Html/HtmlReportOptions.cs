namespace Tandem.Reporting.Html;

/// <summary>
/// Options of <see cref="HtmlReport"/>. The plot size is in pixels (at least 200 each way);
/// <see cref="MaxReasons"/> and <see cref="MaxEvents"/> (at least 1) bound the reason and event
/// tables so a long study still gives a readable page (the page says how many were left out).
/// </summary>
public sealed record HtmlReportOptions
{
    public string? Title { get; init; }
    public int PlotWidthPixels { get; init; } = 900;
    public int PlotHeightPixels { get; init; } = 600;
    public int MaxReasons { get; init; } = 10;
    public int MaxEvents { get; init; } = 50;
}
