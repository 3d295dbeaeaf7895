using Tandem.Cli.Configuration;
using Tandem.Core.Configuration;

namespace Tandem.Cli;

/// <summary>The built-in default study (Defaults/default-study.yaml, embedded), run by a bare <c>tandem search</c>.</summary>
internal static class DefaultStudy
{
    public const string ResourceName = "Tandem.Cli.Defaults.default-study.yaml";

    public static string Text()
    {
        using var stream = typeof(DefaultStudy).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static ConfigMap Load() => YamlConfigReader.Parse(Text(), "(built-in default study)");
}
