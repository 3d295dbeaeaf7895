using System.Globalization;
using Tandem.Core.Hardware.Systolic;

namespace Tandem.Core.Workloads.ScaleSim;

/// <summary>A SCALE-Sim <c>.cfg</c> file as read: its run name and the array it describes.</summary>
public sealed record ScaleSimConfig(string RunName, SystolicConfig Config);

/// <summary>
/// Reads SCALE-Sim v2 configuration files (INI: <c>[general] run_name</c>; <c>[architecture_presets]</c>
/// ArrayHeight, ArrayWidth, IfmapSramSzkB, FilterSramSzkB, OfmapSramSzkB, Dataflow, Bandwidth,
/// offsets, MemoryBanks; <c>[run_presets] InterfaceBandwidth</c> CALC or USER). Keys are
/// case-insensitive and take ':' or '='; '#' and ';' start comments. Every error is an
/// <see cref="InputException"/> naming the file, the line and the field.
/// </summary>
public static class ScaleSimConfigReader
{
    public static ScaleSimConfig Read(string path, double clockHz = 1e9)
    {
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{path}: cannot read the SCALE-Sim config ({e.Message})", e);
        }
        return Parse(path, lines, clockHz);
    }

    public static ScaleSimConfig Parse(string file, IReadOnlyList<string> lines, double clockHz = 1e9)
    {
        var values = new Dictionary<string, (string Value, int Line)>(StringComparer.OrdinalIgnoreCase);
        string section = "";
        for (int i = 0; i < lines.Count; i++)
        {
            string line = lines[i].Trim();
            int lineNo = i + 1;
            if (line.Length == 0 || line[0] is '#' or ';') continue;
            if (line[0] == '[')
            {
                if (!line.EndsWith(']')) throw new InputException($"{file}:{lineNo}: section header '{line}' has no closing ']'");
                section = line[1..^1].Trim();
                continue;
            }
            int sep = line.IndexOfAny([':', '=']);
            if (sep <= 0) throw new InputException($"{file}:{lineNo}: expected 'key: value' or 'key = value', got '{line}'");
            if (section.Length == 0) throw new InputException($"{file}:{lineNo}: '{line[..sep].Trim()}' appears before any [section]");
            string key = line[..sep].Trim();
            values[key] = (line[(sep + 1)..].Trim(), lineNo);
        }

        int Int(string key, bool required = true, int fallback = 0)
        {
            if (!values.TryGetValue(key, out var v))
            {
                if (required) throw new InputException($"{file}: missing field '{key}'");
                return fallback;
            }
            string first = v.Value.Split(',')[0].Trim();
            if (!int.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
                throw new InputException($"{file}:{v.Line}: field '{key}' must be an integer (got '{v.Value}')");
            if (n < 1) throw new InputException($"{file}:{v.Line}: field '{key}' must be positive (got {n})");
            return n;
        }

        int rows = Int("ArrayHeight"), cols = Int("ArrayWidth");
        int ifmapKb = Int("IfmapSramSzkB"), filterKb = Int("FilterSramSzkB"), ofmapKb = Int("OfmapSramSzkB");
        foreach (var offsetKey in new[] { "IfmapOffset", "FilterOffset", "OfmapOffset" })
            if (values.TryGetValue(offsetKey, out var off) && !long.TryParse(off.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                throw new InputException($"{file}:{off.Line}: field '{offsetKey}' must be an integer (got '{off.Value}')");

        if (!values.TryGetValue("Dataflow", out var df)) throw new InputException($"{file}: missing field 'Dataflow'");
        var dataflow = SystolicConfig.ParseDataflow(df.Value)
                       ?? throw new InputException($"{file}:{df.Line}: field 'Dataflow' must be os, ws or is (got '{df.Value}')");

        var mode = SystolicBandwidthMode.Calc;
        if (values.TryGetValue("InterfaceBandwidth", out var ib))
        {
            mode = ib.Value.ToUpperInvariant() switch
            {
                "CALC" => SystolicBandwidthMode.Calc,
                "USER" => SystolicBandwidthMode.User,
                _ => throw new InputException($"{file}:{ib.Line}: field 'InterfaceBandwidth' must be CALC or USER (got '{ib.Value}')"),
            };
        }
        int bandwidth = mode == SystolicBandwidthMode.User ? Int("Bandwidth") : Int("Bandwidth", required: false, fallback: 10);

        string runName = values.TryGetValue("run_name", out var rn) && rn.Value.Length > 0 ? rn.Value : Path.GetFileNameWithoutExtension(file);
        var config = new SystolicConfig
        {
            Rows = rows,
            Columns = cols,
            Dataflow = dataflow,
            IfmapSramKiB = ifmapKb,
            FilterSramKiB = filterKb,
            OfmapSramKiB = ofmapKb,
            Bits = 8,
            ClockFrequencyHz = clockHz,
            BandwidthMode = mode,
            DramWordsPerCycle = bandwidth,
        };
        config.Validate();
        return new ScaleSimConfig(runName, config);
    }
}
