using System.Buffers.Binary;
using System.IO.Compression;
using Tandem.Testing;
using Tandem.Torch.Data;

namespace Tandem.Torch.Tests.Data;

public sealed class IdxReaderTests
{
    internal static byte[] Idx(int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + 4 * d), (uint)dims[d]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    internal static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    /// <summary>Writes an MNIST-style folder of n training and m test images of size×size with labels i mod classes.</summary>
    internal static void WriteFolder(string dir, int n, int m, int size, bool gzip, int classes = 10)
    {
        foreach (var (prefix, count) in new[] { ("train", n), ("t10k", m) })
        {
            var pixels = new byte[count * size * size];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 7 % 256);
            var labels = Enumerable.Range(0, count).Select(i => (byte)(i % classes)).ToArray();
            var img = Idx([count, size, size], pixels);
            var lab = Idx([count], labels);
            File.WriteAllBytes(Path.Combine(dir, $"{prefix}-images-idx3-ubyte" + (gzip ? ".gz" : "")), gzip ? Gzip(img) : img);
            File.WriteAllBytes(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte" + (gzip ? ".gz" : "")), gzip ? Gzip(lab) : lab);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_a_folder_plain_or_gzip(bool gzip)
    {
        using var dir = new TempDirectory();
        WriteFolder(dir.Path, 30, 10, 6, gzip);
        var splits = IdxReader.ReadFolder(dir.Path, "test");
        Assert.Equal(30, splits.Train.Count);
        Assert.Equal(10, splits.Test.Count);
        Assert.Equal((1, 6, 6), (splits.Train.Channels, splits.Train.Height, splits.Train.Width));
        Assert.Equal(7, splits.Train.Pixels[1]);
        Assert.Equal(3, splits.Train.Labels[13]);
    }

    [Fact]
    public void Bad_magic_is_reported_with_the_file()
    {
        var bytes = Idx([2], [1, 2]);
        bytes[0] = 0x12;
        var e = Assert.Throws<DatasetException>(() => IdxReader.Parse(bytes, "x.idx"));
        Assert.Contains("x.idx", e.Message);
        Assert.Contains("magic", e.Message);
    }

    [Fact]
    public void Element_type_other_than_bytes_is_rejected()
    {
        var bytes = Idx([1], [0]);
        bytes[2] = 0x0D;
        var e = Assert.Throws<DatasetException>(() => IdxReader.Parse(bytes, "f.idx"));
        Assert.Contains("0x0d", e.Message);
        Assert.Contains("accepted", e.Message);
    }

    [Fact]
    public void Truncated_data_is_rejected()
    {
        var bytes = Idx([4, 2, 2], new byte[16]);
        var e = Assert.Throws<DatasetException>(() => IdxReader.Parse(bytes[..^3], "t.idx"));
        Assert.Contains("promises 16 elements", e.Message);
    }

    [Fact]
    public void Corrupt_gzip_is_rejected()
    {
        var gz = Gzip(Idx([4], [1, 2, 3, 4]));
        for (int i = 10; i < gz.Length - 8; i++) gz[i] ^= 0x5A;
        Assert.Throws<DatasetException>(() => IdxReader.Parse(gz, "c.gz"));
    }

    [Fact]
    public void Label_count_must_match_image_count()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("i"), Idx([3, 2, 2], new byte[12]));
        File.WriteAllBytes(dir.File("l"), Idx([2], [0, 1]));
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadPair(dir.File("i"), dir.File("l")));
        Assert.Contains("3 images", e.Message);
        Assert.Contains("2 labels", e.Message);
    }

    [Fact]
    public void Image_file_with_wrong_rank_is_rejected()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("i"), Idx([3, 4], new byte[12]));
        File.WriteAllBytes(dir.File("l"), Idx([3], [0, 1, 2]));
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadPair(dir.File("i"), dir.File("l")));
        Assert.Contains("3 (N×H×W) or 4", e.Message);
    }

    [Fact]
    public void Missing_file_names_what_a_folder_needs()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadFolder(dir.Path, "fashion-mnist"));
        Assert.Contains("train-images-idx3-ubyte", e.Message);
    }

    [Fact]
    public void Labels_beyond_the_class_count_are_rejected()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("i"), Idx([2, 2, 2], new byte[8]));
        File.WriteAllBytes(dir.File("l"), Idx([2], [0, 12]));
        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadPair(dir.File("i"), dir.File("l"), numClasses: 10));
        Assert.Contains("label 12", e.Message);
    }
}
