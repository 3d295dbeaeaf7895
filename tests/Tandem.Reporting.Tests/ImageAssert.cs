using System.Buffers.Binary;
using System.Xml;

namespace Tandem.Reporting.Tests;

/// <summary>Checks that image files are what they claim: a PNG with a valid header and plausible size, or well-formed SVG.</summary>
internal static class ImageAssert
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Asserts a PNG file and returns its (width, height) in pixels from the IHDR chunk.</summary>
    public static (int Width, int Height) Png(string path, int minBytes = 5_000)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length >= minBytes, $"{path} is only {bytes.Length} bytes");
        Assert.Equal(PngSignature, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        int width = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16));
        int height = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20));
        Assert.InRange(width, 100, 10_000);
        Assert.InRange(height, 100, 10_000);
        Assert.Equal("IEND", System.Text.Encoding.ASCII.GetString(bytes, bytes.Length - 8, 4));
        return (width, height);
    }

    /// <summary>Asserts a well-formed SVG file and returns its text.</summary>
    public static string Svg(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        string text = File.ReadAllText(path);
        var doc = new XmlDocument { XmlResolver = null };
        doc.LoadXml(text);
        Assert.Equal("svg", doc.DocumentElement!.LocalName);
        return text;
    }

    /// <summary>Copies a rendered file to $TANDEM_KEEP_PLOTS (when set) so a person can look at it.</summary>
    public static void KeepForViewing(string path, string name)
    {
        if (Environment.GetEnvironmentVariable("TANDEM_KEEP_PLOTS") is { Length: > 0 } keep)
        {
            Directory.CreateDirectory(keep);
            File.Copy(path, Path.Combine(keep, name), overwrite: true);
        }
    }
}
