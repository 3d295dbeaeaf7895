using System.Globalization;
using System.Text.RegularExpressions;

namespace Tandem.Core.Objectives;

public enum Direction { Minimize, Maximize }

/// <summary>A metric to optimise and its direction.</summary>
public sealed record Objective(string Metric, Direction Direction)
{
    /// <summary>The value as a quantity to minimise (negated for maximisation).</summary>
    public double ToMinimization(double value) => Direction == Direction.Minimize ? value : -value;

    /// <summary>True when <paramref name="a"/> is strictly better than <paramref name="b"/>.</summary>
    public bool IsBetter(double a, double b) => Direction == Direction.Minimize ? a < b : a > b;

    public override string ToString() => $"{(Direction == Direction.Minimize ? "minimize" : "maximize")} {Metric}";
}

public enum ConstraintOp { LessOrEqual, GreaterOrEqual }

/// <summary>
/// A hard specification on one metric ("latency_ms &lt;= 2"). <see cref="Violation"/> is 0 when
/// the spec holds and otherwise the excess relative to |bound| (or absolute when the bound is 0),
/// so violations of different metrics can be summed for constrained domination.
/// </summary>
public sealed partial record Constraint(string Metric, ConstraintOp Op, double Bound)
{
    public bool IsSatisfied(double value) => !double.IsNaN(value) && (Op == ConstraintOp.LessOrEqual ? value <= Bound : value >= Bound);

    public double Violation(double value)
    {
        if (double.IsNaN(value)) return double.PositiveInfinity;
        double excess = Op == ConstraintOp.LessOrEqual ? value - Bound : Bound - value;
        if (excess <= 0) return 0;
        return Bound != 0 ? excess / Math.Abs(Bound) : excess;
    }

    /// <summary>Explains a violation with units, e.g. "latency_ms = 3.1 ms exceeds the spec ≤ 2 ms by 1.1 ms (55%)".</summary>
    public string Explain(double value)
    {
        string unit = MetricUnits.Of(Metric);
        string u = unit.Length > 0 ? " " + unit : "";
        string F(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
        if (IsSatisfied(value)) return $"{Metric} = {F(value)}{u} meets the spec {Symbol} {F(Bound)}{u}";
        double excess = Math.Abs(value - Bound);
        string rel = Bound != 0 ? $" ({F(100 * excess / Math.Abs(Bound))}%)" : "";
        string verb = Op == ConstraintOp.LessOrEqual ? "exceeds" : "falls short of";
        return $"{Metric} = {F(value)}{u} {verb} the spec {Symbol} {F(Bound)}{u} by {F(excess)}{u}{rel}";
    }

    public string Symbol => Op == ConstraintOp.LessOrEqual ? "≤" : "≥";

    public override string ToString() =>
        $"{Metric} {(Op == ConstraintOp.LessOrEqual ? "<=" : ">=")} {Bound.ToString("R", CultureInfo.InvariantCulture)}";

    /// <summary>Parses "metric&lt;=value" or "metric&gt;=value" (spaces allowed; also ≤ and ≥).</summary>
    public static Constraint Parse(string text)
    {
        var m = ConstraintRegex().Match(text);
        if (!m.Success || !double.TryParse(m.Groups[3].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double bound) || !double.IsFinite(bound))
            throw new FormatException($"'{text}' is not a constraint; write METRIC<=NUMBER or METRIC>=NUMBER, e.g. \"latency_ms<=2.5\"");
        var op = m.Groups[2].Value is "<=" or "≤" ? ConstraintOp.LessOrEqual : ConstraintOp.GreaterOrEqual;
        return new Constraint(m.Groups[1].Value, op, bound);
    }

    [GeneratedRegex(@"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=|≤|≥)\s*([-+0-9.eE]+)\s*$")]
    private static partial Regex ConstraintRegex();
}
