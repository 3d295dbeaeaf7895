using System.Globalization;

namespace Tandem.Cli.Output;

/// <summary>Number formatting for tables: 4 significant digits, invariant culture, thousands separators for big integers.</summary>
internal static class Format
{
    public static string Number(double v)
    {
        if (double.IsNaN(v)) return "–";
        double a = Math.Abs(v);
        if (a >= 1e6 && v == Math.Floor(v)) return v.ToString("N0", CultureInfo.InvariantCulture);
        if (a >= 1000) return v.ToString("F0", CultureInfo.InvariantCulture);
        if (a >= 100) return v.ToString("F1", CultureInfo.InvariantCulture);
        if (a >= 1) return v.ToString("F2", CultureInfo.InvariantCulture);
        if (a == 0) return "0";
        return v.ToString("G3", CultureInfo.InvariantCulture);
    }

    public static string Duration(TimeSpan t) =>
        t.TotalSeconds < 60 ? $"{t.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s"
        : t.TotalMinutes < 60 ? $"{(int)t.TotalMinutes} min {t.Seconds} s" : $"{(int)t.TotalHours} h {t.Minutes} min";
}
