using System.Globalization;

namespace Tandem.Core.Configuration;

/// <summary>Where a config value came from (file and 1-based line/column; line 0 when unknown).</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}" : File;
}

/// <summary>
/// A node of a parsed configuration document (YAML or JSON): a map, a list or a scalar, with its
/// dotted path from the root (e.g. "strategy.population") and its source location. Readers of
/// components (strategies, families, templates, evaluators) bind their options from these nodes
/// through the typed getters of <see cref="ConfigMap"/>, which raise one clear
/// <see cref="ConfigException"/> naming file, line, key, the bad value and what is accepted.
/// </summary>
public abstract class ConfigNode
{
    protected ConfigNode(string path, SourceLocation location)
    {
        Path = path;
        Location = location;
    }

    public string Path { get; }
    public SourceLocation Location { get; }

    /// <summary>"file:line: 'path'" prefix for messages.</summary>
    public string Where => Path.Length == 0 ? $"{Location}" : $"{Location}: '{Path}'";

    public abstract string KindName { get; }

    public ConfigException Error(string message) => new($"{Where}: {message}");
}

/// <summary>A scalar value as written (YAML plain/quoted text, or a JSON string/number/bool/null).</summary>
public sealed class ConfigScalar(string path, SourceLocation location, string? value) : ConfigNode(path, location)
{
    /// <summary>The text, or null for an explicit null / "~".</summary>
    public string? Value { get; } = value;

    public override string KindName => "a single value";

    public double AsDouble()
    {
        if (Value != null && double.TryParse(Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)) return d;
        throw Error($"'{Value}' is not a number");
    }

    public long AsLong()
    {
        if (Value != null && long.TryParse(Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n)) return n;
        if (Value != null && double.TryParse(Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d == Math.Floor(d) && Math.Abs(d) < 9e15)
            return (long)d;
        throw Error($"'{Value}' is not a whole number");
    }

    public bool AsBool() => Value?.ToLowerInvariant() switch
    {
        "true" or "yes" or "on" => true,
        "false" or "no" or "off" => false,
        _ => throw Error($"'{Value}' is not true or false"),
    };

    public override string ToString() => Value ?? "null";
}

/// <summary>An ordered list of nodes.</summary>
public sealed class ConfigList(string path, SourceLocation location, IReadOnlyList<ConfigNode> items) : ConfigNode(path, location)
{
    public IReadOnlyList<ConfigNode> Items { get; } = items;
    public override string KindName => "a list";
}

/// <summary>An ordered map from keys to nodes. Keys are compared case-sensitively, as written.</summary>
public sealed class ConfigMap : ConfigNode
{
    private readonly List<KeyValuePair<string, ConfigNode>> _entries;

