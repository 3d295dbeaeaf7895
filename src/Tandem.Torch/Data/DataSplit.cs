using Tandem.Core;

namespace Tandem.Torch.Data;

/// <summary>
/// Which samples of the training file are used for what: a validation part (for selection and early
/// stopping) and a training subset, disjoint, both drawn by one seeded shuffle so that every trial
/// of a study sees the same validation samples. The test file is never part of a split.
/// </summary>
public sealed record DataSplit(long[] Validation, long[] Train)
{
    /// <summary>
    /// Shuffles 0 … <paramref name="available"/>−1 with <paramref name="seed"/>; the first
    /// <paramref name="validation"/> indices validate, the next <paramref name="train"/> (at most all the rest) train.
    /// </summary>
    public static DataSplit Create(int available, int validation, int train, int seed)
    {
        if (validation < 1 || validation >= available)
            throw new InputException($"validation_samples {validation} must be at least 1 and below the {available} samples of the training file");
        if (train < 1) throw new InputException($"train_samples must be at least 1 (got {train})");
        var order = new long[available];
        for (int i = 0; i < available; i++) order[i] = i;
        var rng = new Random(seed);
        for (int i = available - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        int trainCount = Math.Min(train, available - validation);
        return new DataSplit(order[..validation], order[validation..(validation + trainCount)]);
    }
}
