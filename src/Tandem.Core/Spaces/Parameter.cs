using System.Globalization;

namespace Tandem.Core.Spaces;

/// <summary>The kind of values a <see cref="Parameter"/> takes.</summary>
public enum ParameterKind { Categorical, Ordinal, Integer, Float }

/// <summary>
/// One named, immutable dimension of a design space. Every value is carried as a <see cref="double"/>:
/// a categorical parameter's value is the index of its choice; an ordinal parameter's value is the
/// number itself (e.g. 32 for a power-of-two choice); an integer parameter's value is the integer;
/// a float parameter's value is the number. Discrete parameters (all but float) also have a
/// position index 0 … <see cref="Cardinality"/>−1 that strategies use for mutation and encoding.
/// Names are dotted and grouped by prefix: <c>arch.*</c>, <c>hw.*</c>, <c>map.*</c>, <c>comp.*</c>.
/// </summary>
public abstract class Parameter
{
    protected Parameter(string name)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new SpaceException("a parameter needs a name");
        Name = name;
    }

    public string Name { get; }

    /// <summary>The prefix before the first dot ("arch", "hw", "map", "comp"), or "" if none.</summary>
    public string Group => Name.Contains('.') ? Name[..Name.IndexOf('.')] : "";

    public abstract ParameterKind Kind { get; }
    public bool IsDiscrete => Kind != ParameterKind.Float;

    /// <summary>Number of distinct values of a discrete parameter; 0 for a float parameter.</summary>
    public abstract int Cardinality { get; }

    /// <summary>Value at discrete position <paramref name="index"/>.</summary>
    public abstract double ValueAt(int index);

    /// <summary>Discrete position of <paramref name="value"/>; −1 if the value is not in the domain.</summary>
    public abstract int IndexOf(double value);

    public abstract bool Contains(double value);

    /// <summary>Uniform draw from the domain (log-uniform for a log-scaled float).</summary>
    public virtual double Sample(Random rng) => ValueAt(rng.Next(Cardinality));

    /// <summary>Maps a value to [0, 1] (position for discrete, scaled value for float).</summary>
    public virtual double ToUnit(double value) => Cardinality <= 1 ? 0.5 : IndexOf(value) / (double)(Cardinality - 1);

    /// <summary>Inverse of <see cref="ToUnit"/>, rounding to the nearest discrete value.</summary>
    public virtual double FromUnit(double unit) =>
        ValueAt((int)Math.Round(Math.Clamp(unit, 0, 1) * (Cardinality - 1)));

    /// <summary>Text form of a value as it appears in keys, tables and stored trials.</summary>
    public abstract string Format(double value);

    /// <summary>Value written as text (a choice, a number) or null with <paramref name="error"/> set.</summary>
    public abstract double? Parse(string text, out string? error);

    /// <summary>One-line description of the domain, e.g. "{8, 16, 32}" or "[0.1, 1] log".</summary>
    public abstract string DescribeDomain();

    /// <summary>The value a JSON writer should emit: a string for categorical choices, a number otherwise.</summary>
    public virtual object ToJsonValue(double value) => value;

    public override string ToString() => $"{Name} ∈ {DescribeDomain()}";

    protected static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>Unordered choices named by strings (dataflow "os"/"ws"/"is", operation names…).</summary>
public sealed class CategoricalParameter : Parameter
{
    public IReadOnlyList<string> Choices { get; }

    public CategoricalParameter(string name, IEnumerable<string> choices) : base(name)
    {
        Choices = choices.ToArray();
        if (Choices.Count == 0) throw new SpaceException($"parameter '{name}' has no choices");
        var dup = Choices.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (dup != null) throw new SpaceException($"parameter '{name}' lists choice '{dup.Key}' twice");
    }

    public override ParameterKind Kind => ParameterKind.Categorical;
    public override int Cardinality => Choices.Count;
    public override double ValueAt(int index) => index;
    public override int IndexOf(double value) => Contains(value) ? (int)value : -1;
    public override bool Contains(double value) => value >= 0 && value < Choices.Count && value == Math.Floor(value);
    public string ChoiceOf(double value) => Choices[(int)value];
    public override string Format(double value) => Contains(value) ? Choices[(int)value] : $"<invalid {value}>";
    public override object ToJsonValue(double value) => Format(value);

    public override double? Parse(string text, out string? error)
    {
        for (int i = 0; i < Choices.Count; i++)
            if (string.Equals(Choices[i], text, StringComparison.OrdinalIgnoreCase)) { error = null; return i; }
        error = $"'{text}' is not a choice of {Name}; accepted: {DescribeDomain()}";
        return null;
    }

    public override string DescribeDomain() => "{" + string.Join(", ", Choices) + "}";
}

/// <summary>An ordered list of numbers (channel counts, powers of two, SRAM sizes). Sorted ascending, distinct.</summary>
public sealed class OrdinalParameter : Parameter
{
    public IReadOnlyList<double> Values { get; }

