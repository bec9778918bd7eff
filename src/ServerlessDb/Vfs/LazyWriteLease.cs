using Microsoft.Data.Sqlite;

namespace ServerlessDb.Vfs;

/// <summary>
/// One pinned version made writable by one SQLite connection at a time, without copying it: the pages the
/// connection changes go to a <see cref="CopyOnWriteOverlay"/> in a local folder, the pages it reads come from the
/// block cache. Once the connection is closed, the lease tells the new file's length, the byte ranges that differ
/// from the base, and reads the new file's bytes: what the store needs to build and upload only the changed regions.
/// </summary>
/// <remarks>
/// The connection is meant to run <c>PRAGMA journal_mode=MEMORY</c> and <c>PRAGMA synchronous=OFF</c> first, as a
/// working copy does: durability comes from the upload, and the VFS opens no journal or WAL (a statement that
/// needs one fails with <c>SQLITE_CANTOPEN</c>). Locks are all granted, since no other connection can open the
/// lease while one has it open. A base whose header says WAL cannot be written this way: SQLite opens a WAL database
/// only with shared memory (xShmMap), which the VFS does not offer, so its first read fails with
/// <c>SQLITE_CANTOPEN</c> (a working copy turns such a header back to rollback mode; here the store must).
/// </remarks>
internal sealed class LazyWriteLease : LazyLease
{
    private readonly CopyOnWriteOverlay _overlay;
    private int _connectionOpen;

    internal LazyWriteLease(string fileName, IPinnedVersion version, BlockCache cache, LazyReadOptions options, string overlayDirectory, CancellationToken deadline)
        : base(fileName, version, cache, options, deadline)
    {
        Directory.CreateDirectory(overlayDirectory);
        _overlay = new CopyOnWriteOverlay(NewVersionReader(), Path.Combine(overlayDirectory, $"{Guid.NewGuid():N}.overlay"));

        // Not immutable, since the file changes: SQLite locks it (every lock granted) and checks for a hot journal (none exists).
        DataSource = DataSourceFor("");
        ConnectionString = ConnectionStringFor(DataSource, SqliteOpenMode.ReadWrite);
    }

    /// <summary>Opens the pinned version, read-write, through the lazy VFS: one connection at a time.</summary>
    public override string ConnectionString { get; }

    /// <summary>The URI SQLite opens the pinned version by, read-write, through the lazy VFS.</summary>
    public override string DataSource { get; }

    /// <summary>The file's length now (past the base's when it grew, short of it when it shrank).</summary>
    /// <exception cref="InvalidOperationException">a connection has the lease open.</exception>
    public long Length
    {
        get
        {
            ThrowIfConnectionOpen();
            return _overlay.Length;
        }
    }

    /// <summary>The bytes the overlay keeps on disk.</summary>
    public long OverlayBytes => _overlay.OverlayBytes;

    /// <summary>The overlay's file, deleted when the lease is disposed.</summary>
    public string OverlayPath => _overlay.Path;

    /// <summary>
    /// The byte ranges of the file (below <see cref="Length"/>) that may differ from the base, ascending and merged;
    /// every byte outside them is the base's. Pages written back unchanged, as a rollback does, may be among them.
    /// </summary>
    /// <exception cref="InvalidOperationException">a connection has the lease open.</exception>
    public IReadOnlyList<(long Offset, long Length)> ChangedRanges()
    {
        ThrowIfConnectionOpen();
        return _overlay.ChangedRanges();
    }

    /// <summary>
    /// Fills <paramref name="into"/> with the new file's bytes from <paramref name="offset"/>: the overlay's where it
    /// has them, else the base's through the block cache (waiting until the lease's deadline or
    /// <paramref name="cancellationToken"/>, whichever fires first). The base is read by the same synchronous path
    /// SQLite's reads take, so the read runs on the thread pool.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">the range does not lie within <see cref="Length"/>.</exception>
    /// <exception cref="InvalidOperationException">a connection has the lease open.</exception>
    public async ValueTask ReadAsync(long offset, Memory<byte> into, CancellationToken cancellationToken)
    {
        ThrowIfConnectionOpen();
        using var either = CancellationTokenSource.CreateLinkedTokenSource(Deadline, cancellationToken);
        await Task.Run(() => _overlay.Read(into.Span, offset, either.Token), either.Token).ConfigureAwait(false);
    }

    internal override LazySqliteFile OpenFile() =>
        Interlocked.CompareExchange(ref _connectionOpen, 1, 0) == 0
            ? new LazyWriteFile(this, _overlay)
            : throw new InvalidOperationException($"{FileName} is open on another connection; a write lease serves one at a time.");

    /// <summary>The connection that had the lease open closed its file.</summary>
    internal void Closed() => Volatile.Write(ref _connectionOpen, 0);

    private protected override void ReleaseResources() => _overlay.Dispose();

    private void ThrowIfConnectionOpen()
    {
        if (Volatile.Read(ref _connectionOpen) != 0)
        {
            throw new InvalidOperationException($"{FileName} is still open on a connection: close it before reading the new file.");
        }
    }
}
