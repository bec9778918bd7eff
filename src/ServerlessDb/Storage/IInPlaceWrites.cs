namespace ServerlessDb.Storage;

/// <summary>
/// Writes on a large chunked database without a whole local copy: the write pins the current version, runs its SQL
/// through the lazy VFS with its changed pages in a copy-on-write overlay, and commits only the chunks holding them
/// and a new manifest, through the store's one conditional commit.
/// </summary>
internal interface IInPlaceWrites
{
    /// <summary>
    /// The current version of <paramref name="database"/> pinned and opened for a write in place, its changed pages kept
    /// in <paramref name="overlayDirectory"/> and its fetches ending at <paramref name="deadline"/>; or null when the
    /// write should run on a whole local copy (the database is small, missing, cached here as a file, or stored whole).
    /// </summary>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    /// <exception cref="Errors.DatabaseCorruptException">the stored object is a manifest that does not parse.</exception>
    Task<InPlaceWrite?> BeginAsync(string database, string overlayDirectory, CancellationToken deadline, CancellationToken cancellationToken);

    /// <summary>Commits what <paramref name="write"/> changed as the version after the one it pinned.</summary>
    /// <exception cref="Errors.WriteConflictException">someone else committed first; the manifest was not stored.</exception>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    Task<CommitReceipt> CommitAsync(string database, InPlaceWrite write, CancellationToken cancellationToken);
}