    public OrdinalParameter(string name, IEnumerable<double> values) : base(name)
    {
        Values = values.Distinct().OrderBy(v => v).ToArray();
        if (Values.Count == 0) throw new SpaceException($"parameter '{name}' has no values");
        if (Values.Any(v => !double.IsFinite(v))) throw new SpaceException($"parameter '{name}' has a value that is not a finite number");
    }

    public override ParameterKind Kind => ParameterKind.Ordinal;
    public override int Cardinality => Values.Count;
    public override double ValueAt(int index) => Values[index];

    public override int IndexOf(double value)
    {
        for (int i = 0; i < Values.Count; i++) if (Values[i] == value) return i;
        return -1;
    }

    public override bool Contains(double value) => IndexOf(value) >= 0;
    public override string Format(double value) => Num(value);

    public override double? Parse(string text, out string? error)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && Contains(v)) { error = null; return v; }
        error = $"'{text}' is not a value of {Name}; accepted: {DescribeDomain()}";
        return null;
    }

    public override string DescribeDomain() => "{" + string.Join(", ", Values.Select(Num)) + "}";
}

/// <summary>Integers min, min+step, …, ≤ max.</summary>
public sealed class IntegerParameter : Parameter
{
    public long Min { get; }
    public long Max { get; }
    public long Step { get; }

    public IntegerParameter(string name, long min, long max, long step = 1) : base(name)
    {
        if (step < 1) throw new SpaceException($"parameter '{name}': step must be ≥ 1 (got {step})");
        if (max < min) throw new SpaceException($"parameter '{name}': max {max} is below min {min}");
        if ((max - min) / step + 1 > int.MaxValue) throw new SpaceException($"parameter '{name}' has too many values");
        Min = min;
        Max = min + (max - min) / step * step;
        Step = step;
    }

    public override ParameterKind Kind => ParameterKind.Integer;
    public override int Cardinality => (int)((Max - Min) / Step + 1);
    public override double ValueAt(int index) => Min + (long)index * Step;
    public override bool Contains(double value) => value == Math.Floor(value) && value >= Min && value <= Max && ((long)value - Min) % Step == 0;
    public override int IndexOf(double value) => Contains(value) ? (int)(((long)value - Min) / Step) : -1;
    public override string Format(double value) => ((long)value).ToString(CultureInfo.InvariantCulture);

    public override double? Parse(string text, out string? error)
    {
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) && Contains(v)) { error = null; return v; }
        error = $"'{text}' is not a value of {Name}; accepted: {DescribeDomain()}";
        return null;
    }

    public override string DescribeDomain() => Step == 1 ? $"[{Min}, {Max}]" : $"[{Min}, {Max}] step {Step}";
}

/// <summary>A real interval [min, max], optionally log-scaled (then min must be positive).</summary>
public sealed class FloatParameter : Parameter
{
    public double Min { get; }
    public double Max { get; }
    public bool Log { get; }

    public FloatParameter(string name, double min, double max, bool log = false) : base(name)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max)) throw new SpaceException($"parameter '{name}': bounds must be finite numbers");
        if (max < min) throw new SpaceException($"parameter '{name}': max {max} is below min {min}");
        if (log && min <= 0) throw new SpaceException($"parameter '{name}': a log scale needs min > 0 (got {min})");
        Min = min;
        Max = max;
        Log = log;
    }

    public override ParameterKind Kind => ParameterKind.Float;
    public override int Cardinality => 0;
    public override double ValueAt(int index) => throw new InvalidOperationException($"{Name} is continuous");
    public override int IndexOf(double value) => -1;
    public override bool Contains(double value) => value >= Min && value <= Max;
    public override double Sample(Random rng) => FromUnit(rng.NextDouble());

    public override double ToUnit(double value)
    {
        if (Max == Min) return 0.5;
        return Log ? (Math.Log(value) - Math.Log(Min)) / (Math.Log(Max) - Math.Log(Min)) : (value - Min) / (Max - Min);
    }

    public override double FromUnit(double unit)
    {
        unit = Math.Clamp(unit, 0, 1);
        double v = Log ? Math.Exp(Math.Log(Min) + unit * (Math.Log(Max) - Math.Log(Min))) : Min + unit * (Max - Min);
        return Math.Clamp(v, Min, Max);
    }

    public override string Format(double value) => Num(value);

    public override double? Parse(string text, out string? error)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && Contains(v)) { error = null; return v; }
        error = $"'{text}' is not in {Name}'s range {DescribeDomain()}";
        return null;
    }

    public override string DescribeDomain() => $"[{Num(Min)}, {Num(Max)}]{(Log ? " log" : "")}";
}

/// <summary>A design space or parameter that cannot exist (no values, duplicate names, bad bounds).</summary>
public sealed class SpaceException(string message) : InputException(message);
