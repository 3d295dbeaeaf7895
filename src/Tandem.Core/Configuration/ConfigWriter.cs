using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tandem.Core.Configuration;

/// <summary>
/// Writes a config tree as canonical JSON (scalars as strings, key order kept) and applies
/// command-line overrides to a tree. A study stores its resolved config this way, so a resumed study
/// binds exactly the components it was created with.
/// </summary>
public static class ConfigWriter
{
    public static string ToJson(ConfigNode node, bool indented = false)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            Write(w, node);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Write(Utf8JsonWriter w, ConfigNode node)
    {
        switch (node)
        {
            case ConfigMap m:
                w.WriteStartObject();
                foreach (var (k, v) in m.Entries) { w.WritePropertyName(k); Write(w, v); }
                w.WriteEndObject();
                break;
            case ConfigList l:
                w.WriteStartArray();
                foreach (var item in l.Items) Write(w, item);
                w.WriteEndArray();
                break;
            case ConfigScalar { Value: null }:
                w.WriteNullValue();
                break;
            case ConfigScalar s:
                w.WriteStringValue(s.Value);
                break;
        }
    }

    /// <summary>
    /// Returns a copy of <paramref name="root"/> with the value at a dotted path (e.g. "budget.trials")
    /// replaced by <paramref name="value"/> (creating maps on the way). Lists are written as a
    /// <see cref="ConfigList"/> of scalars. The new nodes' location is <paramref name="source"/>.
    /// </summary>
    public static ConfigMap Override(ConfigMap root, string path, object? value, string source = "command line")
    {
        var parts = path.Split('.');
        return (ConfigMap)Set(root, parts, 0, value, new SourceLocation(source, 0, 0));
    }

    private static ConfigNode Set(ConfigMap map, string[] parts, int i, object? value, SourceLocation loc)
    {
        string key = parts[i];
        string childPath = map.Join(key);
        ConfigNode replacement;
        if (i == parts.Length - 1)
            replacement = value switch
            {
                ConfigNode n => n,
                IEnumerable<string> list => new ConfigList(childPath, loc, list.Select((x, j) => (ConfigNode)new ConfigScalar($"{childPath}[{j}]", loc, x)).ToArray()),
                null => new ConfigScalar(childPath, loc, null),
                IFormattable f => new ConfigScalar(childPath, loc, f.ToString(null, System.Globalization.CultureInfo.InvariantCulture)),
                _ => new ConfigScalar(childPath, loc, value.ToString()),
            };
        else
        {
            var child = map[key] as ConfigMap ?? new ConfigMap(childPath, loc, []);
            replacement = Set(child, parts, i + 1, value, loc);
        }
        var entries = map.Entries.Where(e => e.Key != key).ToList();
        int at = map.Entries.ToList().FindIndex(e => e.Key == key);
        var pair = new KeyValuePair<string, ConfigNode>(key, replacement);
        if (at < 0) entries.Add(pair); else entries.Insert(at, pair);
        return new ConfigMap(map.Path, map.Location, entries);
    }
}
