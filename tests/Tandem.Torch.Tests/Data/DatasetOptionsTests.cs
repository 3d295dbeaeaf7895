using Tandem.Torch.Data;

namespace Tandem.Torch.Tests.Data;

public class DatasetOptionsTests
{
    [Fact]
    public void A_missing_default_folder_says_how_to_get_the_data()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"tandem-no-such-{Guid.NewGuid():N}");
        // MNIST has no Debian package, so its default folder is normally absent.
        var mnist = new DatasetOptions { Kind = "mnist" };
        if (Directory.Exists(mnist.ResolvedDirectory!)) Assert.Skip("MNIST is installed in its default folder on this machine");
        var e = Assert.Throws<DatasetException>(() => mnist.Decode());
        Assert.Contains("/usr/share/datasets/mnist does not exist", e.Message);
        Assert.Contains("--data DIR", e.Message);

        // An explicit folder is reported as given (the file-level message of the reader).
        var given = new DatasetOptions { Kind = "fashion-mnist", Directory = missing };
        Assert.Contains(missing, Assert.ThrowsAny<Exception>(() => given.Decode()).Message);
    }
}
