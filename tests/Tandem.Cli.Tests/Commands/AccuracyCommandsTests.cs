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

        // A failed row is recomputed and the new row appended; once the rerun finishes,
        // only the last row of each fidelity and design is kept.
        var lines = File.ReadAllLines(_dir.File("fid/designs.csv"));
        int synflow = Array.FindIndex(lines, l => l.Contains(",synflow,", StringComparison.Ordinal));
        lines[synflow] = lines[synflow][..lines[synflow].LastIndexOf(',')] + ",\"out of memory\"";
        File.WriteAllLines(_dir.File("fid/designs.csv"), lines);
        _out.GetStringBuilder().Clear();
        code = await TandemCli.RunAsync(args, Context(), TestContext.Current.CancellationToken);
        Assert.True(code == 0, _err.ToString());
        Assert.True(_out.ToString().Contains("1 superseded row(s) of an earlier run dropped", StringComparison.Ordinal), _out.ToString() + _err.ToString());
        csv = File.ReadAllLines(_dir.File("fid/designs.csv"));
        Assert.Equal(1 + 3 * 4, csv.Length);
        Assert.DoesNotContain(csv, l => l.Contains("out of memory", StringComparison.Ordinal));
        Assert.Equal(3, csv.Count(l => l.Contains(",synflow,", StringComparison.Ordinal)));
        Assert.False(File.Exists(_dir.File("fid/designs.csv.tmp")));
    }

    private const string DesignsHeader = "design,fidelity,score,seconds,epochs,macs,parameters,one_off_seconds,design_key,failure";

    private string DesignsFile(string name, params (int Design, string Fidelity, double Score)[] rows)
    {
        var lines = new List<string> { DesignsHeader };
        lines.AddRange(rows.Select(r => string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{r.Design},{r.Fidelity},{r.Score},2,0,100,10,0,\"k{r.Design}\",\"\"")));
        string path = _dir.File(name);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public async Task Fidelity_rank_reranks_a_finished_run_against_its_own_or_another_reference()
    {
        // Own reference orders k0 < k1 < k2 < k3; "p" agrees, "q" is reversed; a later "p" row of k3
        // replaces the earlier one (as a rerun's recomputed supernet rows do).
        string rows = DesignsFile("run.csv", (0, "reference", 1), (1, "reference", 2), (2, "reference", 3), (3, "reference", 4),
            (0, "p", 10), (1, "p", 20), (2, "p", 30), (3, "p", 0), (3, "p", 40), (0, "q", 4), (1, "q", 3), (2, "q", 2), (3, "q", 1));
        int code = await TandemCli.RunAsync(["fidelity", "rank", rows], Context(), TestContext.Current.CancellationToken);
        Assert.True(code == 0, _err.ToString());
        string text = _out.ToString();
        Assert.Matches(@"│ p\s+│ 4\s+│ 1\.00 ", text);
        Assert.Matches(@"│ q\s+│ 4\s+│ -1\.00 ", text);

        // Another run whose reference is the reverse: now q agrees and the own reference is reversed.
        // (Its designs are numbered differently; they are matched by design key.)
        string other = _dir.File("long.csv");
        File.WriteAllLines(other, [DesignsHeader, .. new[] { 4.0, 3, 2, 1 }.Select((score, d) => $"{9 - d},reference,{score},2,0,100,10,0,\"k{d}\",\"\"")]);
        _out.GetStringBuilder().Clear();
        code = await TandemCli.RunAsync(["fidelity", "rank", rows, "--reference", other], Context(), TestContext.Current.CancellationToken);
        Assert.True(code == 0, _err.ToString());
        text = _out.ToString();
        Assert.Matches(@"│ q\s+│ 4\s+│ 1\.00 ", text);
        Assert.Matches(@"│ reference\s+│ 4\s+│ -1\.00 ", text);
        Assert.Contains("4 designs in common", text);
    }

    [Fact]
    public async Task Fidelity_rank_against_a_label_ranks_every_fidelity_against_that_ones_scores()
    {
        // "p" (its later k3 row counts) orders k0 < k1 < k2 < k3 like the reference; "q" is reversed, so
        // against q, p and the reference rank at −1 (against the reference, p would be at +1).
        string rows = DesignsFile("run.csv", (0, "reference", 1), (1, "reference", 2), (2, "reference", 3), (3, "reference", 4),
            (0, "p", 10), (1, "p", 20), (2, "p", 30), (3, "p", 0), (3, "p", 40), (0, "q", 4), (1, "q", 3), (2, "q", 2), (3, "q", 1));
        int code = await TandemCli.RunAsync(["fidelity", "rank", rows, "--against", "q"], Context(), TestContext.Current.CancellationToken);
        Assert.True(code == 0, _err.ToString());
        string text = _out.ToString();
        Assert.Matches(@"│ p\s+│ 4\s+│ -1\.00 ", text);
        Assert.Matches(@"│ q\s+│ 4\s+│ 1\.00 ", text);
        Assert.Matches(@"│ reference\s+│ 4\s+│ -1\.00 ", text);
        Assert.Contains("the scores of 'q'", text);

        foreach (var (args, expected) in new (string[], string)[]
        {
            (["fidelity", "rank", rows, "--against", "nope"], "--against 'nope': 0 design(s)"),
            (["fidelity", "rank", rows, "--against", "p", "--reference", rows], "give one of them"),
        })
        {
            _err.GetStringBuilder().Clear();
            Assert.Equal(2, await TandemCli.RunAsync(args, Context(), TestContext.Current.CancellationToken));
            Assert.Contains(expected, _err.ToString());
        }
    }

    [Fact]
    public async Task Fidelity_rank_by_parameter_prints_where_a_fidelity_misjudges_a_choice()
    {
        string rows = _dir.File("bias.csv");
        File.WriteAllLines(rows, [DesignsHeader,
            .. new[] { ("a=1;b=x", 1.0, 2.0), ("a=1;b=y", 2, 1), ("a=2;b=x", 3, 4), ("a=2;b=y", 4, 3) }.SelectMany((d, i) => new[]
            {
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{i},reference,{d.Item2},2,0,100,10,0,\"{d.Item1}\",\"\""),
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{i},p,{d.Item3},2,0,100,10,0,\"{d.Item1}\",\"\""),
            })]);
        int code = await TandemCli.RunAsync(["fidelity", "rank", rows, "--by-parameter", "p"], Context(), TestContext.Current.CancellationToken);
        Assert.True(code == 0, _err.ToString());
        string text = _out.ToString();
        Assert.Matches(@"│ a\s+│ 1\s+│ 2\s+│ -0\.89\s+│ -0\.89\s+│ 0\.00 ", text);
        Assert.Matches(@"│ b\s+│ x\s+│ 2\s+│ \+0\.45\s+│ -0\.45\s+│ -0\.89 ", text);
        Assert.Matches(@"│ b\s+│ y\s+│ 2\s+│ -0\.45\s+│ \+0\.45\s+│ \+0\.89 ", text);
        Assert.Contains("p over 4 designs", text);

        _err.GetStringBuilder().Clear();
        code = await TandemCli.RunAsync(["fidelity", "rank", rows, "--by-parameter", "nope"], Context(), TestContext.Current.CancellationToken);
        Assert.Equal(2, code);
        Assert.Contains("--by-parameter 'nope': no rows of that fidelity", _err.ToString());
        Assert.Contains("accepted: reference, p", _err.ToString());
    }

    [Fact]
    public async Task Fidelity_rank_rejects_bad_files_with_exit_code_2()
    {
        string good = DesignsFile("good.csv", (0, "reference", 1), (1, "reference", 2), (0, "p", 1), (1, "p", 2));
        string noReference = DesignsFile("noref.csv", (0, "p", 1), (1, "p", 2));
        string badScore = _dir.File("bad.csv");
        File.WriteAllLines(badScore, [DesignsHeader, "0,p,abc,1,0,1,1,0,\"k0\",\"\""]);
        string other = DesignsFile("other.csv", (0, "reference", 1));
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["fidelity", "rank", _dir.File("missing.csv")], "file not found"),
            (["fidelity", "rank", badScore], "line 2: score 'abc' is not a number"),
            (["fidelity", "rank", noReference], "no reference rows"),
            (["fidelity", "rank", good, "--reference", noReference], "no finite reference scores"),
            (["fidelity", "rank", good, "--reference", other], "covers 1 of the designs"),
        })
        {
            _err.GetStringBuilder().Clear();
            int code = await TandemCli.RunAsync(args, Context(), TestContext.Current.CancellationToken);
            Assert.Equal(2, code);
            Assert.Contains(expected, _err.ToString());
        }
        File.WriteAllText(badScore, "not,a,designs,file\n");
        _err.GetStringBuilder().Clear();
        Assert.Equal(2, await TandemCli.RunAsync(["fidelity", "rank", badScore], Context(), TestContext.Current.CancellationToken));
        Assert.Contains("line 1: the header", _err.ToString());
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
    public async Task Fidelity_rejects_a_metric_the_evaluator_does_not_report_with_exit_code_2()
    {
        int code = await TandemCli.RunAsync(["fidelity", "--dataset", "synthetic", "--designs", "3", "--fidelities", "naswot/nope",
            "--reference-epochs", "0.3", "--validation-samples", "300", "--out", "fid-metric"], Context(), TestContext.Current.CancellationToken);
        Assert.Equal(2, code);
        Assert.Contains("fidelity 'naswot/nope': the naswot evaluator has no metric 'nope'; accepted: ", _err.ToString());
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
