using Tandem.Core;

namespace Tandem.Reporting.Plots;

/// <summary>
/// Saves a ScottPlot plot as PNG or SVG, chosen by the file extension (case-insensitive). Any other
/// extension is an <see cref="ReportException"/> naming the path and the accepted extensions; a missing
/// output folder is created. Output is deterministic: the same plot on the same machine gives the same bytes.
/// </summary>
internal static class PlotFiles
{
    public const int DefaultWidthPixels = 900;
    public const int DefaultHeightPixels = 600;

    public static void Save(ScottPlot.Plot plot, string path, int width = DefaultWidthPixels, int height = DefaultHeightPixels)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".png" or ".svg"))
            throw new ReportException($"cannot write the plot '{path}': the file name must end in .png or .svg");
        ReportFiles.EnsureFolder(path);
        try
        {
            if (ext == ".png") plot.SavePng(path, width, height);
            else plot.SaveSvg(path, width, height);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReportException($"cannot write the plot '{path}': {e.Message}", e);
        }
    }
}

/// <summary>
/// A plot, report or export could not be written where the user asked (bad extension, unwritable
/// folder), or an exported file given back to Tandem cannot be read (not a Tandem export, newer format).
/// </summary>
public sealed class ReportException : InputException
{
    public ReportException(string message) : base(message) { }
    public ReportException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Small file helpers shared by plots and exports.</summary>
internal static class ReportFiles
{
    public static void EnsureFolder(string path)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (string.IsNullOrEmpty(folder)) return;
        try { Directory.CreateDirectory(folder); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReportException($"cannot create the folder '{folder}' for '{path}': {e.Message}", e);
        }
    }
}
