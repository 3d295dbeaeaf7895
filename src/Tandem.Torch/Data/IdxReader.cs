using System.Buffers.Binary;
using System.IO.Compression;

namespace Tandem.Torch.Data;

/// <summary>
/// Reads IDX files (the format of MNIST and Fashion-MNIST): a 4-byte magic number (two zero bytes,
/// the element type, the number of dimensions), one big-endian 32-bit extent per dimension, then the
/// elements. Files may be gzip-compressed (detected by content, not by name). Only unsigned-byte
/// elements (type 0x08) are accepted, which is what image and label files use.
/// </summary>
public static class IdxReader
{
    /// <summary>An IDX array: its extents and its bytes.</summary>
    public sealed record IdxArray(int[] Dimensions, byte[] Data);

    public static IdxArray Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new DatasetException($"{path}: file not found"); }
        catch (DirectoryNotFoundException) { throw new DatasetException($"{path}: file not found"); }
        catch (IOException e) { throw new DatasetException($"{path}: cannot read ({e.Message})", e); }
        return Parse(bytes, path);
    }

    /// <summary>Parses IDX bytes (gzip or plain); <paramref name="source"/> names the file in errors.</summary>
    public static IdxArray Parse(byte[] bytes, string source)
    {
        if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) bytes = Gunzip(bytes, source);
        if (bytes.Length < 4)
            throw new DatasetException($"{source}: not an IDX file (only {bytes.Length} bytes; an IDX file starts with a 4-byte magic number)");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new DatasetException($"{source}: not an IDX file (magic number {bytes[0]:x2}{bytes[1]:x2}{bytes[2]:x2}{bytes[3]:x2}; expected 0000TTDD with TT the element type and DD the number of dimensions)");
        if (bytes[2] != 0x08)
            throw new DatasetException($"{source}: IDX element type 0x{bytes[2]:x2} is not supported; accepted: 0x08 (unsigned byte)");
        int dims = bytes[3];
        if (dims < 1 || dims > 4) throw new DatasetException($"{source}: IDX header has {dims} dimensions; accepted: 1 to 4");
        int header = 4 + 4 * dims;
        if (bytes.Length < header) throw new DatasetException($"{source}: truncated IDX header ({bytes.Length} bytes, {header} needed for {dims} dimensions)");
        var extents = new int[dims];
        long count = 1;
        for (int d = 0; d < dims; d++)
        {
            uint e = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (e == 0 || e > int.MaxValue) throw new DatasetException($"{source}: IDX dimension {d} has extent {e}; must be 1 to {int.MaxValue}");
            extents[d] = (int)e;
            count *= e;
        }
        if (bytes.Length - header != count)
            throw new DatasetException($"{source}: IDX header promises {count} elements ({string.Join("x", extents)}) but the file holds {bytes.Length - header}");
        return new IdxArray(extents, bytes.AsSpan(header).ToArray());
    }

    /// <summary>
    /// Reads an image file (N × H × W, or N × C × H × W) and a label file (N) into an
    /// <see cref="ImageSet"/>; the class count is one more than the largest label unless given.
    /// </summary>
    public static ImageSet ReadPair(string imagesPath, string labelsPath, int? numClasses = null)
    {
        var images = Read(imagesPath);
        var labels = Read(labelsPath);
        if (images.Dimensions.Length is not (3 or 4))
            throw new DatasetException($"{imagesPath}: an image file must have 3 (N×H×W) or 4 (N×C×H×W) dimensions; this one has {images.Dimensions.Length} ({string.Join("x", images.Dimensions)})");
        if (labels.Dimensions.Length != 1)
            throw new DatasetException($"{labelsPath}: a label file must have 1 dimension (N); this one has {labels.Dimensions.Length} ({string.Join("x", labels.Dimensions)})");
        if (images.Dimensions[0] != labels.Dimensions[0])
            throw new DatasetException($"{imagesPath} holds {images.Dimensions[0]} images but {labelsPath} holds {labels.Dimensions[0]} labels");
        int c = images.Dimensions.Length == 4 ? images.Dimensions[1] : 1;
        int h = images.Dimensions[^2], w = images.Dimensions[^1];
        var lab = new int[labels.Data.Length];
        int max = 0;
        for (int i = 0; i < lab.Length; i++) { lab[i] = labels.Data[i]; max = Math.Max(max, lab[i]); }
        return new ImageSet { Pixels = images.Data, Labels = lab, Channels = c, Height = h, Width = w, NumClasses = numClasses ?? max + 1 }
            .Validated(labelsPath);
    }

    /// <summary>
    /// Finds the four files of an MNIST-style folder: <c>train-images-idx3-ubyte</c>,
    /// <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>,
    /// each optionally ending in <c>.gz</c> (also accepted: '.' instead of '-' before "idx", as some mirrors name them).
    /// </summary>
    public static ImageSplits ReadFolder(string folder, string name, int numClasses = 10)
    {
        if (!Directory.Exists(folder)) throw new DatasetException($"{folder}: data folder not found (expected the four IDX files of {name})");
        string Find(string stem)
        {
            foreach (var candidate in new[] { stem, stem + ".gz", stem.Replace("-idx", ".idx"), stem.Replace("-idx", ".idx") + ".gz" })
            {
                string p = Path.Combine(folder, candidate);
                if (File.Exists(p)) return p;
            }
            throw new DatasetException($"{folder}: no file '{stem}' (or '{stem}.gz'); an IDX data folder needs train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, gzip or not");
        }
        var train = ReadPair(Find("train-images-idx3-ubyte"), Find("train-labels-idx1-ubyte"), numClasses);
        var test = ReadPair(Find("t10k-images-idx3-ubyte"), Find("t10k-labels-idx1-ubyte"), numClasses);
        if (train.Channels != test.Channels || train.Height != test.Height || train.Width != test.Width)
            throw new DatasetException($"{folder}: training images are {train.Channels}x{train.Height}x{train.Width} but test images are {test.Channels}x{test.Height}x{test.Width}");
        return new ImageSplits(name, train, test);
    }

    private static byte[] Gunzip(byte[] bytes, string source)
    {
        try
        {
            using var input = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            using var output = new MemoryStream();
            input.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e) { throw new DatasetException($"{source}: corrupt gzip data ({e.Message})", e); }
    }
}
