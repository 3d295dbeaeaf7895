using Tandem.Core.Configuration;

namespace Tandem.Core.Tests.Configuration;

public class ConfigTests
{
    private static ConfigMap Json(string text) => (ConfigMap)JsonConfigReader.Parse(text, "study.json");

    [Fact]
    public void Unknown_key_suggests_the_closest_accepted_key()
    {
        var map = Json("""{ "strategy": { "populaton": 12 } }""");
        var e = Assert.Throws<ConfigException>(() => map.GetMap("strategy")!.CheckKeys("name", "population", "seed"));
        Assert.Contains("unknown key 'populaton'", e.Message);
        Assert.Contains("did you mean 'population'?", e.Message);
        Assert.Contains("study.json", e.Message);
    }

    [Fact]
    public void Typed_getters_name_the_key_the_value_and_the_range()
    {
        var map = Json("""{ "workers": "two", "seed": -1, "ratio": 1.5, "flag": "maybe" }""");
        Assert.Contains("'two' is not a whole number", Assert.Throws<ConfigException>(() => map.GetInt("workers", 1)).Message);
        Assert.Contains("accepted: ≥ 0", Assert.Throws<ConfigException>(() => map.GetInt("seed", 0, min: 0)).Message);
        Assert.Contains("'ratio'", Assert.Throws<ConfigException>(() => map.GetDouble("ratio", 0, 0, 1)).Message);
        Assert.Contains("not true or false", Assert.Throws<ConfigException>(() => map.GetBool("flag", false)).Message);
        Assert.Equal(7, map.GetInt("missing", 7));
    }

    [Fact]
    public void Choices_are_case_insensitive_and_misspellings_get_a_hint()
    {
        var map = Json("""{ "dataflow": "WS", "other": "wss" }""");
        Assert.Equal("ws", map.GetChoice("dataflow", "os", "os", "ws", "is"));
        Assert.Contains("did you mean 'ws'?", Assert.Throws<ConfigException>(() => map.GetChoice("other", "os", "os", "ws", "is")).Message);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("12m", 720)]
    [InlineData("1.5h", 5400)]
    [InlineData("500ms", 0.5)]
    [InlineData("30", 30)]
    public void Durations_parse(string text, double seconds)
    {
        Assert.True(DurationParser.TryParse(text, out var t));
        Assert.Equal(seconds, t.TotalSeconds, 9);
    }

    [Fact]
    public void Lists_accept_a_single_value_and_reject_empty_lists()
    {
        var map = Json("""{ "rows": 16, "cols": [], "k": [3, "x"] }""");
        Assert.Equal([16.0], map.GetNumberList("rows")!);
        Assert.Contains("empty", Assert.Throws<ConfigException>(() => map.GetNumberList("cols")).Message);
        Assert.Contains("'x' is not a number", Assert.Throws<ConfigException>(() => map.GetNumberList("k")).Message);
    }

    [Fact]
    public void Invalid_json_names_the_file_and_line() =>
        Assert.Contains("study.json:2", Assert.Throws<ConfigException>(() => JsonConfigReader.Parse("{\n  \"a\": ,\n}", "study.json")).Message);

    [Fact]
    public void Duplicate_keys_are_rejected() =>
        Assert.Contains("given twice", Assert.Throws<ConfigException>(() => Json("""{ "a": 1, "a": 2 }""")).Message);
}
