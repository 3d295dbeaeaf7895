using System.CommandLine;
using Tandem.Cli.Commands;
using Tandem.Core;

namespace Tandem.Cli;

/// <summary>
/// Entry point of the <c>tandem</c> command, callable from tests. Exit codes: 0 success, 1 internal
/// error (a bug: message plus "please report"), 2 bad input (flags, config, data or study files;
/// one clear message, no stack trace), 130 cancelled by Ctrl+C.
/// </summary>
public static class TandemCli
{
    public const int ExitOk = 0;
    public const int ExitInternalError = 1;
    public const int ExitBadInput = 2;
    public const int ExitCancelled = 130;

    public static RootCommand BuildRoot(CliContext context)
    {
        var root = new RootCommand("Tandem: search neural networks and the accelerators that run them, together.");
        foreach (var command in CommandCatalog.All(context)) root.Subcommands.Add(command);
        return root;
    }

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        var root = BuildRoot(context);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) context.Error.WriteLine($"tandem: {error.Message}");
            context.Error.WriteLine("Run 'tandem --help' (or 'tandem COMMAND --help') to see what is accepted.");
            return ExitBadInput;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (InputException e)
        {
            context.Error.WriteLine($"tandem: {e.Message}");
            return ExitBadInput;
        }
        catch (OperationCanceledException)
        {
            context.Error.WriteLine("tandem: cancelled; everything finished so far is stored.");
            return ExitCancelled;
        }
        catch (Exception e)
        {
            context.Error.WriteLine($"tandem: internal error: {e.GetType().Name}: {e.Message}");
            if (Environment.GetEnvironmentVariable("TANDEM_DEBUG") is { Length: > 0 }) context.Error.WriteLine(e);
            else context.Error.WriteLine("This is a bug in Tandem; set TANDEM_DEBUG=1 for the stack trace and please report it.");
            return ExitInternalError;
        }
    }
}
