namespace ServerlessDb.Storage;

/// <summary>
/// A staging area beside the databases where a client uploads a file too large for an API request
/// (S3: a presigned PUT to a staging key), for a later load to take from. Apart from
/// <see cref="IDatabaseStore"/> because only a store reachable by clients has one (not the local folder).
/// Staged objects are scoped to one database and are deleted after their load; the bucket's lifecycle
/// expires those never loaded.
/// </summary>
internal interface IDatabaseStaging
{
    /// <summary>A new staging slot for <paramref name="database"/>: its id and a PUT link valid for <paramref name="expiry"/>. Moves no bytes.</summary>
    Task<StagedUpload> CreateUploadAsync(string database, TimeSpan expiry, CancellationToken cancellationToken);

    /// <summary>
    /// Streams the object staged as <paramref name="id"/> for <paramref name="database"/> to <paramref name="targetPath"/>
    /// (retried like every store call). Returns null, writing nothing, when nothing is staged under that id.
    /// </summary>
    /// <returns>what was downloaded, for <see cref="DeleteAsync"/> to delete exactly that object.</returns>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its deadline.</exception>
    Task<StagedObject?> DownloadAsync(string database, string id, string targetPath, CancellationToken cancellationToken);

    /// <summary>Deletes the staged object (that version of it, where the store keeps versions).</summary>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its deadline.</exception>
    Task DeleteAsync(string database, StagedObject staged, CancellationToken cancellationToken);
}

/// <summary>A staging slot: the id a load names it by, the link the client PUTs the file to, and when that link expires.</summary>
internal sealed record StagedUpload(string Id, Uri UploadUrl, DateTimeOffset ExpiresAt);

/// <summary>One staged object as downloaded: its id, its length, and its version id in the store (null without versioning).</summary>
internal sealed record StagedObject(string Id, long Length, string? VersionId);
