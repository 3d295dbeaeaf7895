namespace Tandem.Core.Configuration;

/// <summary>Suggests the closest accepted word for a misspelt key or value (Damerau-Levenshtein).</summary>
public static class DidYouMean
{
    /// <summary>The closest candidate within a distance of max(2, length/3), or null.</summary>
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            int d = Distance(word.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance) { bestDistance = d; best = c; }
        }
        return best != null && bestDistance <= Math.Max(2, word.Length / 3) ? best : null;
    }

    /// <summary>Optimal-string-alignment distance (insert, delete, substitute, swap adjacent).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}

/// <summary>Parses durations written as "500ms", "90s", "12m", "1.5h" or a bare number of seconds.</summary>
public static class DurationParser
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        text = text.Trim().ToLowerInvariant();
        (string suffix, double scale)[] units = [("ms", 1e-3), ("s", 1), ("min", 60), ("m", 60), ("h", 3600)];
        double factor = 1;
        foreach (var (suffix, scale) in units)
            if (text.EndsWith(suffix, StringComparison.Ordinal)) { factor = scale; text = text[..^suffix.Length].Trim(); break; }
        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double n)
            || !double.IsFinite(n) || n * factor > TimeSpan.MaxValue.TotalSeconds) return false;
        value = TimeSpan.FromSeconds(n * factor);
        return true;
    }
}
