using Tandem.Testing;
using Tandem.Torch.Data;

namespace Tandem.Torch.Tests.Data;

public sealed class CifarReaderTests
{
    private static byte[] Records(int n, bool cifar100)
    {
        int lb = cifar100 ? 2 : 1, rec = lb + CifarReader.ImageBytes;
        var bytes = new byte[n * rec];
        for (int i = 0; i < n; i++)
        {
            bytes[i * rec] = (byte)(i % 20);
            bytes[i * rec + lb - 1] = (byte)(cifar100 ? i % 100 : i % 10);
            bytes[i * rec + lb] = (byte)(100 + i); // first red pixel
            bytes[i * rec + lb + 1024] = 7; // first green pixel
        }
        return bytes;
    }

    [Fact]
    public void Decodes_cifar10_records_channels_first()
    {
        var set = CifarReader.Parse(Records(12, false), "b.bin", cifar100: false);
        Assert.Equal(12, set.Count);
        Assert.Equal(10, set.NumClasses);
        Assert.Equal(2, set.Labels[12 - 10]);
        Assert.Equal(103, set.Pixels[3 * CifarReader.ImageBytes]);
        Assert.Equal(7, set.Pixels[3 * CifarReader.ImageBytes + 1024]);
    }

    [Fact]
    public void Cifar100_uses_the_fine_label()
    {
        var set = CifarReader.Parse(Records(5, true), "train.bin", cifar100: true);
        Assert.Equal(100, set.NumClasses);
        Assert.Equal([0, 1, 2, 3, 4], set.Labels);
    }

    [Fact]
    public void Partial_record_is_rejected_naming_the_record_size()
    {
        var bytes = Records(3, false)[..^5];
        var e = Assert.Throws<DatasetException>(() => CifarReader.Parse(bytes, "data_batch_1.bin", cifar100: false));
        Assert.Contains("data_batch_1.bin", e.Message);
        Assert.Contains("3073", e.Message);
    }

    [Fact]
    public void Reads_a_cifar10_folder()
    {
        using var dir = new TempDirectory();
        for (int b = 1; b <= 5; b++) File.WriteAllBytes(dir.File($"data_batch_{b}.bin"), Records(4, false));
        File.WriteAllBytes(dir.File("test_batch.bin"), Records(3, false));
        var s = CifarReader.ReadFolder(dir.Path, cifar100: false);
        Assert.Equal(20, s.Train.Count);
        Assert.Equal(3, s.Test.Count);
    }

    [Fact]
    public void Missing_batch_names_the_expected_files()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<DatasetException>(() => CifarReader.ReadFolder(dir.Path, cifar100: true));
        Assert.Contains("train.bin", e.Message);
    }
}