    public ConfigMap(string path, SourceLocation location, IEnumerable<KeyValuePair<string, ConfigNode>> entries) : base(path, location)
    {
        _entries = entries.ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, node) in _entries)
            if (!seen.Add(key)) throw node.Error("this key is given twice");
    }

    /// <summary>An empty map (all getters return their defaults).</summary>
    public static ConfigMap Empty(string path = "", string file = "(defaults)") => new(path, new SourceLocation(file, 0, 0), []);

    public override string KindName => "a map of keys";
    public IReadOnlyList<KeyValuePair<string, ConfigNode>> Entries => _entries;
    public IEnumerable<string> Keys => _entries.Select(e => e.Key);
    public bool Has(string key) => _entries.Any(e => e.Key == key);

    public ConfigNode? this[string key] => _entries.FirstOrDefault(e => e.Key == key).Value;

    /// <summary>Rejects keys outside <paramref name="allowed"/>, suggesting the closest accepted key.</summary>
    public ConfigMap CheckKeys(params IEnumerable<string> allowed)
    {
        var accepted = allowed.ToArray();
        foreach (var (key, node) in _entries)
        {
            if (accepted.Contains(key, StringComparer.Ordinal)) continue;
            string? close = DidYouMean.Closest(key, accepted);
            string hint = close != null ? $" did you mean '{close}'?" : "";
            string where = Path.Length == 0 ? "at the top level" : $"in '{Path}'";
            throw new ConfigException($"{node.Location}: unknown key '{key}' {where};{hint} accepted keys: {string.Join(", ", accepted)}");
        }
        return this;
    }

    public ConfigMap? GetMap(string key)
    {
        var node = this[key];
        if (node is null || node is ConfigScalar { Value: null }) return null;
        return node as ConfigMap ?? throw node.Error($"expected {KindOf<ConfigMap>()}, found {node.KindName}");
    }

    public ConfigMap GetMapOrEmpty(string key) => GetMap(key) ?? Empty(Join(key), Location.File);

    public ConfigList? GetList(string key)
    {
        var node = this[key];
        if (node is null || node is ConfigScalar { Value: null }) return null;
        if (node is ConfigScalar s) return new ConfigList(node.Path, node.Location, [s]); // "x: 5" stands for "x: [5]"
        return node as ConfigList ?? throw node.Error($"expected a list, found {node.KindName}");
    }

    public ConfigScalar? GetScalar(string key)
    {
        var node = this[key];
        if (node is null) return null;
        return node as ConfigScalar ?? throw node.Error($"expected a single value, found {node.KindName}");
    }

    public string? GetString(string key) => GetScalar(key)?.Value;
    public string GetString(string key, string defaultValue) => GetScalar(key)?.Value ?? defaultValue;

    public string RequireString(string key) =>
        GetString(key) ?? throw new ConfigException($"{Location}: '{Join(key)}' is required");

    /// <summary>A string that must be one of <paramref name="choices"/> (case-insensitive), returned as listed.</summary>
    public string GetChoice(string key, string defaultValue, params IEnumerable<string> choices)
    {
        var node = GetScalar(key);
        if (node?.Value is null) return defaultValue;
        var all = choices.ToArray();
        var match = all.FirstOrDefault(c => string.Equals(c, node.Value, StringComparison.OrdinalIgnoreCase));
        if (match != null) return match;
        string? close = DidYouMean.Closest(node.Value, all);
        throw node.Error($"'{node.Value}' is not accepted;{(close != null ? $" did you mean '{close}'?" : "")} accepted: {string.Join(", ", all)}");
    }

    public int GetInt(string key, int defaultValue, int min = int.MinValue, int max = int.MaxValue) =>
        (int)GetLong(key, defaultValue, min == int.MinValue ? long.MinValue : min, max == int.MaxValue ? int.MaxValue : max);

    public long GetLong(string key, long defaultValue, long min = long.MinValue, long max = long.MaxValue)
    {
        var node = GetScalar(key);
        if (node?.Value is null) return defaultValue;
        long v = node.AsLong();
        if (v < min || v > max) throw node.Error($"{v} is out of range; accepted: {RangeText(min, max)}");
        return v;
    }

    public double GetDouble(string key, double defaultValue, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        var node = GetScalar(key);
        if (node?.Value is null) return defaultValue;
        double v = node.AsDouble();
        if (v < min || v > max) throw node.Error($"{v.ToString(CultureInfo.InvariantCulture)} is out of range; accepted: {RangeText(min, max)}");
        return v;
    }

    public double? GetOptionalDouble(string key, double min = double.NegativeInfinity, double max = double.PositiveInfinity) =>
        GetScalar(key)?.Value is null ? null : GetDouble(key, 0, min, max);

    public bool GetBool(string key, bool defaultValue)
    {
        var node = GetScalar(key);
        return node?.Value is null ? defaultValue : node.AsBool();
    }

    /// <summary>A duration such as "90s", "12m", "1.5h", "500ms" or a bare number of seconds.</summary>
    public TimeSpan? GetDuration(string key)
    {
        var node = GetScalar(key);
        if (node?.Value is null) return null;
        if (!DurationParser.TryParse(node.Value, out var span) || span <= TimeSpan.Zero)
            throw node.Error($"'{node.Value}' is not a positive duration; write e.g. 90s, 12m, 1.5h or a number of seconds");
        return span;
    }

    public IReadOnlyList<double>? GetNumberList(string key, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        var list = GetList(key);
        if (list is null) return null;
        if (list.Items.Count == 0) throw list.Error("the list is empty; give at least one value");
        var result = new List<double>();
        foreach (var item in list.Items)
        {
            if (item is not ConfigScalar s) throw item.Error($"expected a number, found {item.KindName}");
            double v = s.AsDouble();
            if (v < min || v > max) throw s.Error($"{v.ToString(CultureInfo.InvariantCulture)} is out of range; accepted: {RangeText(min, max)}");
            result.Add(v);
        }
        return result;
    }

    public IReadOnlyList<string>? GetStringList(string key)
    {
        var list = GetList(key);
        if (list is null) return null;
        if (list.Items.Count == 0) throw list.Error("the list is empty; give at least one value");
        return list.Items.Select(i => i is ConfigScalar { Value: not null } s ? s.Value : throw i.Error($"expected a value, found {i.KindName}")).ToArray();
    }

    public string Join(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    private static string KindOf<T>() => typeof(T) == typeof(ConfigMap) ? "a map of keys" : typeof(T).Name;

    private static string RangeText(double min, double max) =>
        (double.IsNegativeInfinity(min) || min <= long.MinValue, double.IsPositiveInfinity(max) || max >= int.MaxValue) switch
        {
            (true, true) => "any number",
            (true, false) => $"≤ {max.ToString(CultureInfo.InvariantCulture)}",
            (false, true) => $"≥ {min.ToString(CultureInfo.InvariantCulture)}",
            _ => $"{min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}",
        };
}

/// <summary>A configuration error: names the file, line, key and value, and what is accepted.</summary>
public sealed class ConfigException(string message) : InputException(message);
