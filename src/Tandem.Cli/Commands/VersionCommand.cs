using System.CommandLine;
using System.Reflection;

namespace Tandem.Cli.Commands;

/// <summary><c>tandem info</c>: version, runtime and where Tandem looks for things.</summary>
internal static class VersionCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("info", "Print Tandem's version and runtime.");
        command.SetAction(_ =>
        {
            var version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";
            context.Out.WriteLine($"tandem {version}");
            context.Out.WriteLine($".NET {Environment.Version} on {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
            context.Out.WriteLine($"cores: {Environment.ProcessorCount}");
            return 0;
        });
        return command;
    }
}
