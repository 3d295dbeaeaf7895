using Spectre.Console;
using Tandem.Core;
using Tandem.Core.Studies;

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

    /// <summary>Opens a study store from a spec (a path, <c>sqlite:PATH</c>, a PostgreSQL URL or connection string).</summary>
    public required Func<string, IStudyStorage> OpenStorage { get; init; }

    /// <summary>Default storage spec when none is given: a SQLite file in the working folder.</summary>
    public const string DefaultStorage = "tandem-studies.db";

    public static CliContext ForConsole()
    {
        bool interactive = !Console.IsOutputRedirected && !Console.IsErrorRedirected
            && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));
        var console = AnsiConsole.Console;
        // Redirected output (logs, CI) has no width; tables are wide, so don't wrap them at 80 columns.
        if (Console.IsOutputRedirected) console.Profile.Width = RedirectedWidth;
        return new()
        {
            Out = console,
            Error = Console.Error,
            Interactive = interactive,
            OpenStorage = spec => Tandem.Storage.StudyStorageFactory.Open(spec, Environment.CurrentDirectory),
        };
    }

    /// <summary>Console width assumed when output is redirected.</summary>
    public const int RedirectedWidth = 200;

    /// <summary>
    /// Opens an existing store for a command that reads studies: a SQLite file that does not exist is
    /// an input error (naming the path) rather than a new empty file.
    /// </summary>
    public IStudyStorage OpenExistingStorage(string spec)
    {
        if (Tandem.Storage.StudyStorageFactory.SqlitePath(spec, WorkingDirectory) is { } path && !File.Exists(path))
            throw new InputException($"no study file at '{path}'; start a study with 'tandem search', or give the store with --storage (" +
                Tandem.Storage.StudyStorageFactory.AcceptedForms + ")");
        return OpenStorage(spec);
    }

    /// <summary>Resolves a user-supplied path against the working folder.</summary>
    public string ResolvePath(string path) => Path.GetFullPath(Path.Combine(WorkingDirectory, path));
}
