using System.Text.Json;

namespace Tandem.Core.Hardware;

/// <summary>
/// Energy per operation and per access, and area per component, for one technology node, with the
/// source of every default. Defaults are 45 nm figures: arithmetic and memory energies from
/// M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014 (45 nm,
/// 0.9 V), SRAM energy scaled with capacity as CACTI-style √capacity (Horowitz's 8 KB → 32 KB →
/// 1 MB points: 10, 20, 100 pJ per 64-bit access), flip-flop area from the NanGate FreePDK45 Open
/// Cell Library, SRAM area from Intel's 45 nm 0.346 µm² 6T cell (Mistry et al., IEDM 2007) at a
/// CACTI-typical 50 % array efficiency. Precision scaling between Horowitz's 8- and 32-bit points
/// uses the power law through them. All values are non-negative; energies in picojoules, areas in
/// µm² or mm² as named. A user may supply a JSON table (see <see cref="Load"/>).
/// </summary>
public sealed record TechnologyTable
{
    public static TechnologyTable Default45nm { get; } = new();

    /// <summary>Technology node in nanometres (informational).</summary>
    public double NodeNanometres { get; init; } = 45;

    /// <summary>8-bit integer multiply, pJ (Horowitz ISSCC 2014: 0.2 pJ).</summary>
    public double MultiplyEnergyPicojoules8Bit { get; init; } = 0.2;
    /// <summary>Power law in bits through Horowitz's 8-bit (0.2 pJ) and 32-bit (3.1 pJ) multiplies: ln(15.5)/ln(4).</summary>
    public double MultiplyEnergyExponent { get; init; } = 1.977;
    /// <summary>8-bit integer add, pJ (Horowitz ISSCC 2014: 0.03 pJ).</summary>
    public double AddEnergyPicojoules8Bit { get; init; } = 0.03;
    /// <summary>Power law through Horowitz's 8-bit (0.03 pJ) and 32-bit (0.1 pJ) adds: ln(3.33)/ln(4).</summary>
    public double AddEnergyExponent { get; init; } = 0.868;

    /// <summary>64-bit read of an 8 KB SRAM, pJ (Horowitz ISSCC 2014: 10 pJ).</summary>
    public double SramEnergyPicojoulesPer64BitsAt8KiB { get; init; } = 10;
    /// <summary>Capacity exponent of SRAM access energy (CACTI-style √capacity; fits Horowitz's 10/20/100 pJ at 8 KB/32 KB/1 MB).</summary>
    public double SramEnergyCapacityExponent { get; init; } = 0.5;
    /// <summary>64-bit DRAM access, pJ (Horowitz ISSCC 2014: 1.3–2.6 nJ; the low end).</summary>
    public double DramEnergyPicojoulesPer64Bits { get; init; } = 1300;

    /// <summary>8-bit integer multiplier area, µm² (Horowitz ISSCC 2014: 282 µm²).</summary>
    public double MultiplierAreaSquareMicrometres8Bit { get; init; } = 282;
    /// <summary>Power law through Horowitz's 8-bit (282 µm²) and 32-bit (3495 µm²) multipliers: ln(12.4)/ln(4).</summary>
    public double MultiplierAreaExponent { get; init; } = 1.816;
    /// <summary>8-bit adder area, µm² (Horowitz ISSCC 2014: 36 µm²).</summary>
    public double AdderAreaSquareMicrometres8Bit { get; init; } = 36;
    /// <summary>Power law through Horowitz's 8-bit (36 µm²) and 32-bit (137 µm²) adders: ln(3.8)/ln(4).</summary>
    public double AdderAreaExponent { get; init; } = 0.964;
    /// <summary>One flip-flop (one register bit), µm² (NanGate FreePDK45 DFF_X1: 4.522 µm²).</summary>
    public double FlipFlopAreaSquareMicrometres { get; init; } = 4.522;
    /// <summary>SRAM macro area per KiB, mm² (8192 × 0.346 µm² Intel 45 nm 6T cells ÷ 0.5 array efficiency).</summary>
    public double SramAreaSquareMillimetresPerKiB { get; init; } = 0.00567;

    /// <summary>One multiply-accumulate: a <paramref name="bits"/>-bit multiply plus an add at the 2·bits accumulator width.</summary>
    public double MacEnergyPicojoules(int bits) =>
        MultiplyEnergyPicojoules8Bit * Math.Pow(bits / 8.0, MultiplyEnergyExponent)
        + AddEnergyPicojoules8Bit * Math.Pow(2 * bits / 8.0, AddEnergyExponent);

