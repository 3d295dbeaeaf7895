using Tandem.Cli;

return await TandemCli.RunAsync(args, CliContext.ForConsole());
