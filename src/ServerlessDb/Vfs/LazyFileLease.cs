using Microsoft.Data.Sqlite;

namespace ServerlessDb.Vfs;

/// <summary>
/// One pinned version made openable by SQLite under a name of its own, until disposed: the connection string that
/// opens it read-only through the lazy VFS, the deadline its reads wait for, and the first failure a read met, kept
/// for the caller because inside SQLite it could only become an <c>SQLITE_IOERR_*</c> code.
/// </summary>
internal sealed class LazyFileLease : IDisposable
{
    private readonly BlockCache _cache;
    private readonly LazyReadOptions _options;
    private Exception? _firstFailure;
    private long _pieceHits;
    private int _disposed;

    internal LazyFileLease(string fileName, IPinnedVersion version, BlockCache cache, LazyReadOptions options, CancellationToken deadline)
    {
        FileName = fileName;
        Version = version;
        Deadline = deadline;
        _cache = cache;
        _options = options;
        // A URI, so that SQLite picks the VFS by name and takes the file as immutable (no locks, no journal).
        DataSource = $"file:{fileName}?vfs={LazyVfs.Name}&immutable=1";
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DataSource,
            Mode = SqliteOpenMode.ReadOnly,

            // A pooled connection would outlive the lease and its deadline.
            Pooling = false,
        }.ToString();
    }

    /// <summary>The name SQLite opens; known to the VFS only while the lease is not disposed.</summary>
    public string FileName { get; }

    /// <summary>The URI SQLite opens the pinned version by, through the lazy VFS.</summary>
    public string DataSource { get; }

    /// <summary>Opens the pinned version, read-only, through the lazy VFS (Microsoft.Data.Sqlite).</summary>
    public string ConnectionString { get; }

    /// <summary>The version every read of this lease comes from.</summary>
    public IPinnedVersion Version { get; }

    /// <summary>Every wait of a read ends when it fires: a read then fails with the cancellation as its failure.</summary>
    public CancellationToken Deadline { get; }

    /// <summary>The first exception a read of this lease met (the source's own, a short fetch, the deadline), or null.</summary>
    public Exception? FirstFailure => Volatile.Read(ref _firstFailure);

    /// <summary>How many pieces the reads of this lease found in the block cache.</summary>
    public long PieceHits => Interlocked.Read(ref _pieceHits);

    internal void CountPieceHit() => Interlocked.Increment(ref _pieceHits);

    /// <summary>Throws <see cref="FirstFailure"/> as it was thrown, if there is one: after an SQLite I/O error, the cause.</summary>
    public void ThrowIfFailed()
    {
        if (FirstFailure is { } failure)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    /// <summary>A new open file on this lease, for the VFS's xOpen.</summary>
    internal LazyOpenFile OpenFile() => new(this, _cache, new FetchPolicy(_options.PieceBytes, _options.FetchBytesWithinCache));

    /// <summary>Keeps <paramref name="failure"/> if it is the first.</summary>
    internal void Fail(Exception failure) => Interlocked.CompareExchange(ref _firstFailure, failure, null);

    /// <summary>Makes the name unknown to the VFS; connections already open keep reading the same version.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            LazyVfs.Forget(FileName);
        }
    }
}
