using Tandem.Core.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tandem.Cli.Configuration;

/// <summary>Reads a YAML (or JSON, which is YAML) document into Core's config tree, keeping line numbers for messages.</summary>
internal static class YamlConfigReader
{
    public static ConfigMap ReadFile(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (FileNotFoundException) { throw new ConfigException($"{path}: the config file does not exist"); }
        catch (DirectoryNotFoundException) { throw new ConfigException($"{path}: the config file's folder does not exist"); }
        catch (UnauthorizedAccessException) { throw new ConfigException($"{path}: the config file cannot be read (permission denied)"); }
        catch (IOException e) { throw new ConfigException($"{path}: the config file cannot be read: {e.Message}"); }
        return Parse(text, path);
    }

    public static ConfigMap Parse(string text, string file)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlException e)
        {
            throw new ConfigException($"{file}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {(e.InnerException ?? e).Message}");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this (without a position) on some malformed input, e.g. an unclosed "[".
            throw new ConfigException($"{file}: not valid YAML (an unclosed bracket, brace or quote?)");
        }
        if (stream.Documents.Count == 0) throw new ConfigException($"{file}: the config file is empty");
        if (stream.Documents.Count > 1) throw new ConfigException($"{file}: holds {stream.Documents.Count} YAML documents; give one");
        var root = Convert(stream.Documents[0].RootNode, "", file);
        return root as ConfigMap ?? throw new ConfigException($"{file}: the top level must be a map of keys (name:, network:, hardware:, …), found {root.KindName}");
    }

    private static ConfigNode Convert(YamlNode node, string path, string file)
    {
        var loc = new SourceLocation(file, (int)node.Start.Line, (int)node.Start.Column);
        switch (node)
        {
            case YamlMappingNode map:
                var entries = new List<KeyValuePair<string, ConfigNode>>();
                foreach (var (k, v) in map.Children)
                {
                    if (k is not YamlScalarNode { Value: { } key })
                        throw new ConfigException($"{file}:{k.Start.Line}:{k.Start.Column}: a key must be plain text");
                    entries.Add(new(key, Convert(v, path.Length == 0 ? key : $"{path}.{key}", file)));
                }
                return new ConfigMap(path, loc, entries);
            case YamlSequenceNode seq:
                return new ConfigList(path, loc, seq.Children.Select((c, i) => Convert(c, $"{path}[{i}]", file)).ToArray());
            case YamlScalarNode scalar:
                bool isNull = scalar.Style == ScalarStyle.Plain && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";
                return new ConfigScalar(path, loc, isNull ? null : scalar.Value);
            default:
                throw new ConfigException($"{loc}: YAML aliases and tags are not supported here");
        }
    }
}
