using Spectre.Console;

namespace Tandem.Cli;

/// <summary>
/// What a command needs from its surroundings: where to write, the clock, the working folder and
/// whether output goes to a terminal. Tests pass a context that captures output.
/// </summary>
public sealed class CliContext
{
    public required IAnsiConsole Out { get; init; }
    public required TextWriter Error { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;
    public string WorkingDirectory { get; init; } = Environment.CurrentDirectory;

    /// <summary>True when stdout is an interactive terminal (live progress bars); false when redirected.</summary>
    public bool Interactive { get; init; }

    public static CliContext ForConsole() => new()
    {
        Out = AnsiConsole.Console,
        Error = Console.Error,
        Interactive = !Console.IsOutputRedirected && !Console.IsErrorRedirected
            && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")),
    };

    /// <summary>Resolves a user-supplied path against the working folder.</summary>
    public string ResolvePath(string path) => Path.GetFullPath(Path.Combine(WorkingDirectory, path));
}
