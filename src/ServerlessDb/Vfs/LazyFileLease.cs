using Microsoft.Data.Sqlite;

namespace ServerlessDb.Vfs;

/// <summary>
/// One pinned version made openable by SQLite, read-only, under a name of its own until disposed: any number of
/// connections may read it at once, each through its own <see cref="LazyOpenFile"/>.
/// </summary>
internal sealed class LazyFileLease : LazyLease
{
    internal LazyFileLease(string fileName, IPinnedVersion version, BlockCache cache, LazyReadOptions options, CancellationToken deadline)
        : base(fileName, version, cache, options, deadline)
    {
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

    /// <summary>Opens the pinned version, read-only, through the lazy VFS.</summary>
    public override string ConnectionString { get; }

    /// <summary>The URI SQLite opens the pinned version by, read-only, through the lazy VFS.</summary>
    public override string DataSource { get; }

    internal override LazySqliteFile OpenFile() => NewVersionReader();
}
