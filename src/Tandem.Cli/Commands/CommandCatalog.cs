using System.CommandLine;

namespace Tandem.Cli.Commands;

/// <summary>The sub-commands of <c>tandem</c>, in the order <c>--help</c> lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All(CliContext context)
    {
        yield return SearchCommand.Create(context);
        yield return ShowCommand.Create(context);
        yield return BenchmarkCommand.Create(context);
        yield return VersionCommand.Create(context);
        yield return SimulateCommand.Create(context);
        yield return FidelityCommand.Create(context);
        yield return ThroughputCommand.Create(context);
    }
}