    /// <summary>One <paramref name="bits"/>-bit add (pooling, residual additions).</summary>
    public double AddEnergyPicojoules(int bits) => AddEnergyPicojoules8Bit * Math.Pow(bits / 8.0, AddEnergyExponent);

    /// <summary>One <paramref name="bits"/>-bit word read or written in an SRAM of <paramref name="kib"/> KiB.</summary>
    public double SramAccessEnergyPicojoules(double kib, int bits) =>
        SramEnergyPicojoulesPer64BitsAt8KiB * Math.Pow(kib / 8.0, SramEnergyCapacityExponent) * bits / 64.0;

    /// <summary>One <paramref name="bits"/>-bit word moved to or from DRAM.</summary>
    public double DramAccessEnergyPicojoules(int bits) => DramEnergyPicojoulesPer64Bits * bits / 64.0;

    /// <summary>One processing element: multiplier, 2·bits accumulator adder, and 4·bits of registers (two operands, a 2·bits partial sum).</summary>
    public double PeAreaSquareMillimetres(int bits) =>
        (MultiplierAreaSquareMicrometres8Bit * Math.Pow(bits / 8.0, MultiplierAreaExponent)
         + AdderAreaSquareMicrometres8Bit * Math.Pow(2 * bits / 8.0, AdderAreaExponent)
         + 4.0 * bits * FlipFlopAreaSquareMicrometres) * 1e-6;

    public double SramAreaSquareMillimetres(double kib) => kib * SramAreaSquareMillimetresPerKiB;

    /// <summary>
    /// Reads a JSON object whose keys are this record's property names (camelCase or PascalCase);
    /// keys left out keep the 45 nm defaults. Throws <see cref="InputException"/> naming the file and
    /// the field for malformed JSON, unknown keys, and values that are not non-negative numbers.
    /// </summary>
    public static TechnologyTable Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{path}: cannot read the technology table ({e.Message})", e);
        }
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e)
        {
            throw new InputException($"{path}: not valid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InputException($"{path}: the technology table must be a JSON object of named numbers");
            var table = Default45nm;
            var setters = Setters();
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                string key = property.Name;
                var match = setters.Keys.FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase));
                if (match is null)
                    throw new InputException($"{path}: unknown field '{key}'; accepted: {string.Join(", ", setters.Keys)}");
                if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetDouble(out double v) || !(v >= 0) || double.IsInfinity(v))
                    throw new InputException($"{path}: field '{key}' must be a non-negative number (got {property.Value.GetRawText()})");
                table = setters[match](table, v);
            }
            return table;
        }
    }

    private static Dictionary<string, Func<TechnologyTable, double, TechnologyTable>> Setters() => new(StringComparer.Ordinal)
    {
        [nameof(NodeNanometres)] = (t, v) => t with { NodeNanometres = v },
        [nameof(MultiplyEnergyPicojoules8Bit)] = (t, v) => t with { MultiplyEnergyPicojoules8Bit = v },
        [nameof(MultiplyEnergyExponent)] = (t, v) => t with { MultiplyEnergyExponent = v },
        [nameof(AddEnergyPicojoules8Bit)] = (t, v) => t with { AddEnergyPicojoules8Bit = v },
        [nameof(AddEnergyExponent)] = (t, v) => t with { AddEnergyExponent = v },
        [nameof(SramEnergyPicojoulesPer64BitsAt8KiB)] = (t, v) => t with { SramEnergyPicojoulesPer64BitsAt8KiB = v },
        [nameof(SramEnergyCapacityExponent)] = (t, v) => t with { SramEnergyCapacityExponent = v },
        [nameof(DramEnergyPicojoulesPer64Bits)] = (t, v) => t with { DramEnergyPicojoulesPer64Bits = v },
        [nameof(MultiplierAreaSquareMicrometres8Bit)] = (t, v) => t with { MultiplierAreaSquareMicrometres8Bit = v },
        [nameof(MultiplierAreaExponent)] = (t, v) => t with { MultiplierAreaExponent = v },
        [nameof(AdderAreaSquareMicrometres8Bit)] = (t, v) => t with { AdderAreaSquareMicrometres8Bit = v },
        [nameof(AdderAreaExponent)] = (t, v) => t with { AdderAreaExponent = v },
        [nameof(FlipFlopAreaSquareMicrometres)] = (t, v) => t with { FlipFlopAreaSquareMicrometres = v },
        [nameof(SramAreaSquareMillimetresPerKiB)] = (t, v) => t with { SramAreaSquareMillimetresPerKiB = v },
    };
}
