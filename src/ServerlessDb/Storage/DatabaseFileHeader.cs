using System.Buffers.Binary;
using System.Globalization;

namespace ServerlessDb.Storage;

/// <summary>Reads the SQLite file header (https://www.sqlite.org/fileformat.html#the_database_header).</summary>
internal static class DatabaseFileHeader
{
    /// <summary>The header's length: the first bytes of page 1.</summary>
    public const int HeaderSize = 100;
    private const int PageSizeOffset = 16;
    private const int FileFormatVersionsOffset = 18;
    private const int ReservedBytesOffset = 20;
    private const int ChangeCounterOffset = 24;
    private const int DatabaseSizeOffset = 28;
    private const int VersionValidForOffset = 92;
    private const int MinUsableBytes = 480;

    private static ReadOnlySpan<byte> Magic => "SQLite format 3\0"u8;

    /// <summary>True when <paramref name="bytes"/> start with SQLite's header string (how rqlite tells a database file from SQL text).</summary>
    public static bool StartsWithMagic(ReadOnlySpan<byte> bytes) => bytes.StartsWith(Magic);

    /// <summary>
    /// The file change counter, which SQLite bumps on every transaction that modified the file in
    /// rollback-journal mode; 0 for an empty file. Equal before and after means nothing changed.
    /// </summary>
    public static uint ReadChangeCounter(string path)
    {
        Span<byte> counter = stackalloc byte[4];
        return ReadField(path, ChangeCounterOffset, counter) ? BinaryPrimitives.ReadUInt32BigEndian(counter) : 0;
    }

    /// <summary>The page size the header gives (bytes 16-17, 1 meaning 65536); 0 for a file shorter than the header.</summary>
    public static int ReadPageSize(string path)
    {
        Span<byte> raw = stackalloc byte[2];
        return ReadField(path, PageSizeOffset, raw) ? PageSizeField(raw) : 0;
    }

    /// <summary>The change counter of the header <paramref name="header"/> (at least <see cref="HeaderSize"/> bytes).</summary>
    public static uint ChangeCounterOf(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt32BigEndian(header[ChangeCounterOffset..]);

    /// <summary>The page size of the header <paramref name="header"/> (at least <see cref="HeaderSize"/> bytes).</summary>
    public static int PageSizeOf(ReadOnlySpan<byte> header) => PageSizeField(header.Slice(PageSizeOffset, 2));

    // Bytes 16-17: the page size, 1 meaning 65536.
    private static int PageSizeField(ReadOnlySpan<byte> field) => BinaryPrimitives.ReadUInt16BigEndian(field) is var size && size == 1 ? 65536 : size;

    // Reads bytes of the header at offset into field; false, reading nothing, when the file is shorter than the header.
    private static bool ReadField(string path, int offset, Span<byte> field)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (file.Length < HeaderSize)
        {
            return false;
        }

        file.Position = offset;
        file.ReadExactly(field);
        return true;
    }

    /// <summary>True when the header says WAL mode (file format versions, bytes 18-19, are 2): its -wal may hold committed pages.</summary>
    public static bool IsWalMode(string path)
    {
        Span<byte> versions = stackalloc byte[2];
        return ReadField(path, FileFormatVersionsOffset, versions) && (versions[0] == 2 || versions[1] == 2);
    }

    /// <summary>
    /// Why the file at <paramref name="path"/> cannot be a whole SQLite database, or null when its
    /// header and its length agree with the file format. An empty file is a valid empty database.
    /// Checks the header string, the page size, the reserved bytes and payload fractions, that the
    /// length is whole pages, and that it is not shorter than the in-header database size when
    /// that size is valid (non-zero, and written by the same transaction as the change counter).
    /// Reads only the header, never the pages.
    /// </summary>
    public static string? FindProblem(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var length = file.Length;
        if (length == 0)
        {
            return null;
        }

        if (length < HeaderSize)
        {
            return Invariant($"it is {length} bytes long, shorter than the {HeaderSize}-byte SQLite header");
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        file.ReadExactly(header);
        return FindProblem(header, length);
    }

    private static string? FindProblem(ReadOnlySpan<byte> header, long length)
    {
        if (!header[..Magic.Length].SequenceEqual(Magic))
        {
            return "it does not start with the SQLite header string \"SQLite format 3\\0\"";
        }

        var rawPageSize = BinaryPrimitives.ReadUInt16BigEndian(header[PageSizeOffset..]);
        var pageSize = rawPageSize == 1 ? 65536 : rawPageSize;
        if (pageSize is < 512 or > 65536 || (pageSize & (pageSize - 1)) != 0)
        {
            return Invariant($"its page size field (header bytes 16-17) is {rawPageSize}, not a power of two from 512 to 32768 or 1 for 65536");
        }

        var reserved = header[ReservedBytesOffset];
        if (pageSize - reserved < MinUsableBytes)
        {
            return Invariant($"its {reserved} reserved bytes per page (header byte 20) leave fewer than {MinUsableBytes} usable bytes in a {pageSize}-byte page");
        }

        if (header[21] != 64 || header[22] != 32 || header[23] != 32)
        {
            return Invariant($"its payload fractions (header bytes 21-23) are {header[21]}, {header[22]}, {header[23]}, not 64, 32, 32");
        }

        if (length % pageSize != 0)
        {
            return Invariant($"its length, {length} bytes, is not a whole number of {pageSize}-byte pages");
        }

        var pages = BinaryPrimitives.ReadUInt32BigEndian(header[DatabaseSizeOffset..]);
        var sizeIsValid = pages != 0
            && BinaryPrimitives.ReadUInt32BigEndian(header[VersionValidForOffset..]) == BinaryPrimitives.ReadUInt32BigEndian(header[ChangeCounterOffset..]);
        if (sizeIsValid && length < (long)pages * pageSize)
        {
            return Invariant($"it is truncated: {length} bytes ({length / pageSize} pages) where its header says {pages} pages of {pageSize} bytes");
        }

        return null;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
