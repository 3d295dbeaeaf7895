using TorchSharp;
using static TorchSharp.torch;

namespace Tandem.Torch.Training;

/// <summary>
/// Shuffled mini-batches of sample indices, epoch after epoch, from a seeded <see cref="Random"/>
/// owned by the caller (never torch's global generator), so data order is reproducible and
/// independent of other threads.
/// </summary>
internal sealed class BatchSampler(long[] indices, int batchSize, Random rng)
{
    private readonly long[] _order = (long[])indices.Clone();
    private int _position = int.MaxValue;

    public int Epoch { get; private set; }
    public int StepsPerEpoch => (_order.Length + batchSize - 1) / batchSize;

    /// <summary>True when the next batch starts a new epoch (including the very first).</summary>
    public bool AtEpochStart => _position >= _order.Length;

    public long[] Next()
    {
        if (_position >= _order.Length)
        {
            if (_position != int.MaxValue) Epoch++;
            for (int i = _order.Length - 1; i > 0; i--)
            {
                int j = rng.Next(i + 1);
                (_order[i], _order[j]) = (_order[j], _order[i]);
            }
            _position = 0;
        }
        int n = Math.Min(batchSize, _order.Length - _position);
        var batch = _order.AsSpan(_position, n).ToArray();
        _position += n;
        return batch;
    }
}

/// <summary>Random flips and padded crops of a batch, drawn from the caller's seeded <see cref="Random"/>.</summary>
internal static class Augmenter
{
    public static Tensor Apply(Tensor x, Augmentation kind, int padding, Random rng)
    {
        if (kind is Augmentation.Crop or Augmentation.CropFlip) x = Crop(x, padding, rng);
        if (kind is Augmentation.Flip or Augmentation.CropFlip) x = Flip(x, rng);
        return x;
    }

    private static Tensor Flip(Tensor x, Random rng)
    {
        long n = x.shape[0];
        var mask = new bool[n];
        for (int i = 0; i < n; i++) mask[i] = rng.Next(2) == 1;
        var m = tensor(mask).view(n, 1, 1, 1);
        return where(m, x.flip(3), x);
    }

    private static Tensor Crop(Tensor x, int padding, Random rng)
    {
        if (padding <= 0) return x;
        long n = x.shape[0], h = x.shape[2], w = x.shape[3];
        // Zero padding: images are standardised, so zero is the mean pixel.
        var padded = nn.functional.pad(x, [padding, padding, padding, padding]);
        var parts = new Tensor[n];
        for (int i = 0; i < n; i++)
        {
            int dy = rng.Next(2 * padding + 1), dx = rng.Next(2 * padding + 1);
            parts[i] = padded[i].narrow(1, dy, h).narrow(2, dx, w);
        }
        return stack(parts);
    }
}
