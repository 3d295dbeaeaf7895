using System.Buffers.Binary;
using System.Text;

namespace Tandem.Storage.Sqlite;

/// <summary>What the first bytes of an existing file say it is, read without SQLite so that nothing is written.</summary>
internal enum SqliteFileKind
{
    /// <summary>0 bytes: a fresh file to initialise.</summary>
    Empty,
    /// <summary>A SQLite database that has never had a schema and no application id: safe to initialise.</summary>
    BlankDatabase,
    /// <summary>A SQLite database carrying Tandem's application id.</summary>
    Tandem,
    /// <summary>Anything else; <see cref="SqliteFileHeader.Finding"/> says what.</summary>
    Foreign,
}

/// <summary>
/// The 100-byte SQLite header of a file (https://www.sqlite.org/fileformat.html), classified. Reading
/// it opens the file for reading only and shares it with writers, so the file is never changed.
/// </summary>
internal sealed record SqliteFileHeader(SqliteFileKind Kind, string Finding)
{
    private static readonly byte[] Magic = "SQLite format 3\0"u8.ToArray();

    public static SqliteFileHeader Read(string path, int tandemApplicationId)
    {
        byte[] header = new byte[100];
        long length;
        int read = 0;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            length = stream.Length;
            while (read < header.Length)
            {
                int n = stream.Read(header, read, header.Length - read);
                if (n == 0) break;
                read += n;
            }
        }
        if (length == 0) return new(SqliteFileKind.Empty, "an empty file");
        if (read < Magic.Length || !header.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            return new(SqliteFileKind.Foreign, $"not a SQLite database but {DescribeContent(header.AsSpan(0, read), length)}");
        if (read < header.Length)
            return new(SqliteFileKind.Foreign, $"a truncated SQLite database ({length} bytes, shorter than its 100-byte header)");

        int pageSize = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(16));
        if (pageSize == 1) pageSize = 65536;
        uint changeCounter = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(24));
        uint pageCount = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(28));
        uint schemaCookie = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(40));
        int applicationId = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(68));
        uint validFor = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(92));

        if (pageSize < 512 || (pageSize & (pageSize - 1)) != 0)
            return new(SqliteFileKind.Foreign, $"a damaged SQLite database (its header gives the impossible page size {pageSize})");
        if (applicationId != tandemApplicationId)
        {
            if (applicationId == 0 && schemaCookie == 0 && pageCount <= 1)
                return new(SqliteFileKind.BlankDatabase, "an empty SQLite database");
            string owner = applicationId == 0 ? "without Tandem's marker" : $"marked as another program's (application_id 0x{applicationId:X8})";
            return new(SqliteFileKind.Foreign, $"a SQLite database of another program ({owner}; Tandem's is 0x{tandemApplicationId:X8})");
        }
        // Only a header written by a finished checkpoint can be trusted for the size; a live write-ahead
        // log may legitimately hold pages beyond the end of the main file.
        bool sizeValid = validFor == changeCounter && pageCount > 0 && !HasWriteAheadLog(path);
        if (length % pageSize != 0 || (sizeValid && length < (long)pageCount * pageSize))
            return new(SqliteFileKind.Foreign,
                $"a truncated Tandem study file ({length} bytes; its header says {(long)pageCount * pageSize} bytes in pages of {pageSize})");
        return new(SqliteFileKind.Tandem, "a Tandem study file");
    }

    private static bool HasWriteAheadLog(string path)
    {
        var wal = new FileInfo(path + "-wal");
        return wal.Exists && wal.Length > 0;
    }

    /// <summary>A short, safe description of a file's first bytes for a message.</summary>
    private static string DescribeContent(ReadOnlySpan<byte> head, long length)
    {
        string size = $"{length} byte{(length == 1 ? "" : "s")}";
        int printable = 0;
        foreach (byte b in head)
            if (b is (>= 0x20 and < 0x7F) or (byte)'\n' or (byte)'\r' or (byte)'\t' or >= 0x80) printable++;
        if (head.Length > 0 && printable == head.Length)
        {
            string text = Encoding.UTF8.GetString(head);
            string firstLine = text.Split('\n')[0].Trim();
            if (firstLine.Length > 40) firstLine = firstLine[..40] + "…";
            return $"a text file ({size}) starting with \"{firstLine}\"";
        }
        string hex = Convert.ToHexString(head[..Math.Min(8, head.Length)]);
        return $"binary data ({size}) starting with 0x{hex}";
    }
}
