using Spectre.Console;
using Tandem.Storage;
using Tandem.Testing;

namespace Tandem.Cli.Tests;

/// <summary>Runs <c>tandem</c> in-process in a temp folder, capturing stdout and stderr.</summary>
internal sealed class CliHarness : IDisposable
{
    public TempDirectory Dir { get; } = new("tandem-cli");
    public StringWriter Out { get; private set; } = new();
    public StringWriter Err { get; private set; } = new();

    public CliContext Context() => CreateContext(Dir.Path, Out, Err);

    /// <summary>A non-interactive, colourless, 200-column context writing to the given writers, working in <paramref name="folder"/>.</summary>
    public static CliContext CreateContext(string folder, TextWriter output, TextWriter error) => new()
    {
        Out = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        }).WithWidth(200),
        Error = error,
        WorkingDirectory = folder,
        OpenStorage = spec => StudyStorageFactory.Open(spec, folder),
    };

    public async Task<int> Run(params string[] args)
    {
        Out = new StringWriter();
        Err = new StringWriter();
        return await TandemCli.RunAsync(args, Context(), TestContext.Current.CancellationToken);
    }

    public string Write(string name, string text)
    {
        File.WriteAllText(Dir.File(name), text);
        return name;
    }

    public void Dispose() => Dir.Dispose();

    /// <summary>
    /// A small, fast study: plain CNN on a generated 28×28 dataset, trained for a few steps, with the
    /// systolic template and specs that prune some designs.
    /// </summary>
    public static string FastStudy(string name = "fast", int trials = 12, string extra = "") => $$"""
        name: {{name}}
        seed: 5
        network:
          family: plain-cnn
          stages: 2
          layers: [1, 2]
          channels: [4, 8, 16]
          kernels: [3]
        hardware:
          template: systolic
          rows: [4, 8, 16]
          cols: [4, 8, 16]
          clock_mhz: [200, 800]
        accuracy:
          evaluator: train
          dataset: synthetic
          synthetic: { channels: 1, image_size: 28, classes: 4, train_samples: 400, test_samples: 100 }
          train_samples: 300
          validation_samples: 100
          epochs: 1
          batch_size: 50
        specs:
          - latency_ms <= 0.05
        strategy:
          name: evolution
          population: 4
          sample: 2
        budget:
          trials: {{trials}}
        final:
          top: 2
          budget_scale: 2
        {{extra}}
        """;
}

internal static class ConsoleExtensions
{
    public static IAnsiConsole WithWidth(this IAnsiConsole console, int width)
    {
        console.Profile.Width = width;
        return console;
    }
}
