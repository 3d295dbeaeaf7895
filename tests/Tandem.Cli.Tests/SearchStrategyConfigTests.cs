using Tandem.Testing;

namespace Tandem.Cli.Tests;

public class SearchStrategyConfigTests
{
    private static string Study(string acc, string strategy) => $$"""
        name: nb201-table
        seed: 3
        network: { family: nb201 }
        hardware: { template: systolic, rows: [8, 16, 32], cols: [8, 16], dataflow: [os, ws], ifmap_sram_kb: [64], filter_sram_kb: [64], ofmap_sram_kb: [64], clock_mhz: [400] }
        accuracy: { evaluator: table, files: ["{{acc}}"], dataset: cifar10 }
        objectives: { maximize: [accuracy], minimize: [latency_ms, energy_uj] }
        specs: [ "latency_ms <= 1.5" ]
        strategy: {{strategy}}
        budget: { trials: 12, workers: 2 }
        final: { top: 0 }
        """;

    [Theory]
    [InlineData("{ name: nsga2, population: 6, two_level: { hw_evaluations: 12 }, shrinking: { every: 6, keep_top: 0.5, min_designs: 2 } }")]
    [InlineData("{ name: bo, initial: 4, acquisition: front }")]
    [InlineData("{ name: rl, reward: { kind: co_exploration, alpha: 0.7 }, two_level: true }")]
    public async Task Strategies_and_modifiers_run_from_a_study_config_on_the_nb201_table(string strategy)
    {
        string acc = ReferenceData.Require("nb201/nb201_accuracy.csv");
        using var cli = new CliHarness();
        cli.Write("study.yaml", Study(acc, strategy));
        int code = await cli.Run("search", "--config", "study.yaml", "--storage", "s.db");
        Assert.True(code == 0, cli.Err.ToString() + cli.Out.ToString());
    }

    [Fact]
    public async Task A_misspelt_strategy_option_is_refused_before_anything_runs()
    {
        string acc = ReferenceData.Require("nb201/nb201_accuracy.csv");
        using var cli = new CliHarness();
        cli.Write("study.yaml", Study(acc, "{ name: nsga2, two_levle: true }"));
        Assert.Equal(2, await cli.Run("search", "--config", "study.yaml", "--storage", "s.db"));
        Assert.Contains("did you mean 'two_level'", cli.Err.ToString());
    }
}
