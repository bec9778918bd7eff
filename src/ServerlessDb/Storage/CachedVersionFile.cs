namespace ServerlessDb.Storage;

/// <summary>One immutable local file holding one version of a database, and how many snapshots hold it.</summary>
internal sealed class CachedVersionFile(StoredVersion version, string path)
{
    public StoredVersion Version { get; } = version;

    public string Path { get; } = path;

    /// <summary>Snapshots that hold the file; guarded by the owning <see cref="CachedDatabase"/>'s lock.</summary>
    public int Holders { get; set; }
}
