namespace ServerlessDb.Storage;

/// <summary>
/// A store that can hand a client a direct, time-limited link to one stored version of a database
/// (S3: a presigned GET of that object version). Apart from <see cref="IDatabaseStore"/> because only a
/// store reachable by clients has it (not the local folder), and because it is the only thing the
/// backup route needs beyond a snapshot: the read and commit port stays as it is.
/// </summary>
internal interface IDatabaseLinks
{
    /// <summary>
    /// A GET link to exactly <paramref name="version"/> of <paramref name="database"/>, valid for
    /// <paramref name="expiry"/>. Moves no bytes.
    /// </summary>
    /// <exception cref="Errors.StorageUnavailableException">the version is no longer stored as the current object and its version id is unknown, or the store did not answer.</exception>
    Task<Uri> LinkToAsync(string database, DatabaseETag version, TimeSpan expiry, CancellationToken cancellationToken);

    /// <summary>
    /// A GET link to the stored version <paramref name="versionId"/> of <paramref name="database"/> (an old
    /// version, read by its id in <see cref="IDatabaseHistory"/>), valid for <paramref name="expiry"/>. Moves no bytes.
    /// </summary>
    Task<Uri> LinkToVersionAsync(string database, string versionId, TimeSpan expiry, CancellationToken cancellationToken);

    /// <summary>
    /// A GET link, valid for <paramref name="expiry"/>, to a copy of the local file <paramref name="filePath"/> (a version
    /// of <paramref name="database"/> put together from its chunks, which no stored object holds whole), uploaded for the
    /// link to a place the store expires on its own.
    /// </summary>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    Task<Uri> LinkToCopyAsync(string database, string filePath, TimeSpan expiry, CancellationToken cancellationToken);
}
