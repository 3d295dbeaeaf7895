using System.Text.Json;

namespace Tandem.Core.Configuration;

/// <summary>
/// Reads a JSON document into <see cref="ConfigNode"/>s (System.Text.Json does not expose line
/// numbers per node, so locations name the file and the path only). YAML is read by the CLI.
/// </summary>
public static class JsonConfigReader
{
    public static ConfigNode Parse(string json, string file)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException e) { throw new ConfigException($"{file}:{(e.LineNumber ?? 0) + 1}: not valid JSON: {e.Message}"); }
        using (doc) return Convert(doc.RootElement, "", file);
    }

    private static ConfigNode Convert(JsonElement e, string path, string file)
    {
        var loc = new SourceLocation(file, 0, 0);
        return e.ValueKind switch
        {
            JsonValueKind.Object => new ConfigMap(path, loc, e.EnumerateObject()
                .Select(p => new KeyValuePair<string, ConfigNode>(p.Name, Convert(p.Value, path.Length == 0 ? p.Name : $"{path}.{p.Name}", file)))),
            JsonValueKind.Array => new ConfigList(path, loc, e.EnumerateArray().Select((x, i) => Convert(x, $"{path}[{i}]", file)).ToArray()),
            JsonValueKind.String => new ConfigScalar(path, loc, e.GetString()),
            JsonValueKind.Null => new ConfigScalar(path, loc, null),
            JsonValueKind.True => new ConfigScalar(path, loc, "true"),
            JsonValueKind.False => new ConfigScalar(path, loc, "false"),
            _ => new ConfigScalar(path, loc, e.GetRawText()),
        };
    }
}
