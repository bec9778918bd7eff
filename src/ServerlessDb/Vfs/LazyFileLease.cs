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
        // Immutable: SQLite then takes no locks and looks for no journal.
        DataSource = DataSourceFor("&immutable=1");
        ConnectionString = ConnectionStringFor(DataSource, SqliteOpenMode.ReadOnly);
    }

    /// <summary>Opens the pinned version, read-only, through the lazy VFS.</summary>
    public override string ConnectionString { get; }

    /// <summary>The URI SQLite opens the pinned version by, read-only, through the lazy VFS.</summary>
    public override string DataSource { get; }

    internal override LazySqliteFile OpenFile() => NewVersionReader();
}
