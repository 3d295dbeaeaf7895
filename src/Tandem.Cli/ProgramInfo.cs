using System.Reflection;

namespace Tandem.Cli;

/// <summary>Tandem's version as stamped at build time.</summary>
internal static class ProgramInfo
{
    public static string Version { get; } =
        typeof(ProgramInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "0.0.0";
}
