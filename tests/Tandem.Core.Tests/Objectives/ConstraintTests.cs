using Tandem.Core.Objectives;

namespace Tandem.Core.Tests.Objectives;

public class ConstraintTests
{
    [Theory]
    [InlineData("latency_ms<=2.5", "latency_ms", ConstraintOp.LessOrEqual, 2.5)]
    [InlineData(" accuracy >= 90 ", "accuracy", ConstraintOp.GreaterOrEqual, 90)]
    [InlineData("energy_uj ≤ 1e2", "energy_uj", ConstraintOp.LessOrEqual, 100)]
    public void Parses_constraints(string text, string metric, ConstraintOp op, double bound) =>
        Assert.Equal(new Constraint(metric, op, bound), Constraint.Parse(text));

    [Theory]
    [InlineData("latency_ms < 2")]
    [InlineData("<= 2")]
    [InlineData("latency_ms <= fast")]
    public void Rejects_malformed_constraints(string text) =>
        Assert.Contains("METRIC<=NUMBER", Assert.Throws<FormatException>(() => Constraint.Parse(text)).Message);

    [Fact]
    public void Violation_is_relative_and_explained_with_units()
    {
        var c = Constraint.Parse("latency_ms<=2");
        Assert.Equal(0, c.Violation(1.5));
        Assert.Equal(0.5, c.Violation(3), 12);
        Assert.Equal("latency_ms = 3 ms exceeds the spec ≤ 2 ms by 1 ms (50%)", c.Explain(3));
        Assert.Equal(double.PositiveInfinity, c.Violation(double.NaN));
        var acc = Constraint.Parse("accuracy>=90");
        Assert.Contains("falls short of", acc.Explain(85));
    }

    [Fact]
    public void Units_come_from_known_names_and_suffixes()
    {
        Assert.Equal("%", MetricUnits.Of("accuracy"));
        Assert.Equal("ms", MetricUnits.Of("raspi4_latency_ms"));
        Assert.Equal("µJ", MetricUnits.Of("energy_uj"));
        Assert.Equal("mm²", MetricUnits.Of("area_mm2"));
        Assert.Equal("latency_ms [ms]", MetricUnits.Header("latency_ms"));
        Assert.Equal("foo", MetricUnits.Header("foo"));
    }
}
