namespace ServerlessDb.Storage;

/// <summary>
/// Where database files live (S3 in AWS, a folder locally). Files move between the store and
/// local disk as streams; no implementation holds a whole database in memory.
/// </summary>
internal interface IDatabaseStore
{
    /// <summary>
    /// Returns the current version of <paramref name="database"/> as a local immutable file.
    /// When <paramref name="maxStaleness"/> is given and the local copy was validated within it,
    /// the store is not asked; otherwise the local copy is revalidated (no bytes move when it is
    /// current). A database that does not exist yet comes back empty, with a missing version.
    /// </summary>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    /// <exception cref="Errors.DatabaseCorruptException">the stored object is not a whole SQLite file; nothing was cached.</exception>
    Task<DatabaseSnapshot> GetAsync(string database, TimeSpan? maxStaleness, CancellationToken cancellationToken);

    /// <summary>
    /// One read of the current version of <paramref name="database"/>, as <see cref="GetAsync"/> gives it unless the
    /// store can read a large database in place (lazy reads), fetching only what SQLite reads of it until
    /// <paramref name="readDeadline"/>.
    /// </summary>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    /// <exception cref="Errors.DatabaseCorruptException">the stored object is not a whole SQLite file; nothing was cached.</exception>
    async Task<DatabaseRead> ReadAsync(string database, TimeSpan? maxStaleness, CancellationToken readDeadline, CancellationToken cancellationToken) =>
        new(await GetAsync(database, maxStaleness, cancellationToken));

    /// <summary>
    /// The version of <paramref name="database"/> stored now, asked of the store without moving its bytes: what
    /// a commit that does not depend on the current content (a load, a restore) is conditional on.
    /// </summary>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    Task<DatabaseETag> CurrentETagAsync(string database, CancellationToken cancellationToken);

    /// <summary>
    /// Uploads <paramref name="filePath"/> as the new version of <paramref name="database"/>, on
    /// condition that the stored version is still <paramref name="basedOn"/> (create-only when it
    /// is missing). On success the file becomes the locally cached copy of the new version (it is
    /// moved, so the caller must not use the path afterwards) and the new version is returned, with the
    /// bytes the commit stored (the whole file, or under the chunked layout the changed chunks and the manifest).
    /// </summary>
    /// <exception cref="Errors.WriteConflictException">someone else committed first; nothing was uploaded.</exception>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    Task<CommitReceipt> CommitAsync(string database, DatabaseETag basedOn, string filePath, CancellationToken cancellationToken);

    /// <summary>
    /// Writes a private, writable copy of <paramref name="snapshot"/>'s file to the new path <paramref name="targetPath"/>,
    /// for a write to run on. A plain file copy unless the store can do better: the chunked layout patches the file of
    /// a replaced version it kept, copying only the chunks that differ.
    /// </summary>
    Task CopyForWriteAsync(string database, DatabaseSnapshot snapshot, string targetPath, CancellationToken cancellationToken)
    {
        File.Copy(snapshot.FilePath, targetPath);
        return Task.CompletedTask;
    }
}

/// <summary>What a commit made: the ETag of the new version, and how many bytes it stored to make it.</summary>
internal readonly record struct CommitReceipt(DatabaseETag ETag, long BytesUploaded);

/// <summary>
/// The ETag of a database's stored object: which version a reader saw, or <see cref="Missing"/> when the database does
/// not exist yet. A commit is conditional on it. (A version's id in the history is another thing: <see cref="Domain.HistoryEntry.Id"/>.)
/// </summary>
internal readonly record struct DatabaseETag(string? ETag)
{
    public static DatabaseETag Missing => default;

    public bool Exists => ETag is not null;

    public override string ToString() => ETag ?? "(none)";
}

/// <summary>
/// A local, immutable file holding one version of a database. The file does not change or
/// disappear while the snapshot is held; dispose it when done so the cache may evict the file.
/// A database that does not exist yet is an empty file with <see cref="DatabaseETag.Missing"/>.
/// </summary>
internal sealed class DatabaseSnapshot : IDisposable
{
    private readonly Action? _release;
    private int _disposed;

    public DatabaseSnapshot(DatabaseETag etag, string filePath, Action? release)
    {
        ETag = etag;
        FilePath = filePath;
        _release = release;
    }

    /// <summary>The ETag of the stored object this file holds.</summary>
    public DatabaseETag ETag { get; }

    public string FilePath { get; }

    /// <summary>How this reader got the file: from the cache alone, revalidated, or downloaded (for the request's metrics).</summary>
    public SnapshotFetch Fetch { get; init; } = SnapshotFetch.Revalidated;

    /// <summary>
    /// The file is byte for byte the one object the store keeps for this version, so a link to that object
    /// serves the same bytes; false for a database that does not exist yet, and for a version put together from
    /// chunks (STORAGE_LAYOUT=chunked), whose stored object is its manifest.
    /// </summary>
    public bool IsStoredObject { get; init; }

    /// <summary>The store's history id of this version when it was read by id (time travel); null for the current version.</summary>
    public string? VersionId { get; init; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _release?.Invoke();
        }
    }
}

/// <summary>Where a snapshot came from: the cache without asking the store, a revalidation that moved no bytes, or a download.</summary>
internal enum SnapshotSource
{
    Cache,
    Revalidated,
    Downloaded,
}

/// <summary>
/// How one reader got its snapshot, and the bytes it downloaded: a reader that joined a download another
/// started counts as downloaded with no bytes, so the bytes are counted once.
/// </summary>
internal readonly record struct SnapshotFetch(SnapshotSource Source, long BytesDownloaded)
{
    public static SnapshotFetch Cache => new(SnapshotSource.Cache, 0);

    public static SnapshotFetch Revalidated => new(SnapshotSource.Revalidated, 0);
}
