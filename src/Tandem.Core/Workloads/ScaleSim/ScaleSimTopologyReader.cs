using System.Globalization;
using Tandem.Core.Hardware.Systolic;

namespace Tandem.Core.Workloads.ScaleSim;

/// <summary>
/// One row of a SCALE-Sim topology file: its name, the line it came from, the layer of the IR
/// (a <see cref="Conv2dLayer"/> with <see cref="Conv2dLayer.CeilMode"/> set and no padding; a GEMM
/// row becomes SCALE-Sim's own equivalent convolution, ifmap M × K, one channel, a 1 × K filter, N
/// filters), and the array-level shape.
/// </summary>
public sealed record ScaleSimLayer(string Name, int Line, Conv2dLayer Layer, SystolicLayerShape Shape);

/// <summary>The layers of one topology file, in file order. Rows are independent layers, not a chained network.</summary>
public sealed record ScaleSimTopology(string Name, IReadOnlyList<ScaleSimLayer> Layers)
{
    /// <summary>Each row as a one-layer <see cref="Workload"/> (rows of a topology file do not feed one another).</summary>
    public IEnumerable<Workload> ToWorkloads() =>
        Layers.Select(l => new Workload($"{Name}/{l.Name}", l.Layer.Input, [l.Layer]));
}

/// <summary>
/// Reads SCALE-Sim v2 topology CSVs. Convolution format: a header line, then
/// <c>name, ifmap height, ifmap width, filter height, filter width, channels, filters, stride[, stride width],</c>
/// (one stride serves both directions). GEMM format (<c>--gemm</c>): a header, then <c>name, M, N, K,</c>.
/// A trailing comma is optional; blank lines are skipped. Rows are kept as written: SCALE-Sim's
/// MobileNet files write depthwise layers as a C-channel convolution with one filter, and so are they
/// read. Every error is an <see cref="InputException"/> naming the file, line and field.
/// </summary>
public static class ScaleSimTopologyReader
{
    private static readonly string[] ConvFields =
        ["layer name", "IFMAP height", "IFMAP width", "filter height", "filter width", "channels", "number of filters", "stride", "stride width"];

    private static readonly string[] GemmFields = ["layer name", "M", "N", "K"];

    public static ScaleSimTopology Read(string path, bool gemm = false)
    {
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{path}: cannot read the topology file ({e.Message})", e);
        }
        return Parse(path, lines, gemm);
    }

    public static ScaleSimTopology Parse(string file, IReadOnlyList<string> lines, bool gemm = false)
    {
        var layers = new List<ScaleSimLayer>();
        bool header = true;
        for (int i = 0; i < lines.Count; i++)
        {
            string raw = lines[i].Trim();
            if (raw.Length == 0) continue;
            if (header) { header = false; continue; }
            int lineNo = i + 1;
            var cells = raw.Split(',').Select(c => c.Trim()).ToList();
            if (cells.Count > 1 && cells[^1].Length == 0) cells.RemoveAt(cells.Count - 1);
            layers.Add(gemm ? GemmRow(file, lineNo, cells) : ConvRow(file, lineNo, cells));
        }
        if (layers.Count == 0) throw new InputException($"{file}: no layers (a header line, then one layer per line)");
        return new ScaleSimTopology(Path.GetFileNameWithoutExtension(file), layers);
    }

    private static ScaleSimLayer ConvRow(string file, int line, List<string> cells)
    {
        if (cells.Count is < 8 or > 9)
            throw new InputException($"{file}:{line}: expected 8 or 9 fields ({string.Join(", ", ConvFields)}), got {cells.Count}");
        string name = Name(file, line, cells[0]);
        var v = new int[cells.Count];
        for (int c = 1; c < cells.Count; c++) v[c] = Positive(file, line, ConvFields[c], cells[c]);
        int h = v[1], w = v[2], r = v[3], s = v[4], ch = v[5], n = v[6], sh = v[7], sw = cells.Count == 9 ? v[8] : v[7];
        if (r > h) throw new InputException($"{file}:{line}: field 'filter height' ({r}) exceeds 'IFMAP height' ({h})");
        if (s > w) throw new InputException($"{file}:{line}: field 'filter width' ({s}) exceeds 'IFMAP width' ({w})");
        return Make(file, line, name, h, w, r, s, ch, n, sh, sw);
    }

    private static ScaleSimLayer GemmRow(string file, int line, List<string> cells)
    {
        if (cells.Count != 4)
            throw new InputException($"{file}:{line}: expected 4 fields ({string.Join(", ", GemmFields)}), got {cells.Count}");
        string name = Name(file, line, cells[0]);
        int m = Positive(file, line, "M", cells[1]), n = Positive(file, line, "N", cells[2]), k = Positive(file, line, "K", cells[3]);
        return Make(file, line, name, m, k, 1, k, 1, n, 1, 1);
    }

    private static ScaleSimLayer Make(string file, int line, string name, int h, int w, int r, int s, int ch, int n, int sh, int sw)
    {
        var conv = new Conv2dLayer
        {
            Name = name,
            Input = new TensorShape(ch, h, w),
            OutChannels = n,
            KernelHeight = r,
            KernelWidth = s,
            StrideHeight = sh,
            StrideWidth = sw,
            CeilMode = true,
        };
        SystolicLayerShape shape;
        try { shape = SystolicLayerShape.FromScaleSim(h, w, r, s, ch, n, sh, sw); }
        catch (InputException e) { throw new InputException($"{file}:{line}: {e.Message}", e); }
        return new ScaleSimLayer(name, line, conv, shape);
    }

    private static string Name(string file, int line, string cell) =>
        cell.Length > 0 ? cell : throw new InputException($"{file}:{line}: field 'layer name' is empty");

    private static int Positive(string file, int line, string field, string cell)
    {
        if (!int.TryParse(cell, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            throw new InputException($"{file}:{line}: field '{field}' must be an integer (got '{cell}')");
        if (v < 1) throw new InputException($"{file}:{line}: field '{field}' must be positive (got {v})");
        return v;
    }
}
