using ServerlessDb.Vfs;

namespace ServerlessDb.Storage;

/// <summary>
/// One write in place (<see cref="IInPlaceWrites"/>): the version it pinned, opened read-write through the lazy VFS
/// with a copy-on-write overlay. Open <see cref="DataSource"/> with one connection, close it, then commit; dispose it
/// to delete the overlay.
/// </summary>
internal sealed class InPlaceWrite(PinnedVersion pinned, LazyWriteLease lease) : IDisposable
{
    /// <summary>The ETag of the version the write runs on: what its commit is conditional on.</summary>
    public DatabaseETag ETag => Pinned.ETag;

    /// <summary>The URI SQLite opens the write's file by, read-write, through the lazy VFS.</summary>
    public string DataSource => Lease.DataSource;

    /// <summary>The ranged GETs the write made of its version so far (running its SQL and committing), and their bytes.</summary>
    public FetchCounts Fetches => Pinned.Fetches;

    /// <summary>The pieces the write's reads found in the block cache.</summary>
    public long BlockCacheHits => Lease.PieceHits;

    /// <summary>The first failure a fetch or the overlay met while SQLite ran (inside SQLite it was an I/O error), or null.</summary>
    public Exception? FirstFailure => Lease.FirstFailure;

    internal PinnedVersion Pinned { get; } = pinned;

    internal LazyWriteLease Lease { get; } = lease;

    /// <summary>Throws <see cref="FirstFailure"/>, the cause of an I/O error SQLite saw, if there is one.</summary>
    public void ThrowIfFetchFailed() => Lease.ThrowIfFailed();

    /// <summary>The file's change counter now (SQLite bumps it on every transaction that changed the file); 0 while it is shorter than a header.</summary>
    public async Task<uint> ChangeCounterAsync(CancellationToken cancellationToken)
    {
        if (Lease.Length < DatabaseFileHeader.HeaderSize)
        {
            return 0;
        }

        var header = new byte[DatabaseFileHeader.HeaderSize];
        await Lease.ReadAsync(0, header, cancellationToken);
        return DatabaseFileHeader.ChangeCounterOf(header);
    }

    public void Dispose() => Lease.Dispose();
}
