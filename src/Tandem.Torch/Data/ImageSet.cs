namespace Tandem.Torch.Data;

/// <summary>
/// Decoded images of one split, before they become tensors: 8-bit pixels laid out N × C × H × W
/// (channels first), one label per image in 0 … <see cref="NumClasses"/>−1. Immutable by convention
/// (the arrays are not copied; nobody writes to them after decoding).
/// </summary>
public sealed record ImageSet
{
    public required byte[] Pixels { get; init; }
    public required int[] Labels { get; init; }
    public required int Channels { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    public required int NumClasses { get; init; }

    public int Count => Labels.Length;
    public int PixelsPerImage => Channels * Height * Width;

    /// <summary>Throws <see cref="DatasetException"/> when the arrays disagree with the stated shape or labels are out of range.</summary>
    public ImageSet Validated(string source)
    {
        if ((long)Count * PixelsPerImage != Pixels.LongLength)
            throw new DatasetException($"{source}: {Count} labels need {(long)Count * PixelsPerImage} pixels of {Channels}x{Height}x{Width}, found {Pixels.LongLength}");
        for (int i = 0; i < Labels.Length; i++)
            if (Labels[i] < 0 || Labels[i] >= NumClasses)
                throw new DatasetException($"{source}: label {Labels[i]} of sample {i} is outside 0…{NumClasses - 1}");
        return this;
    }
}

/// <summary>The training file and the test file of a dataset, as decoded.</summary>
public sealed record ImageSplits(string Name, ImageSet Train, ImageSet Test);
