namespace Tandem.Torch.Data;

/// <summary>
/// Shape and size of the generated dataset used by tests and smoke runs. Every class has a prototype
/// image made of a few bright blobs at class-specific places; a sample is its class prototype moved by
/// up to one pixel, with Gaussian pixel noise. A small CNN learns it in seconds, yet it is not
/// separable by a constant (noise and shifts matter), so training curves are meaningful.
/// </summary>
public sealed record SyntheticOptions
{
    public int Channels { get; init; } = 1;
    public int ImageSize { get; init; } = 12;
    public int Classes { get; init; } = 4;
    public int TrainSamples { get; init; } = 1200;
    public int TestSamples { get; init; } = 400;
    /// <summary>Standard deviation of the pixel noise, in 8-bit grey levels.</summary>
    public double Noise { get; init; } = 40;
    /// <summary>Seed of the generator (the dataset is a pure function of these options).</summary>
    public int Seed { get; init; } = 12345;

    public void Validate()
    {
        if (Channels is < 1 or > 4) throw new DatasetException($"synthetic dataset: channels must be 1 to 4 (got {Channels})");
        if (ImageSize is < 4 or > 64) throw new DatasetException($"synthetic dataset: image size must be 4 to 64 pixels (got {ImageSize})");
        if (Classes is < 2 or > 100) throw new DatasetException($"synthetic dataset: classes must be 2 to 100 (got {Classes})");
        if (TrainSamples < Classes || TestSamples < 1) throw new DatasetException($"synthetic dataset: needs at least one training sample per class and one test sample");
        if (!(Noise >= 0)) throw new DatasetException($"synthetic dataset: noise must be ≥ 0 (got {Noise})");
    }
}

/// <summary>Generates the synthetic dataset described by <see cref="SyntheticOptions"/>.</summary>
public static class SyntheticImages
{
    public static ImageSplits Generate(SyntheticOptions options)
    {
        options.Validate();
        var rng = new Random(options.Seed);
        int c = options.Channels, s = options.ImageSize, k = options.Classes;
        var prototypes = new double[k][];
        for (int cls = 0; cls < k; cls++)
        {
            var proto = new double[c * s * s];
            int blobs = 2 + rng.Next(2);
            for (int b = 0; b < blobs; b++)
            {
                int ch = rng.Next(c);
                double cy = 1 + rng.NextDouble() * (s - 2), cx = 1 + rng.NextDouble() * (s - 2);
                double radius = 0.8 + rng.NextDouble() * s / 6.0;
                for (int y = 0; y < s; y++)
                    for (int x = 0; x < s; x++)
                    {
                        double d2 = ((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (radius * radius);
                        proto[(ch * s + y) * s + x] += 200 * Math.Exp(-d2);
                    }
            }
            prototypes[cls] = proto;
        }
        var train = Sample(options.TrainSamples, prototypes, options, rng);
        var test = Sample(options.TestSamples, prototypes, options, rng);
        return new ImageSplits("synthetic", train, test);
    }

    private static ImageSet Sample(int n, double[][] prototypes, SyntheticOptions o, Random rng)
    {
        int c = o.Channels, s = o.ImageSize, per = c * s * s;
        var pixels = new byte[(long)n * per];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            int cls = i % prototypes.Length; // balanced classes
            labels[i] = cls;
            int dy = rng.Next(3) - 1, dx = rng.Next(3) - 1;
            var proto = prototypes[cls];
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < s; y++)
                    for (int x = 0; x < s; x++)
                    {
                        int sy = Math.Clamp(y - dy, 0, s - 1), sx = Math.Clamp(x - dx, 0, s - 1);
                        double v = proto[(ch * s + sy) * s + sx] + o.Noise * Gaussian(rng);
                        pixels[(long)i * per + (ch * s + y) * s + x] = (byte)Math.Clamp(Math.Round(v), 0, 255);
                    }
        }
        return new ImageSet { Pixels = pixels, Labels = labels, Channels = c, Height = s, Width = s, NumClasses = prototypes.Length };
    }

    private static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
