using System.Buffers.Binary;

namespace ServerlessDb.Engine;

/// <summary>Reads the SQLite file header (https://www.sqlite.org/fileformat.html#the_database_header).</summary>
internal static class DatabaseFileHeader
{
    private const int HeaderSize = 100;
    private const int ChangeCounterOffset = 24;

    /// <summary>
    /// The file change counter, which SQLite bumps on every transaction that modified the file in
    /// rollback-journal mode; 0 for an empty file. Equal before and after means nothing changed.
    /// </summary>
    public static uint ReadChangeCounter(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (file.Length < HeaderSize)
        {
            return 0;
        }

        Span<byte> counter = stackalloc byte[4];
        file.Position = ChangeCounterOffset;
        file.ReadExactly(counter);
        return BinaryPrimitives.ReadUInt32BigEndian(counter);
    }
}
