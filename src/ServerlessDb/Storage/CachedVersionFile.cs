namespace ServerlessDb.Storage;

/// <summary>One immutable local file holding one version of a database, its size, and how many snapshots hold it.</summary>
internal sealed class CachedVersionFile(StoredVersion version, string path, long bytes)
{
    public StoredVersion Version { get; } = version;

    public string Path { get; } = path;

    /// <summary>The file's size, counted against the cache's <see cref="CacheBudget"/>.</summary>
    public long Bytes { get; } = bytes;

    /// <summary>Snapshots that hold the file; guarded by the owning <see cref="CachedDatabase"/>'s lock.</summary>
    public int Holders { get; set; }
}
