using System.Text;
using Tandem.Core.Accuracy;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;
using TorchSharp;
using static TorchSharp.torch;

namespace Tandem.Torch.Evaluators;

/// <summary>Where a hot-started design took its initial weights from.</summary>
internal sealed record HotStartMatch(int Trial, double Distance, int Copied, int Total);

/// <summary>Weights of a trained trial found for a hot start, before they are copied into a module.</summary>
internal sealed record HotStartSource(int Trial, double Distance, byte[] Weights);

/// <summary>
/// Hot starts (HotNAS): trained weights are stored per trial as the artifact <see cref="ArtifactName"/>;
/// a new design starts from the closest stored design, copying every tensor whose name and shape
/// match (layers keep their names across designs of a family: "s2.conv1" is the same slot in every
/// design) and keeping its own seeded initialisation for the rest. Distance between designs is the
/// mean over <c>arch.*</c> parameters of the normalised position difference (ordinal and integer
/// parameters) or 0/1 (categorical parameters), so 0 means the same network.
/// </summary>
internal static class HotStart
{
    public const string ArtifactName = "weights";

    public static async Task<HotStartSource?> FindAsync(AccuracyRequest request, CancellationToken ct)
    {
        var study = request.Study;
        if (study is null) return null;
        var artifacts = await study.ListArtifactsAsync(ct).ConfigureAwait(false);
        var withWeights = artifacts.Where(a => a.Name == ArtifactName && a.Trial != request.TrialNumber).Select(a => a.Trial).ToHashSet();
        if (withWeights.Count == 0) return null;
        var trials = await study.GetTrialsAsync(ct).ConfigureAwait(false);
        TrialRecord? best = null;
        double bestDistance = double.PositiveInfinity;
        foreach (var t in trials)
        {
            if (!withWeights.Contains(t.Number)) continue;
            double d = Distance(request.Design, t.Params);
            if (d < bestDistance) { bestDistance = d; best = t; }
        }
        if (best is null) return null;
        var bytes = await study.GetArtifactAsync(best.Number, ArtifactName, ct).ConfigureAwait(false);
        return bytes is null ? null : new HotStartSource(best.Number, bestDistance, bytes);
    }

    /// <summary>Mean normalised difference over the design's <c>arch.*</c> parameters (1 for a parameter the other lacks or cannot parse).</summary>
    public static double Distance(Design design, IReadOnlyDictionary<string, string> other)
    {
        double sum = 0;
        int n = 0;
        foreach (var p in design.Space.Parameters)
        {
            if (p.Group != "arch") continue;
            n++;
            if (!other.TryGetValue(p.Name, out var text)) { sum += 1; continue; }
            double? v = p.Parse(text, out _);
            if (v is null) { sum += 1; continue; }
            double mine = design[p.Name];
            sum += p.Kind switch
            {
                ParameterKind.Categorical => v.Value == mine ? 0 : 1,
                ParameterKind.Float => Math.Abs(p.ToUnit(v.Value) - p.ToUnit(mine)),
                _ => p.Cardinality <= 1 ? 0 : Math.Abs(p.IndexOf(v.Value) - p.IndexOf(mine)) / (double)(p.Cardinality - 1),
            };
        }
        return n == 0 ? 0 : sum / n;
    }

    /// <summary>Copies every tensor of <paramref name="weights"/> whose name and shape match a parameter or buffer of <paramref name="module"/>.</summary>
    public static (int Copied, int Total) Load(nn.Module module, byte[] weights)
    {
        var stored = WeightsFile.Read(weights);
        int copied = 0, total = 0;
        using var noGrad = no_grad();
        foreach (var (name, t) in module.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(module.named_buffers()))
        {
            total++;
            if (!stored.TryGetValue(name, out var s) || !s.Shape.SequenceEqual(t.shape)) continue;
            using var src = tensor(s.Values, s.Shape);
            t.copy_(src);
            copied++;
        }
        return (copied, total);
    }

    public static byte[] Save(nn.Module module)
    {
        var entries = new List<(string, long[], float[])>();
        foreach (var (name, t) in module.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(module.named_buffers()))
        {
            using var c = t.detach().to_type(ScalarType.Float32).contiguous();
            entries.Add((name, t.shape, c.data<float>().ToArray()));
        }
        return WeightsFile.Write(entries);
    }
}

/// <summary>
/// Tandem's portable weights format: "TNDW" magic, version 1, tensor count, then per tensor its name,
/// rank, extents (int64) and float32 values, all little-endian. Independent of TorchSharp's own
/// format so that tensors can be matched by name and shape across different networks.
/// </summary>
internal static class WeightsFile
{
    private const uint Magic = 0x57444E54; // "TNDW"

    public sealed record Entry(long[] Shape, float[] Values);

    public static byte[] Write(IReadOnlyList<(string Name, long[] Shape, float[] Values)> tensors)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(1);
            w.Write(tensors.Count);
            foreach (var (name, shape, values) in tensors)
            {
                w.Write(name);
                w.Write(shape.Length);
                foreach (long d in shape) w.Write(d);
                w.Write(values.Length);
                var bytes = new byte[values.Length * sizeof(float)];
                Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
                w.Write(bytes);
            }
        }
        return ms.ToArray();
    }

    public static Dictionary<string, Entry> Read(byte[] data)
    {
        var result = new Dictionary<string, Entry>(StringComparer.Ordinal);
        try
        {
            using var r = new BinaryReader(new MemoryStream(data), Encoding.UTF8);
            if (r.ReadUInt32() != Magic || r.ReadInt32() != 1) throw new InvalidDataException("not a Tandem weights file (magic or version)");
            int count = r.ReadInt32();
            for (int i = 0; i < count; i++)
            {
                string name = r.ReadString();
                var shape = new long[r.ReadInt32()];
                for (int k = 0; k < shape.Length; k++) shape[k] = r.ReadInt64();
                int n = r.ReadInt32();
                if (n != shape.Aggregate(1L, (a, b) => a * b)) throw new InvalidDataException($"tensor '{name}' has {n} values for shape {string.Join("x", shape)}");
                var values = new float[n];
                Buffer.BlockCopy(r.ReadBytes(n * sizeof(float)), 0, values, 0, n * sizeof(float));
                result[name] = new Entry(shape, values);
            }
        }
        catch (EndOfStreamException e) { throw new InvalidDataException("truncated Tandem weights file", e); }
        return result;
    }
}
