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
        string[] args = ["fidelity", "--dataset", "synthetic", "--designs", "3", "--fidelities", "synflow,grads:grad_norm",
            "--reference-epochs", "0.3", "--reference-seeds", "2", "--set", "grads.batch_size=16", "--validation-samples", "300", "--out", "fid"];
        int code = await TandemCli.RunAsync(args, Context(), TestContext.Current.CancellationToken);
        Assert.True(code == 0, _err.ToString());
        string text = _out.ToString();
        Assert.Contains("Kendall τ", text);
        Assert.Contains("synflow", text);
        Assert.Contains("reference vs reference_seed2", text);
        var csv = File.ReadAllLines(_dir.File("fid/designs.csv"));
        Assert.Equal(1 + 3 * 4, csv.Length); // header + 3 designs × (2 fidelities + 2 reference seeds)
        Assert.Contains(csv, l => l.Contains(",grads,", StringComparison.Ordinal));
        string md = File.ReadAllText(_dir.File("fid/summary.md"));
        Assert.Contains("| grads | 3 |", md);
        Assert.Contains("| reference vs reference_seed2 | 3 |", md);
        Assert.Equal(2, File.ReadAllLines(_dir.File("fid/reference-agreement.csv")).Length);

        // A second run with the same folder reuses every row.
        _err.GetStringBuilder().Clear();
        code = await TandemCli.RunAsync(args, Context(), TestContext.Current.CancellationToken);
        Assert.Equal(0, code);
        Assert.Contains("reference: reused 3 earlier results", _err.ToString());
        Assert.Contains("reference_seed2: reused 3 earlier results", _err.ToString());
    }

    [Theory]
    [InlineData("--set", "batch_size=16", "LABEL.KEY=VALUE")]
    [InlineData("--reference-seeds", "0", "--reference-seeds")]
    [InlineData("--set", "naswot.batchsize=16", "did you mean 'batch_size'")]
    public async Task Fidelity_rejects_bad_settings_with_exit_code_2(string option, string value, string expected)
    {
        int code = await TandemCli.RunAsync(["fidelity", "--dataset", "synthetic", "--designs", "3", "--fidelities", "naswot",
            "--reference-epochs", "0.3", "--validation-samples", "300", option, value], Context(), TestContext.Current.CancellationToken);
        Assert.Equal(2, code);
        Assert.Contains(expected, _err.ToString());
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
