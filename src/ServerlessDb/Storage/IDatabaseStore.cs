
namespace ServerlessDb.Storage;

/// <summary>
/// Where database files live (S3 in AWS, a folder locally). Files move between the store and
/// local disk as streams; no implementation holds a whole database in memory.
/// </summary>
public interface IDatabaseStore
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
    /// Uploads <paramref name="filePath"/> as the new version of <paramref name="database"/>, on
    /// condition that the stored version is still <paramref name="basedOn"/> (create-only when it
    /// is missing). On success the file becomes the locally cached copy of the new version (it is
    /// moved, so the caller must not use the path afterwards) and the new version is returned.
    /// </summary>
    /// <exception cref="Errors.WriteConflictException">someone else committed first; nothing was uploaded.</exception>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    Task<StoredVersion> CommitAsync(string database, StoredVersion basedOn, string filePath, CancellationToken cancellationToken);
}
