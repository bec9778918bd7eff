using ServerlessDb.Vfs;

namespace ServerlessDb.Storage;

/// <summary>
/// One request's read of a database version, for SQLite to open read-only: a local immutable file (a held
/// <see cref="DatabaseSnapshot"/>), or the version pinned in the store and read lazily through the lazy VFS (a
/// <see cref="LazyFileLease"/>). Dispose it when the request's connections are closed.
/// </summary>
internal sealed class DatabaseRead : IDisposable
{
    private readonly PinnedVersion? _pinned;

    public DatabaseRead(DatabaseSnapshot snapshot)
    {
        Snapshot = snapshot;
        ETag = snapshot.ETag;
    }

    public DatabaseRead(DatabaseETag etag, LazyFileLease lease, PinnedVersion pinned)
    {
        Lease = lease;
        ETag = etag;
        _pinned = pinned;
    }

    /// <summary>The ETag of the stored object read.</summary>
    public DatabaseETag ETag { get; }

    /// <summary>The local file read, or null when the version is read lazily.</summary>
    public DatabaseSnapshot? Snapshot { get; }

    /// <summary>The lazy read's lease, or null when a local file is read.</summary>
    public LazyFileLease? Lease { get; }

    public bool IsLazy => Lease is not null;

    /// <summary>How a local file was got; a lazy read counts its own fetches (<see cref="RangeRequests"/>).</summary>
    public SnapshotFetch Fetch => Snapshot?.Fetch ?? SnapshotFetch.Revalidated;

    /// <summary>The ranged GETs the lazy read's blocks made so far.</summary>
    public int RangeRequests => _pinned?.Fetches.Requests ?? 0;

    /// <summary>The bytes those GETs brought.</summary>
    public long RangeBytes => _pinned?.Fetches.Bytes ?? 0;

    /// <summary>The pieces SQLite's reads found in the block cache.</summary>
    public long BlockCacheHits => Lease?.PieceHits ?? 0;

    /// <summary>
    /// After SQLite reported an I/O error on a lazy read: throws the failure a fetch met (the store's own
    /// exception, the deadline), which is the cause; does nothing when no fetch failed.
    /// </summary>
    public void ThrowIfFetchFailed() => Lease?.ThrowIfFailed();

    public void Dispose()
    {
        Snapshot?.Dispose();
        Lease?.Dispose();
    }
}
