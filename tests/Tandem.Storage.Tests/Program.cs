using Tandem.Storage.Tests.Sqlite;

namespace Tandem.Storage.Tests;

/// <summary>
/// Entry point of the test executable. Normally it runs the tests exactly as xunit's generated entry
/// point would (Microsoft.Testing.Platform under <c>dotnet test</c>, xunit's console runner otherwise);
/// with <c>--tandem-crash-writer PATH</c> it is the child process of <see cref="SqliteCrashTests"/>.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        if (args is [CrashWriter.Argument, var path]) return CrashWriter.Run(path);
        if (args.Any(a => a is "--server" or "--internal-msbuild-node"))
            return Xunit.MicrosoftTestingPlatform.TestPlatformTestFramework
                .RunAsync(args, SelfRegisteredExtensions.AddSelfRegisteredExtensions).GetAwaiter().GetResult();
        return Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).GetAwaiter().GetResult();
    }
}
