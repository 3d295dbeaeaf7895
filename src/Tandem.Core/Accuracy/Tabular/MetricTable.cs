using System.Globalization;
using System.Text;
using Tandem.Core.Configuration;

namespace Tandem.Core.Accuracy.Tabular;

/// <summary>A table file that cannot be used: missing, malformed, a missing or non-numeric column, a duplicate or missing key.</summary>
public sealed class TableException(string message) : InputException(message);

/// <summary>
/// An immutable table of metrics, one row per design, keyed by a text column (e.g. NAS-Bench-201's
/// <c>arch_str</c>). Loaded from one or more CSV files (comma-separated, header line, RFC 4180
/// quotes) joined on the key column: every file must hold exactly the same keys, each once, and a
/// column present in several files must agree on every row. Numbers use the invariant culture.
/// Errors name the file, the line and the column.
/// </summary>
public sealed class MetricTable
{
    private readonly Dictionary<string, int> _rows;
    private readonly Dictionary<string, int> _columnIndex;
    private readonly string[][] _text; // [column][row]
    private readonly double[]?[] _numbers; // [column][row], null when the column is not numeric
    private readonly string[] _sources;
    private readonly int[][] _lines; // [column][row]: line number in the column's source file

    private MetricTable(string key, IReadOnlyList<string> files, string[] columns, string[][] text, string[] sources, int[][] lines, List<string> keys)
    {
        _lines = lines;
        Key = key;
        Files = files;
        Columns = columns;
        _text = text;
        _sources = sources;
        _columnIndex = columns.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        _rows = keys.Select((k, i) => (k, i)).ToDictionary(x => x.k, x => x.i, StringComparer.Ordinal);
        Keys = keys;
        _numbers = new double[]?[columns.Length];
        for (int c = 0; c < columns.Length; c++)
        {
            var values = new double[keys.Count];
            bool numeric = true;
            for (int r = 0; r < keys.Count && numeric; r++)
                numeric = double.TryParse(text[c][r], NumberStyles.Float, CultureInfo.InvariantCulture, out values[r]);
            _numbers[c] = numeric ? values : null;
        }
    }

    /// <summary>Name of the key column.</summary>
    public string Key { get; }

    public IReadOnlyList<string> Files { get; }

    /// <summary>All columns (the key first), in the order first seen across the files.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>Keys in the row order of the first file.</summary>
    public IReadOnlyList<string> Keys { get; }

    public int RowCount => Keys.Count;

    public bool HasColumn(string column) => _columnIndex.ContainsKey(column);

    public bool TryGetRow(string key, out int row) => _rows.TryGetValue(key, out row);

    public bool IsNumeric(string column) => _numbers[ColumnIndex(column)] is not null;

