using Tandem.Core.Accuracy;
using Tandem.Core.Configuration;
using Tandem.Core.Objectives;
using Tandem.Core.Search;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Studies;

namespace Tandem.Core.Tests.Studies;

public class StudyConfigBinderTests
{
    private static ComponentCatalog Catalog()
    {
        var c = new ComponentCatalog();
        c.AddFamily("plain-cnn", "test", ["stages", "channels"], m => new PlainCnnFamily(new PlainCnnOptions
        {
            Stages = m.GetInt("stages", 3, 1, 6),
            Channels = m.GetNumberList("channels", 1, 4096) ?? new PlainCnnOptions().Channels,
        }));
        c.AddTemplate("toy", "test", [], _ => new ToyTemplate());
        c.Evaluators.Register("toy", "test", (_, _) => new ToyAccuracy());
        c.Strategies.Register("random", "test", (ctx, _) => new SeededRandomStrategy(ctx.Space, ctx.Seed));
        return c;
    }

    private static readonly AccuracyEnvironment Env = new() { Family = null! };

    private const string Valid = """
        {
          "name": "t", "seed": 3,
          "network": { "family": "plain-cnn", "stages": 2, "channels": [8, 16] },
          "hardware": { "template": "toy" },
          "accuracy": { "evaluator": "toy" },
          "objectives": { "maximize": ["accuracy"], "minimize": ["latency_ms"] },
          "specs": ["latency_ms <= 10"],
          "strategy": { "name": "random" },
          "budget": { "trials": 5 }
        }
        """;

    private static StudyPlan Bind(string json) =>
        StudyConfigBinder.Bind((ConfigMap)JsonConfigReader.Parse(json, "study.json"), Catalog(), Env, () => "default-name");

    [Fact]
    public void The_evaluator_is_told_how_many_designs_are_evaluated_at_a_time()
    {
        AccuracyEnvironment? seen = null;
        var c = Catalog();
        c.Evaluators.Register("toy", "test", (_, env) => { seen = env; return new ToyAccuracy(); });
        var json = Valid.Replace("\"budget\": { \"trials\": 5 }", "\"budget\": { \"trials\": 5, \"workers\": 3 }");
        var plan = StudyConfigBinder.Bind((ConfigMap)JsonConfigReader.Parse(json, "study.json"), c, Env, () => "default-name");
        Assert.Equal(3, plan.Workers);
        Assert.Equal(3, seen!.Workers);
        Assert.Equal(3, seen.Seed);
    }

    [Fact]
    public void Binds_a_complete_config_and_stores_it_resolved()
    {
        var plan = Bind(Valid);
        Assert.Equal("t", plan.Name);
        Assert.Equal(3, plan.Seed);
        Assert.Equal(2 * 4 + 1 + 1, plan.Problem.Space.Count); // 2 stages × 4 + pool + hw.speed
        Assert.Equal(5, plan.Budget.MaxTrials);
        Assert.Single(plan.Specs);
        var again = Bind(plan.ConfigJson);
        Assert.Equal(plan.Problem.Space.Signature, again.Problem.Space.Signature);
        Assert.Equal(plan.ConfigJson, again.ConfigJson);
    }

    [Fact]
    public void Defaults_objectives_from_the_evaluator_and_hardware()
    {
        var plan = Bind(Valid.Replace("\"objectives\": { \"maximize\": [\"accuracy\"], \"minimize\": [\"latency_ms\"] },", ""));
        Assert.Equal(["accuracy", "latency_ms", "energy_uj"], plan.Objectives.Select(o => o.Metric));
        Assert.Contains("\"maximize\":[\"accuracy\"]", plan.ConfigJson); // written out for readers without components
    }

