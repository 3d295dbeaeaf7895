using Tandem.Core.Accuracy;
using Tandem.Core.Accuracy.Tabular;
using Tandem.Core.Configuration;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Testing;

namespace Tandem.Core.Tests.Accuracy;

public class TableTests
{
    private static string Write(TempDirectory dir, string name, string text)
    {
        var path = dir.File(name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Joins_tables_on_the_key_and_reads_numbers()
    {
        using var dir = new TempDirectory();
        var a = Write(dir, "a.csv", "id,key,acc\n0,x,90.5\n1,\"y,z\",80\n");
        var b = Write(dir, "b.csv", "key,lat_ms,id\n\"y,z\",2.5,1\nx,1.25,0\n");
        var t = MetricTable.Load([a, b], "key");
        Assert.Equal(["key", "id", "acc", "lat_ms"], t.Columns);
        Assert.True(t.TryGetRow("y,z", out int r));
        Assert.Equal(80, t.Number(r, "acc"));
        Assert.Equal(2.5, t.Number(r, "lat_ms"));
        Assert.False(t.IsNumeric("key"));
    }

    [Theory]
    [InlineData("key,acc\nx,1\nx,2\n", "a.csv:3: key 'x' appears twice (first at line 2)")]
    [InlineData("key,acc\nx,1,3\n", "a.csv:2: 3 fields but the header has 2")]
    [InlineData("kee,acc\nx,1\n", "a.csv:1: no key column 'key'; did you mean 'kee'?")]
    [InlineData("key,acc\n", "a.csv: no data rows")]
    [InlineData("key,acc\n\"x,1\n", "a.csv:2: a quoted field is not closed")]
    public void Malformed_tables_are_refused_naming_file_and_line(string text, string expected)
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<TableException>(() => MetricTable.Load([Write(dir, "a.csv", text)], "key"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Missing_files_columns_and_keys_and_conflicting_joins_are_refused()
    {
        using var dir = new TempDirectory();
        var a = Write(dir, "a.csv", "key,acc,id\nx,1,0\ny,2,1\n");
        Assert.Contains("no such table file", Assert.Throws<TableException>(() => MetricTable.Load([dir.File("nope.csv")], "key")).Message);
        Assert.Contains("has no row for key 'y'", Assert.Throws<TableException>(() => MetricTable.Load([a, Write(dir, "b.csv", "key,lat\nx,1\n")], "key")).Message);
        Assert.Contains("b2.csv:3: column 'id' is '7'", Assert.Throws<TableException>(() => MetricTable.Load([a, Write(dir, "b2.csv", "key,id\nx,0\ny,7\n")], "key")).Message);
        var t = MetricTable.Load([Write(dir, "c.csv", "key,acc,note\nx,1,ok\ny,2,3\n")], "key");
        Assert.Contains("did you mean 'acc'", Assert.Throws<TableException>(() => t.Numbers("acc_")).Message);
        Assert.Contains("c.csv:2: column 'note' is not a number there ('ok'", Assert.Throws<TableException>(() => t.Numbers("note")).Message);
    }

    [Fact]
    public async Task The_nb201_reference_tables_give_every_cell_its_accuracy()
    {
        string acc = ReferenceData.Require("nb201/nb201_accuracy.csv");
        string lat = ReferenceData.Require("nb201/nb201_latency_visible.csv");
        var table = MetricTable.Load([acc, lat], "arch_str");
        Assert.Equal(15625, table.RowCount);
        var space = new DesignSpace(new Nb201Family().Parameters);
        Assert.All(table.Keys, k => Assert.Equal(k, Nb201Family.ArchString(Nb201Family.FromArchString(space, k))));
        var c10 = table.Numbers("cifar10_test_acc");
        int best = Enumerable.Range(0, table.RowCount).MaxBy(i => c10[i]);
        Assert.Equal(6111, table.Number(best, "arch_index"));
        Assert.Equal(94.37, c10[best], 2);

        var registry = TableAccuracyEvaluator.Register(new AccuracyEvaluatorRegistry());
        var json = "{\"evaluator\": \"table\", \"files\": [\"" + acc + "\", \"" + lat + "\"], \"dataset\": \"cifar100\", \"metrics\": {\"raspi4_latency_ms\": \"raspi4_latency_ms\"}}";
        var options = (ConfigMap)JsonConfigReader.Parse(json, "t.json");
        var family = new Nb201Family();
        var evaluator = registry.Create("table", options, new AccuracyEnvironment { Family = family });
        Assert.Equal(100, evaluator.Task.NumClasses);
        var design = Nb201Family.FromArchString(space, table.Keys[0]);
        var result = await evaluator.EvaluateAsync(new AccuracyRequest { Design = design, Network = family.Lower(design, evaluator.Task.Input, 100), Seed = 0 });
        Assert.Equal(table.Number(0, "cifar100_test_acc"), result.Metrics["accuracy"]);
        Assert.Equal(10.481976820010459, result.Metrics["raspi4_latency_ms"], 9);
        Assert.Equal("table", result.Fidelity);
    }

    [Fact]
    public void The_table_evaluator_needs_a_family_that_names_its_designs()
    {
        using var dir = new TempDirectory();
        var registry = TableAccuracyEvaluator.Register(new AccuracyEvaluatorRegistry());
        var options = (ConfigMap)JsonConfigReader.Parse("""{"files": ["a.csv"]}""", "t.json");
        var e = Assert.Throws<ConfigException>(() => registry.Create("table", options, new AccuracyEnvironment { Family = new PlainCnnFamily(), WorkingDirectory = dir.Path }));
        Assert.Contains("nb201", e.Message);
    }
}
