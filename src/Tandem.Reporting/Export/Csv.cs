using System.Text;

namespace Tandem.Reporting.Export;

/// <summary>
/// RFC 4180 CSV: fields separated by commas, records ended by CRLF; a field holding a comma, a
/// quote, CR, LF or leading/trailing spaces is enclosed in double quotes with inner quotes doubled.
/// <see cref="Parse"/> reads exactly what <see cref="Write"/> writes (and any RFC 4180 text).
/// </summary>
internal static class Csv
{
    public const string NewLine = "\r\n";

    public static void Write(TextWriter writer, IEnumerable<string?> fields)
    {
        bool first = true;
        foreach (string? field in fields)
        {
            if (!first) writer.Write(',');
            first = false;
            writer.Write(Quote(field ?? ""));
        }
        writer.Write(NewLine);
    }

    public static string Quote(string field)
    {
        bool needs = field.Length > 0 && (field[0] == ' ' || field[^1] == ' ')
            || field.AsSpan().IndexOfAny(",\"\r\n") >= 0;
        return needs ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
    }

    /// <summary>Rows of fields; a quoted field keeps its line breaks. Throws <see cref="FormatException"/> on a stray quote.</summary>
    public static List<string[]> Parse(string text)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var field = new StringBuilder();
        int i = 0;
        bool fieldStarted = false;
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '"' && field.Length == 0 && !fieldStarted)
            {
                fieldStarted = true;
                i++;
                while (true)
                {
                    if (i >= text.Length) throw new FormatException("unterminated quoted field");
                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    field.Append(text[i++]);
                }
                if (i < text.Length && text[i] is not (',' or '\r' or '\n')) throw new FormatException($"text after a closing quote at {i}");
                continue;
            }
            if (c == ',') { row.Add(field.ToString()); field.Clear(); fieldStarted = false; i++; continue; }
            if (c is '\r' or '\n')
            {
                row.Add(field.ToString());
                field.Clear();
                fieldStarted = false;
                rows.Add(row.ToArray());
                row.Clear();
                i += c == '\r' && i + 1 < text.Length && text[i + 1] == '\n' ? 2 : 1;
                continue;
            }
            if (c == '"') throw new FormatException($"a quote inside an unquoted field at {i}");
            field.Append(c);
            fieldStarted = true;
            i++;
        }
        if (fieldStarted || field.Length > 0 || row.Count > 0)
        {
            row.Add(field.ToString());
            rows.Add(row.ToArray());
        }
        return rows;
    }
}
