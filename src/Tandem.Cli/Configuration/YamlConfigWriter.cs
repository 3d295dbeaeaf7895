using System.Text;
using Tandem.Core.Configuration;

namespace Tandem.Cli.Configuration;

/// <summary>Writes a config tree as block-style YAML (lists of scalars inline), quoting only when needed.</summary>
internal static class YamlConfigWriter
{
    public static string Write(ConfigNode node)
    {
        var sb = new StringBuilder();
        if (node is ConfigMap m) WriteMap(sb, m, 0);
        else sb.Append(Scalar(node)).Append('\n');
        return sb.ToString();
    }

    private static void WriteMap(StringBuilder sb, ConfigMap map, int indent)
    {
        foreach (var (key, value) in map.Entries)
        {
            sb.Append(' ', indent).Append(key).Append(':');
            switch (value)
            {
                case ConfigMap child when child.Entries.Count == 0:
                    sb.Append(" {}\n");
                    break;
                case ConfigMap child:
                    sb.Append('\n');
                    WriteMap(sb, child, indent + 2);
                    break;
                case ConfigList list when list.Items.All(i => i is ConfigScalar):
                    sb.Append(" [").Append(string.Join(", ", list.Items.Select(Scalar))).Append("]\n");
                    break;
                case ConfigList list:
                    sb.Append('\n');
                    foreach (var item in list.Items)
                    {
                        sb.Append(' ', indent + 2).Append("-");
                        if (item is ConfigMap im) { sb.Append('\n'); WriteMap(sb, im, indent + 4); }
                        else sb.Append(' ').Append(Scalar(item)).Append('\n');
                    }
                    break;
                default:
                    sb.Append(' ').Append(Scalar(value)).Append('\n');
                    break;
            }
        }
    }

    private static string Scalar(ConfigNode node)
    {
        if (node is not ConfigScalar { Value: { } v }) return "null";
        bool plain = v.Length > 0 && v.All(c => char.IsLetterOrDigit(c) || c is '.' or '_' or '-' or '/' or '+') && v[0] != '-' || double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _);
        return plain ? v : "\"" + v.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }
}
