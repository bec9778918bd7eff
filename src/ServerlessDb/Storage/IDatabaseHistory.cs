using ServerlessDb.Domain;

namespace ServerlessDb.Storage;

/// <summary>
/// The versions a store keeps of each database (S3: the bucket's object versions; the local folder: the
/// files its commits replaced, within its retention), for time travel. Apart from <see cref="IDatabaseStore"/>
/// because only the read side of time travel needs it: a restore commits through the store like any write.
/// </summary>
internal interface IDatabaseHistory
{
    /// <summary>
    /// One page of at most <paramref name="limit"/> versions of <paramref name="database"/>, newest first,
    /// from the start or from <paramref name="next"/> (a previous page's <see cref="HistoryPage.Next"/>).
    /// A database that never existed has no versions. A page may hold fewer than <paramref name="limit"/>
    /// versions and still have a next one.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="next"/> is not a token this store gave.</exception>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    Task<HistoryPage> ListVersionsAsync(string database, int limit, string? next, CancellationToken cancellationToken);

    /// <summary>The version that was current at <paramref name="asOf"/>: the newest committed at or before it; null when there was none (or it was deleted then, or has expired).</summary>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    Task<HistoryEntry?> FindAsOfAsync(string database, DateTimeOffset asOf, CancellationToken cancellationToken);

    /// <summary>
    /// Version <paramref name="versionId"/> of <paramref name="database"/> as a local immutable file, held like
    /// the current one (dispose it), with <see cref="DatabaseSnapshot.VersionId"/> set.
    /// </summary>
    /// <exception cref="Errors.VersionNotFoundException">the store keeps no such version of this database.</exception>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    /// <exception cref="Errors.DatabaseCorruptException">the stored version is not a whole SQLite file; nothing was cached.</exception>
    Task<DatabaseSnapshot> GetVersionAsync(string database, string versionId, CancellationToken cancellationToken);

    /// <summary>
    /// One read of version <paramref name="versionId"/> of <paramref name="database"/>, as reads of the current version
    /// are: in place through the lazy VFS (its fetches waiting until <paramref name="readDeadline"/>) when the version
    /// is at least LAZY_READ_MIN_BYTES and not cached here as a file; otherwise its file (<see cref="GetVersionAsync"/>).
    /// </summary>
    /// <exception cref="Errors.VersionNotFoundException">the store keeps no such version of this database.</exception>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    /// <exception cref="Errors.DatabaseCorruptException">the stored version is not a whole SQLite file or a valid manifest.</exception>
    Task<DatabaseRead> ReadVersionAsync(string database, string versionId, CancellationToken readDeadline, CancellationToken cancellationToken);

    /// <summary>The id in this history of <paramref name="version"/>, which this process read or committed last; null when it does not know it.</summary>
    string? IdOf(string database, DatabaseETag version);
}
