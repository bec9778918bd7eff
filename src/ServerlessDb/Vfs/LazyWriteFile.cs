namespace ServerlessDb.Vfs;

/// <summary>
/// The main database file SQLite opened on a write lease: reads and writes go to the lease's copy-on-write overlay,
/// and every failure becomes an SQLite result code here, kept on the lease, as a read's does.
/// </summary>
internal sealed class LazyWriteFile(LazyWriteLease lease, CopyOnWriteOverlay overlay) : LazySqliteFile(lease)
{
    public override long Length => overlay.Length;

    /// <summary>Writes a page (or any bytes) at <paramref name="offset"/>: <c>SQLITE_OK</c>, or <c>SQLITE_IOERR_WRITE</c> with the failure kept.</summary>
    public int Write(ReadOnlySpan<byte> data, long offset)
    {
        try
        {
            overlay.Write(data, offset, Lease.Deadline);
            return SqliteCodes.Ok;
        }
        catch (Exception e)
        {
            return Failed(e, SqliteCodes.IoErrorWrite);
        }
    }

    /// <summary>Sets the file's length: <c>SQLITE_OK</c>, or <c>SQLITE_IOERR_TRUNCATE</c> with the failure kept.</summary>
    public int Truncate(long length)
    {
        try
        {
            overlay.Truncate(length);
            return SqliteCodes.Ok;
        }
        catch (Exception e)
        {
            return Failed(e, SqliteCodes.IoErrorTruncate);
        }
    }

    /// <summary>The lease may be opened again, and read by its owner.</summary>
    public override void Close() => lease.Closed();

    protected override void ReadWithin(Span<byte> into, long offset) => overlay.Read(into, offset, Lease.Deadline);

    private int Failed(Exception failure, int code)
    {
        Lease.Fail(failure);
        return code;
    }
}
