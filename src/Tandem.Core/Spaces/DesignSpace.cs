using System.Collections.Immutable;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace Tandem.Core.Spaces;

/// <summary>
/// An ordered, immutable list of uniquely named parameters. The order is part of the space's
/// identity: <see cref="Signature"/> hashes names, kinds and domains so a stored study can tell
/// whether it is being resumed with the same space.
/// </summary>
public sealed class DesignSpace
{
    private readonly Dictionary<string, int> _index;

    public ImmutableArray<Parameter> Parameters { get; }

    public DesignSpace(IEnumerable<Parameter> parameters)
    {
        Parameters = parameters.ToImmutableArray();
        if (Parameters.Length == 0) throw new SpaceException("the design space has no parameters");
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Parameters.Length; i++)
            if (!_index.TryAdd(Parameters[i].Name, i))
                throw new SpaceException($"parameter '{Parameters[i].Name}' is defined twice");
        Signature = ComputeSignature();
    }

    public int Count => Parameters.Length;
    public Parameter this[int index] => Parameters[index];
    public Parameter this[string name] => Parameters[IndexOf(name)];

    public int IndexOf(string name) =>
        _index.TryGetValue(name, out int i) ? i : throw new SpaceException($"the design space has no parameter '{name}'");

    public bool Contains(string name) => _index.ContainsKey(name);

    /// <summary>Stable hash of the parameters' names, kinds and domains (hex, 16 chars).</summary>
    public string Signature { get; }

    public bool IsDiscrete => Parameters.All(p => p.IsDiscrete);

    /// <summary>Number of designs of a fully discrete space; null if any parameter is continuous.</summary>
    public BigInteger? Size
    {
        get
        {
            if (!IsDiscrete) return null;
            BigInteger n = BigInteger.One;
            foreach (var p in Parameters) n *= p.Cardinality;
            return n;
        }
    }

    /// <summary>Parameters whose name starts with <paramref name="group"/> + ".".</summary>
    public IEnumerable<Parameter> Group(string group) => Parameters.Where(p => p.Group == group);

    /// <summary>A uniform random design.</summary>
    public Design Sample(Random rng)
    {
        var values = new double[Count];
        for (int i = 0; i < Count; i++) values[i] = Parameters[i].Sample(rng);
        return new Design(this, values);
    }

    /// <summary>Builds a design from values in parameter order, checking each against its domain.</summary>
    public Design Create(IReadOnlyList<double> values)
    {
        if (values.Count != Count) throw new SpaceException($"a design needs {Count} values, got {values.Count}");
        for (int i = 0; i < Count; i++)
            if (!Parameters[i].Contains(values[i]))
                throw new SpaceException($"value {values[i]} is outside {Parameters[i].Name} ∈ {Parameters[i].DescribeDomain()}");
        return new Design(this, values.ToArray());
    }

    /// <summary>Builds a design from text values by name (stored trials, config files). Every parameter must be given.</summary>
    public Design Parse(IReadOnlyDictionary<string, string> values)
    {
        foreach (var key in values.Keys)
            if (!Contains(key)) throw new SpaceException($"unknown parameter '{key}'; this space has: {string.Join(", ", Parameters.Select(p => p.Name))}");
        var result = new double[Count];
        for (int i = 0; i < Count; i++)
        {
            var p = Parameters[i];
            if (!values.TryGetValue(p.Name, out var text)) throw new SpaceException($"no value given for parameter '{p.Name}'");
            result[i] = p.Parse(text, out string? error) ?? throw new SpaceException(error!);
        }
        return new Design(this, result);
    }

    /// <summary>
    /// Every design of a discrete space in mixed-radix order (last parameter fastest). Streams:
    /// memory use is constant whatever the size.
    /// </summary>
    public IEnumerable<Design> Enumerate()
    {
        if (!IsDiscrete) throw new SpaceException("only a fully discrete space can be enumerated");
        var idx = new int[Count];
        while (true)
        {
            var values = new double[Count];
            for (int i = 0; i < Count; i++) values[i] = Parameters[i].ValueAt(idx[i]);
            yield return new Design(this, values);
            int k = Count - 1;
            while (k >= 0 && ++idx[k] == Parameters[k].Cardinality) { idx[k] = 0; k--; }
            if (k < 0) yield break;
        }
    }

    /// <summary>A new space with <paramref name="extra"/> appended (e.g. network ⊕ hardware).</summary>
    public DesignSpace Concat(IEnumerable<Parameter> extra) => new(Parameters.Concat(extra));

    private string ComputeSignature()
    {
        var sb = new StringBuilder();
        foreach (var p in Parameters) sb.Append(p.Name).Append(':').Append(p.Kind).Append(':').Append(p.DescribeDomain()).Append('\n');
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString()));
        return Convert.ToHexStringLower(hash.AsSpan(0, 8));
    }

    public override string ToString() => string.Join("\n", Parameters.Select(p => p.ToString()));
}