    /// <summary>The numeric values of a column, in row order; throws <see cref="TableException"/> if missing or not numeric.</summary>
    public IReadOnlyList<double> Numbers(string column)
    {
        int c = ColumnIndex(column);
        if (_numbers[c] is { } values) return values;
        int bad = Enumerable.Range(0, RowCount).First(r => !double.TryParse(_text[c][r], NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        throw new TableException($"{_sources[c]}:{_lines[c][bad]}: column '{column}' is not a number there ('{_text[c][bad]}', {Key} '{Keys[bad]}')");
    }

    public double Number(int row, string column) => Numbers(column)[row];

    public string Text(int row, string column) => _text[ColumnIndex(column)][row];

    /// <summary>Throws a <see cref="TableException"/> naming the files and the accepted columns unless <paramref name="column"/> exists.</summary>
    public void RequireColumn(string column, string role = "column") => ColumnIndex(column, role);

    private int ColumnIndex(string column, string role = "column")
    {
        if (_columnIndex.TryGetValue(column, out int c)) return c;
        string? close = DidYouMean.Closest(column, Columns);
        throw new TableException(
            $"{string.Join(" + ", Files)}: no {role} '{column}';{(close != null ? $" did you mean '{close}'?" : "")} columns: {string.Join(", ", Columns)}");
    }

    /// <summary>Loads and joins CSV files on <paramref name="key"/>.</summary>
    public static MetricTable Load(IReadOnlyList<string> files, string key)
    {
        if (files.Count == 0) throw new TableException("no table file given");
        var columns = new List<string> { key };
        var sources = new List<string> { files[0] };
        var text = new List<string[]>();
        var lines = new List<int[]>();
        List<string>? keys = null;
        Dictionary<string, int>? rowOf = null;
        foreach (var file in files)
        {
            var (header, rows) = ReadCsv(file);
            int keyCol = Array.IndexOf(header, key);
            if (keyCol < 0)
            {
                string? close = DidYouMean.Closest(key, header);
                throw new TableException($"{file}:1: no key column '{key}';{(close != null ? $" did you mean '{close}'?" : "")} columns: {string.Join(", ", header)}");
            }
            var fileRowOf = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int r = 0; r < rows.Count; r++)
            {
                string k = rows[r].Fields[keyCol];
                if (!fileRowOf.TryAdd(k, r))
                    throw new TableException($"{file}:{rows[r].Line}: {key} '{k}' appears twice (first at line {rows[fileRowOf[k]].Line})");
            }
            if (keys is null)
            {
                keys = rows.Select(r => r.Fields[keyCol]).ToList();
                rowOf = fileRowOf;
                text.Add(keys.ToArray());
                lines.Add(rows.Select(r => r.Line).ToArray());
            }
            else
            {
                var missing = keys.FirstOrDefault(k => !fileRowOf.ContainsKey(k));
                if (missing != null)
                    throw new TableException($"{file}: has no row for {key} '{missing}' (present in {files[0]}); joined tables must cover the same designs");
                var extra = fileRowOf.Keys.FirstOrDefault(k => !rowOf!.ContainsKey(k));
                if (extra != null)
                    throw new TableException($"{file}:{rows[fileRowOf[extra]].Line}: {key} '{extra}' is not in {files[0]}; joined tables must cover the same designs");
            }
            for (int c = 0; c < header.Length; c++)
            {
                if (c == keyCol) continue;
                var values = keys.Select(k => rows[fileRowOf[k]].Fields[c]).ToArray();
                int existing = columns.IndexOf(header[c]);
                if (existing >= 0)
                {
                    for (int r = 0; r < keys.Count; r++)
                        if (!SameValue(text[existing][r], values[r]))
                            throw new TableException(
                                $"{file}:{rows[fileRowOf[keys[r]]].Line}: column '{header[c]}' is '{values[r]}' but {sources[existing]} has '{text[existing][r]}' for {key} '{keys[r]}'");
                    continue;
                }
                columns.Add(header[c]);
                sources.Add(file);
                text.Add(values);
                lines.Add(keys.Select(k => rows[fileRowOf[k]].Line).ToArray());
            }
        }
        return new MetricTable(key, files, columns.ToArray(), text.ToArray(), sources.ToArray(), lines.ToArray(), keys!);
    }

    private static bool SameValue(string a, string b) =>
        a == b || (double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out double x)
                   && double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out double y) && x == y);

    private static (string[] Header, List<(int Line, string[] Fields)> Rows) ReadCsv(string file)
    {
        if (!File.Exists(file)) throw new TableException($"{file}: no such table file");
        var lines = File.ReadAllLines(file);
        int first = 0;
        while (first < lines.Length && string.IsNullOrWhiteSpace(lines[first])) first++;
        if (first == lines.Length) throw new TableException($"{file}: the file is empty; expected a CSV header line");
        var header = Split(lines[first], file, first + 1).Select(h => h.Trim()).ToArray();
        var dup = header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
        if (dup != null) throw new TableException($"{file}:{first + 1}: column '{dup.Key}' appears twice in the header");
        var rows = new List<(int, string[])>();
        for (int i = first + 1; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            var fields = Split(lines[i], file, i + 1);
            if (fields.Length != header.Length)
                throw new TableException($"{file}:{i + 1}: {fields.Length} fields but the header has {header.Length} ({string.Join(", ", header)})");
            rows.Add((i + 1, fields));
        }
        if (rows.Count == 0) throw new TableException($"{file}: no data rows after the header");
        return (header, rows);
    }

    private static string[] Split(string line, string file, int lineNumber)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else sb.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(ch);
        }
        if (quoted) throw new TableException($"{file}:{lineNumber}: a quoted field is not closed");
        fields.Add(sb.ToString());
        return fields.ToArray();
    }
}
