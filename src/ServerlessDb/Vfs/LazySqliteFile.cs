namespace ServerlessDb.Vfs;

/// <summary>
/// A main database file SQLite opened on a lease, as the VFS's callbacks see it: its length, and reads that keep
/// SQLite's contract whatever serves the bytes. Every failure becomes an SQLite result code here and is kept on the lease.
/// </summary>
/// <remarks>Not thread-safe: SQLite calls a file from one thread at a time.</remarks>
internal abstract class LazySqliteFile(LazyLease lease)
{
    /// <summary>The lease this file was opened on; its failures are kept there.</summary>
    protected LazyLease Lease { get; } = lease;

    /// <summary>The file's size as SQLite sees it, and where reads stop.</summary>
    public abstract long Length { get; }

    /// <summary>
    /// Fills <paramref name="into"/> with the file's bytes from <paramref name="offset"/>: <c>SQLITE_OK</c>; past the
    /// end, the rest zero-filled and <c>SQLITE_IOERR_SHORT_READ</c> (SQLite's contract); on any failure
    /// <c>SQLITE_IOERR_READ</c>, the failure kept on the lease, and nothing of the page served.
    /// </summary>
    public int Read(Span<byte> into, long offset)
    {
        try
        {
            var available = (int)Math.Clamp(Length - offset, 0, into.Length);
            ReadWithin(into[..available], offset);
            if (available < into.Length)
            {
                into[available..].Clear();
                return SqliteCodes.IoErrorShortRead;
            }

            return SqliteCodes.Ok;
        }
        catch (Exception e)
        {
            into.Clear();
            Lease.Fail(e);
            return SqliteCodes.IoErrorRead;
        }
    }

    /// <summary>SQLite closed the file (xClose): what the file holds for the lease is let go.</summary>
    public virtual void Close()
    {
    }

    /// <summary>Fills <paramref name="into"/>, which lies within <see cref="Length"/>, or throws.</summary>
    protected abstract void ReadWithin(Span<byte> into, long offset);
}
