namespace ServerlessDb.Storage;

/// <summary>
/// A local, immutable file holding one version of a database. The file does not change or
/// disappear while the snapshot is held; dispose it when done so the cache may evict the file.
/// A database that does not exist yet is an empty file with <see cref="StoredVersion.Missing"/>.
/// </summary>
public sealed class DatabaseSnapshot : IDisposable
{
    private readonly Action? _release;
    private int _disposed;

    public DatabaseSnapshot(string database, StoredVersion version, string filePath, Action? release)
    {
        Database = database;
        Version = version;
        FilePath = filePath;
        _release = release;
    }

    public string Database { get; }

    public StoredVersion Version { get; }

    public string FilePath { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _release?.Invoke();
        }
    }
}