    [Theory]
    [InlineData("\"budget\": { \"trials\": 5 }", "\"budget\": { \"trails\": 5 }", "did you mean 'trials'?")]
    [InlineData("\"name\": \"t\"", "\"nmae\": \"t\"", "did you mean 'name'?")]
    [InlineData("\"family\": \"plain-cnn\"", "\"family\": \"plain-cn\"", "did you mean 'plain-cnn'?")]
    [InlineData("\"evaluator\": \"toy\"", "\"evaluator\": \"tyo\"", "unknown accuracy evaluator 'tyo'")]
    [InlineData("\"name\": \"random\"", "\"name\": \"randm\"", "unknown strategy 'randm'")]
    [InlineData("\"stages\": 2", "\"stages\": \"two\"", "'two' is not a whole number")]
    [InlineData("\"stages\": 2", "\"stages\": 9", "accepted: 1 to 6")]
    [InlineData("\"channels\": [8, 16]", "\"channels\": []", "the list is empty")]
    [InlineData("\"trials\": 5", "\"trials\": 0", "accepted: ≥ 1")]
    [InlineData("\"specs\": [\"latency_ms <= 10\"]", "\"specs\": [\"latency_ms < 10\"]", "METRIC<=NUMBER")]
    [InlineData("\"specs\": [\"latency_ms <= 10\"]", "\"specs\": [\"latency_ms <= 1\", \"latency_ms >= 2\"]", "contradict")]
    [InlineData("\"budget\": { \"trials\": 5 }", "\"budget\": { \"workers\": 2 }", "needs 'trials' or 'time_limit'")]
    [InlineData("\"minimize\": [\"latency_ms\"]", "\"minimize\": [\"accuracy\"]", "more than once")]
    public void Bad_configs_get_one_clear_message(string from, string to, string expected)
    {
        var e = Assert.ThrowsAny<InputException>(() => Bind(Valid.Replace(from, to)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Specs_no_design_can_meet_are_reported_with_the_best_value_seen()
    {
        var plan = Bind(Valid.Replace("latency_ms <= 10", "latency_ms <= 0.0000001"));
        var e = Assert.Throws<InputException>(() => StudyPreflight.Check(plan));
        Assert.Contains("no design meets all the specs", e.Message);
        Assert.Contains("best seen", e.Message);
    }

    [Fact]
    public void Specs_on_unknown_metrics_list_the_metrics_produced()
    {
        var plan = Bind(Valid.Replace("latency_ms <= 10", "latency_s <= 10"));
        var e = Assert.Throws<InputException>(() => StudyPreflight.Check(plan));
        Assert.Contains("unknown metric 'latency_s'", e.Message);
        Assert.Contains("latency_ms", e.Message);
    }

    [Fact]
    public void A_space_whose_networks_cannot_exist_for_the_input_is_rejected()
    {
        var plan = Bind(Valid.Replace("\"stages\": 2", "\"stages\": 6")); // 28x28 input, 5 poolings
        var e = Assert.Throws<InputException>(() => StudyPreflight.Check(plan));
        Assert.Contains("gives a valid network", e.Message);
    }

    [Fact]
    public void A_feasible_problem_passes_preflight_with_a_feasible_design()
    {
        var plan = Bind(Valid.Replace("latency_ms <= 10", "latency_ms <= 0.05"));
        var d = StudyPreflight.Check(plan);
        var outcome = plan.CreateEvaluator().EvaluateFast(d);
        Assert.Equal(TrialState.Complete, outcome.State);
    }

    [Fact]
    public void Outline_reads_objectives_specs_and_family_without_building_components()
    {
        var plan = Bind(Valid);
        var outline = StudyConfigBinder.Outline((ConfigMap)JsonConfigReader.Parse(plan.ConfigJson, "stored"), Catalog());
        Assert.Equal(plan.Objectives, outline.Objectives);
        Assert.Equal(plan.Specs, outline.Specs);
        Assert.True(outline.HasHardware);
    }

    [Fact]
    public void Overrides_replace_values_and_keep_order()
    {
        var root = (ConfigMap)JsonConfigReader.Parse(Valid, "study.json");
        var changed = ConfigWriter.Override(root, "budget.trials", 9);
        Assert.Equal(9, changed.GetMap("budget")!.GetInt("trials", 0));
        Assert.Equal(root.Keys, changed.Keys);
        Assert.Equal("command line", changed.GetMap("budget")!["trials"]!.Location.File);
        var added = ConfigWriter.Override(root, "final.top", 0);
        Assert.Equal(0, added.GetMap("final")!.GetInt("top", 5));
    }
}
