using System.Runtime.ExceptionServices;

using Microsoft.Data.Sqlite;

namespace ServerlessDb.Vfs;

/// <summary>
/// What every lease of the lazy VFS has, read or write: the name SQLite opens a pinned version under (known to the
/// VFS until the lease is disposed), the deadline its reads wait for, and the first failure a read or write met,
/// kept for the caller because inside SQLite it could only become an <c>SQLITE_IOERR_*</c> code.
/// </summary>
internal abstract class LazyLease : IDisposable
{
    private readonly BlockCache _cache;
    private readonly LazyReadOptions _options;
    private Exception? _firstFailure;
    private long _pieceHits;
    private int _disposed;

    private protected LazyLease(string fileName, IPinnedVersion version, BlockCache cache, LazyReadOptions options, CancellationToken deadline)
    {
        FileName = fileName;
        Version = version;
        Deadline = deadline;
        _cache = cache;
        _options = options;
    }

    /// <summary>The name SQLite opens; known to the VFS only while the lease is not disposed.</summary>
    public string FileName { get; }

    /// <summary>The Microsoft.Data.Sqlite connection string that opens the lease through the lazy VFS.</summary>
    public abstract string ConnectionString { get; }

    /// <summary>The URI in <see cref="ConnectionString"/>: what SQLite opens, naming the lazy VFS.</summary>
    public abstract string DataSource { get; }

    /// <summary>How many pieces the reads of this lease found in the block cache.</summary>
    public long PieceHits => Interlocked.Read(ref _pieceHits);

    /// <summary>The version every read of this lease comes from (for a write lease: every byte it did not write).</summary>
    public IPinnedVersion Version { get; }

    /// <summary>Every wait of a read ends when it fires: a read then fails with the cancellation as its failure.</summary>
    public CancellationToken Deadline { get; }

    /// <summary>The first exception a read or write of this lease met (the source's own, a short fetch, the deadline, the disk), or null.</summary>
    public Exception? FirstFailure => Volatile.Read(ref _firstFailure);

    /// <summary>Throws <see cref="FirstFailure"/> as it was thrown, if there is one: after an SQLite I/O error, the cause.</summary>
    public void ThrowIfFailed()
    {
        if (FirstFailure is { } failure)
        {
            ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    /// <summary>A new open file on this lease, for the VFS's xOpen; throws when the lease cannot be opened again.</summary>
    internal abstract LazySqliteFile OpenFile();

    internal void CountPieceHit() => Interlocked.Increment(ref _pieceHits);

    /// <summary>Keeps <paramref name="failure"/> if it is the first.</summary>
    internal void Fail(Exception failure) => Interlocked.CompareExchange(ref _firstFailure, failure, null);

    /// <summary>The <c>file:</c> URI of <see cref="FileName"/>, so that SQLite picks the VFS by name (and reads <paramref name="uriParameters"/>).</summary>
    private protected string DataSourceFor(string uriParameters) => $"file:{FileName}?vfs={LazyVfs.Name}{uriParameters}";

    /// <summary>A connection string that opens <paramref name="dataSource"/>, unpooled, since a pooled connection would outlive the lease and its deadline.</summary>
    private protected static string ConnectionStringFor(string dataSource, SqliteOpenMode mode) => new SqliteConnectionStringBuilder
    {
        DataSource = dataSource,
        Mode = mode,
        Pooling = false,
    }.ToString();

    /// <summary>A reader of the pinned version through the block cache, with a fetch policy of its own.</summary>
    private protected LazyOpenFile NewVersionReader() => new(this, _cache, new FetchPolicy(_options.PieceBytes, _options.FetchBytesWithinCache));

    /// <summary>Makes the name unknown to the VFS, then releases what the lease holds (<see cref="ReleaseResources"/>).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            LazyVfs.Forget(FileName);
            ReleaseResources();
        }
    }

    /// <summary>Runs once, at the first <see cref="Dispose"/>, after the name is forgotten.</summary>
    private protected virtual void ReleaseResources()
    {
    }
}
