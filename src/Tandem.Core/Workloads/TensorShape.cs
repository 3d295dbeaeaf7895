namespace Tandem.Core.Workloads;

/// <summary>
/// Shape of one activation tensor of one sample, channels-first (C × H × W). Dense layers and
/// GEMMs use H = W = 1 or H = rows. All three extents are at least 1.
/// </summary>
public readonly record struct TensorShape
{
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }

    public TensorShape(int channels, int height, int width)
    {
        if (channels < 1 || height < 1 || width < 1)
            throw new WorkloadException($"tensor shape {channels}x{height}x{width} has an extent below 1");
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>Number of scalar elements (C·H·W).</summary>
    public long Elements => (long)Channels * Height * Width;

    public override string ToString() => $"{Channels}x{Height}x{Width}";
}

/// <summary>A workload that cannot exist (non-positive sizes, filter larger than input, shape mismatch).</summary>
public sealed class WorkloadException(string message) : InputException(message);
