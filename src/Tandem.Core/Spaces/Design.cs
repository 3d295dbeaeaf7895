using System.Collections.Immutable;
using System.Text;

namespace Tandem.Core.Spaces;

/// <summary>
/// An immutable assignment of one value to every parameter of a <see cref="DesignSpace"/>.
/// Two designs are equal when they belong to spaces with the same signature and have the same
/// values; <see cref="Key"/> ("name=value;…") is stable across runs and used for de-duplication
/// and storage.
/// </summary>
public sealed class Design : IEquatable<Design>
{
    private readonly double[] _values;
    private string? _key;

    internal Design(DesignSpace space, double[] values)
    {
        Space = space;
        _values = values;
    }

    public DesignSpace Space { get; }

    /// <summary>Values in parameter order (see <see cref="Parameter"/> for the encoding).</summary>
    public ImmutableArray<double> Values => ImmutableArray.Create(_values);

    public double this[int index] => _values[index];
    public double this[string name] => _values[Space.IndexOf(name)];

    public int GetInt(string name) => (int)this[name];
    public long GetLong(string name) => (long)this[name];
    public double GetDouble(string name) => this[name];
    public bool GetBool(string name) => Format(name) is "true" or "yes" or "on" || (Space[name].Kind != ParameterKind.Categorical && this[name] != 0);

    /// <summary>The chosen text of a categorical parameter (or the formatted number of any other).</summary>
    public string GetString(string name) => Format(name);

    /// <summary>Text form of one parameter's value.</summary>
    public string Format(string name) => Space[name].Format(this[name]);

    /// <summary>Discrete position of a parameter's value (see <see cref="Parameter.IndexOf"/>).</summary>
    public int PositionOf(int index) => Space[index].IndexOf(_values[index]);

    /// <summary>A copy with one value replaced.</summary>
    public Design With(string name, double value) => With(Space.IndexOf(name), value);

    public Design With(int index, double value)
    {
        if (!Space[index].Contains(value))
            throw new SpaceException($"value {value} is outside {Space[index].Name} ∈ {Space[index].DescribeDomain()}");
        var copy = (double[])_values.Clone();
        copy[index] = value;
        return new Design(Space, copy);
    }

    /// <summary>Copy of the raw values (for strategies that edit several at once, then call <see cref="DesignSpace.Create"/>).</summary>
    public double[] ToArray() => (double[])_values.Clone();

    /// <summary>Parameter name → text value, in parameter order.</summary>
    public IReadOnlyDictionary<string, string> ToTextMap()
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < _values.Length; i++) map[Space[i].Name] = Space[i].Format(_values[i]);
        return map;
    }

    /// <summary>"name=value;name=value;…" in parameter order.</summary>
    public string Key
    {
        get
        {
            if (_key != null) return _key;
            var sb = new StringBuilder();
            for (int i = 0; i < _values.Length; i++)
            {
                if (i > 0) sb.Append(';');
                sb.Append(Space[i].Name).Append('=').Append(Space[i].Format(_values[i]));
            }
            return _key = sb.ToString();
        }
    }

    public bool Equals(Design? other) =>
        other is not null && (ReferenceEquals(this, other) ||
        (Space.Signature == other.Space.Signature && _values.AsSpan().SequenceEqual(other._values)));

    public override bool Equals(object? obj) => Equals(obj as Design);
    public override int GetHashCode() => Key.GetHashCode(StringComparison.Ordinal);
    public override string ToString() => Key;
}
