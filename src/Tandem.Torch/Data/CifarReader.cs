namespace Tandem.Torch.Data;

/// <summary>
/// Reads the binary versions of CIFAR-10 and CIFAR-100. A CIFAR-10 record is 1 label byte and
/// 3 072 pixel bytes (1 024 red, 1 024 green, 1 024 blue, row-major 32×32); a CIFAR-100 record has a
/// coarse and a fine label byte before the pixels (the fine label, 100 classes, is used). CIFAR-10's
/// folder holds <c>data_batch_1.bin</c> … <c>data_batch_5.bin</c> and <c>test_batch.bin</c>;
/// CIFAR-100's holds <c>train.bin</c> and <c>test.bin</c>.
/// </summary>
public static class CifarReader
{
    public const int ImageBytes = 3 * 32 * 32;

    /// <summary>Decodes whole records of one batch file.</summary>
    public static ImageSet ReadBatch(string path, bool cifar100)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new DatasetException($"{path}: file not found"); }
        catch (IOException e) { throw new DatasetException($"{path}: cannot read ({e.Message})", e); }
        return Parse(bytes, path, cifar100);
    }

    public static ImageSet Parse(byte[] bytes, string source, bool cifar100)
    {
        int labelBytes = cifar100 ? 2 : 1;
        int record = labelBytes + ImageBytes;
        if (bytes.Length == 0 || bytes.Length % record != 0)
            throw new DatasetException($"{source}: {bytes.Length} bytes is not a whole number of {(cifar100 ? "CIFAR-100" : "CIFAR-10")} records of {record} bytes ({labelBytes} label byte{(labelBytes > 1 ? "s" : "")} + {ImageBytes} pixels); is this the binary version of the dataset?");
        int n = bytes.Length / record;
        var pixels = new byte[(long)n * ImageBytes];
        var labels = new int[n];
        int classes = cifar100 ? 100 : 10;
        for (int i = 0; i < n; i++)
        {
            int off = i * record;
            int label = bytes[off + labelBytes - 1];
            if (label >= classes)
                throw new DatasetException($"{source}: record {i} has label {label}, outside 0…{classes - 1}; is this a {(cifar100 ? "CIFAR-100" : "CIFAR-10")} file?");
            labels[i] = label;
            Buffer.BlockCopy(bytes, off + labelBytes, pixels, i * ImageBytes, ImageBytes);
        }
        return new ImageSet { Pixels = pixels, Labels = labels, Channels = 3, Height = 32, Width = 32, NumClasses = classes };
    }

    public static ImageSplits ReadFolder(string folder, bool cifar100)
    {
        if (!Directory.Exists(folder)) throw new DatasetException($"{folder}: data folder not found");
        string name = cifar100 ? "cifar100" : "cifar10";
        string[] trainFiles = cifar100 ? ["train.bin"] : ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
        string testFile = cifar100 ? "test.bin" : "test_batch.bin";
        string Need(string f)
        {
            string p = Path.Combine(folder, f);
            return File.Exists(p) ? p
                : throw new DatasetException($"{folder}: no file '{f}'; a {name} folder (binary version) needs {string.Join(", ", trainFiles)} and {testFile}");
        }
        var parts = trainFiles.Select(f => ReadBatch(Need(f), cifar100)).ToArray();
        var train = Concat(parts);
        var test = ReadBatch(Need(testFile), cifar100);
        return new ImageSplits(name, train, test);
    }

    private static ImageSet Concat(IReadOnlyList<ImageSet> parts)
    {
        if (parts.Count == 1) return parts[0];
        var pixels = new byte[parts.Sum(p => p.Pixels.LongLength)];
        var labels = new int[parts.Sum(p => p.Count)];
        long po = 0; int lo = 0;
        foreach (var p in parts)
        {
            Buffer.BlockCopy(p.Pixels, 0, pixels, (int)po, p.Pixels.Length);
            Array.Copy(p.Labels, 0, labels, lo, p.Count);
            po += p.Pixels.LongLength; lo += p.Count;
        }
        return parts[0] with { Pixels = pixels, Labels = labels };
    }
}
