using System.Globalization;
using Tandem.Core.Configuration;

namespace Tandem.Torch.Measurements;

/// <summary>Builds evaluator config maps in code (for measurement commands), as if written in a file named after <paramref name="origin"/>.</summary>
public static class ConfigPairs
{
    public static ConfigMap Map(string origin, IEnumerable<(string Key, object? Value)> pairs) =>
        new("", new SourceLocation(origin, 0, 0), pairs.Where(p => p.Value != null).Select(p =>
            new KeyValuePair<string, ConfigNode>(p.Key, new ConfigScalar(p.Key, new SourceLocation(origin, 0, 0),
                Convert.ToString(p.Value, CultureInfo.InvariantCulture)))));
}
