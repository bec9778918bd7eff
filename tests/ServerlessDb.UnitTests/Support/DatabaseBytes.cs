using System.Buffers.Binary;
using System.Text;

namespace ServerlessDb.UnitTests.Support;

/// <summary>
/// Small SQLite files built byte by byte (https://www.sqlite.org/fileformat.html): a valid header
/// and an empty schema page, so SQLite opens them as empty databases, and a marker in the header's
/// user_version so that two files differ.
/// </summary>
public static class DatabaseBytes
{
    public const int PageSize = 512;

    /// <summary>A one-page database told apart by <paramref name="marker"/> (at most 4 bytes, packed into user_version).</summary>
    public static byte[] Marked(params byte[] marker) => Valid(marker: marker.Aggregate(0u, (packed, b) => (packed << 8) | b));

    /// <summary><paramref name="pages"/> pages of <see cref="PageSize"/> bytes, the header declaring that size; pages after the first are zeros.</summary>
    public static byte[] Valid(int pages = 1, uint marker = 0)
    {
        var file = new byte[pages * PageSize];
        Encoding.ASCII.GetBytes("SQLite format 3\0").CopyTo(file, 0);
        BinaryPrimitives.WriteUInt16BigEndian(file.AsSpan(16), PageSize);
        file[18] = 1; // write version: rollback journal
        file[19] = 1; // read version
        file[21] = 64;
        file[22] = 32;
        file[23] = 32;
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(24), 1); // change counter
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(28), (uint)pages);
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(44), 4); // schema format
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(56), 1); // UTF-8
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(60), marker); // user_version
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(92), 1); // version-valid-for = change counter
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(96), 3_046_000);

        // Page 1's b-tree header: an empty table leaf (the schema) whose cell area starts at the page end.
        file[100] = 0x0D;
        BinaryPrimitives.WriteUInt16BigEndian(file.AsSpan(105), PageSize);
        return file;
    }
}
