using ServerlessDb.Vfs;

namespace ServerlessDb.Storage;

/// <summary>
/// Writes on a large chunked database without a whole local copy: the write pins the current version, runs its SQL
/// through the lazy VFS with its changed pages in a copy-on-write overlay, and commits only the chunks holding them
/// and a new manifest, through the store's one conditional commit.
/// </summary>
internal interface IInPlaceWrites
{
    /// <summary>
    /// The current version of <paramref name="database"/> pinned for a write in place, or null when the write should
    /// run on a whole local copy (the database is small, missing, cached here as a file, or stored whole).
    /// </summary>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    Task<PinnedVersion?> PinForWriteAsync(string database, CancellationToken cancellationToken);

    /// <summary>The pinned version writable by one connection, its changed pages kept in <paramref name="overlayDirectory"/>; its fetches end at <paramref name="deadline"/>.</summary>
    LazyWriteLease OpenForWrite(PinnedVersion version, string overlayDirectory, CancellationToken deadline);

    /// <summary>Commits what the write changed in <paramref name="changes"/> as the version after <paramref name="basedOn"/>.</summary>
    /// <exception cref="Errors.WriteConflictException">someone else committed first; the manifest was not stored.</exception>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    Task<CommitReceipt> CommitChangesAsync(string database, PinnedVersion basedOn, LazyWriteLease changes, CancellationToken cancellationToken);
}
