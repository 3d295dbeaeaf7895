using Tandem.Cli;
using Tandem.Testing;

namespace Tandem.Cli.Tests.Commands;

public sealed class AccuracyCommandsTests : IDisposable
{
    private readonly TempDirectory _dir = new("tandem-accuracy-cli");
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();

    public void Dispose() => _dir.Dispose();

    private CliContext Context() => CliHarness.CreateContext(_dir.Path, _out, _err);

    [Fact]
    public async Task Fidelity_ranks_proxies_against_reference_training_and_writes_tables()
    {
        int code = await TandemCli.RunAsync(["fidelity", "--dataset", "synthetic", "--designs", "3", "--fidelities", "synflow,naswot",
            "--reference-epochs", "0.3", "--validation-samples", "300", "--out", "fid"], Context(), TestContext.Current.CancellationToken);
        Assert.True(code == 0, _err.ToString());
        string text = _out.ToString();
        Assert.Contains("Kendall τ", text);
        Assert.Contains("synflow", text);
        var csv = File.ReadAllLines(_dir.File("fid/designs.csv"));
        Assert.Equal(1 + 3 * 3, csv.Length); // header + 3 designs × (2 proxies + reference)
        Assert.Contains("| naswot | 3 |", File.ReadAllText(_dir.File("fid/summary.md")));

        // A second run with the same folder reuses every row.
        _err.GetStringBuilder().Clear();
        code = await TandemCli.RunAsync(["fidelity", "--dataset", "synthetic", "--designs", "3", "--fidelities", "synflow,naswot",
            "--reference-epochs", "0.3", "--validation-samples", "300", "--out", "fid"], Context(), TestContext.Current.CancellationToken);
        Assert.Equal(0, code);
        Assert.Contains("reference: reused 3 earlier results", _err.ToString());
    }

    [Fact]
    public async Task Fidelity_rejects_an_unknown_family_with_exit_code_2()
    {
        int code = await TandemCli.RunAsync(["fidelity", "--family", "resnet"], Context(), TestContext.Current.CancellationToken);
        Assert.Equal(2, code);
        Assert.Contains("plain-cnn", _err.ToString());
    }

    [Fact]
    public async Task Bad_data_folder_is_exit_code_2()
    {
        int code = await TandemCli.RunAsync(["throughput", "--data", "nowhere", "--trials", "0"], Context(), TestContext.Current.CancellationToken);
        Assert.Equal(2, code);
        Assert.Contains("nowhere", _err.ToString());
    }

    [Fact]
    public async Task Throughput_reports_images_per_second_with_units()
    {
        int code = await TandemCli.RunAsync(["throughput", "--dataset", "synthetic", "--validation-samples", "300", "--steps", "2", "--trials", "0", "--out", "tp"], Context(), TestContext.Current.CancellationToken);
        Assert.True(code == 0, _err.ToString());
        Assert.Contains("train images/s", _out.ToString());
        Assert.Contains("| medium", File.ReadAllText(_dir.File("tp/throughput.md")));
    }
}
