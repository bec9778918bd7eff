using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Storage;

/// <summary>
/// Links and staging, where the backend has links (<see cref="IObjectLinks"/>; the composition offers neither otherwise).
/// Links: a time-limited GET of exactly one version of a database, or of a copy of it. Staging, for loads too large for an
/// API request: <c>{Prefix}_staging/{NAME}/{id}.sqlite</c>, which no database key can collide with (database names have
/// no '/'). The client uploads with a linked PUT, which the signer's role authorizes; the load downloads the object and
/// deletes that version.
/// </summary>
internal sealed partial class DatabaseStore : IDatabaseLinks, IDatabaseStaging
{
    private IObjectLinks Links => _links ?? throw new InvalidOperationException($"{_objects.Name} has no links: this store offers no staging and no links.");

    /// <summary>
    /// A link to exactly <paramref name="version"/>: with its version id, remembered from the read or commit that brought
    /// it here, or else asked for with a head conditional on its ETag. Without versions there is no id, and the link names
    /// the key only.
    /// </summary>
    public async Task<Uri> LinkToAsync(string database, DatabaseETag version, TimeSpan expiry, CancellationToken cancellationToken)
    {
        var key = KeyFor(database);
        var etag = version.ETag ?? throw new ArgumentException("A missing database has no stored object to link to.", nameof(version));
        string? versionId;
        if (_versionIds.TryGetValue(database, out var known) && known.ETag == etag)
        {
            versionId = known.VersionId;
        }
        else
        {
            versionId = await RunAsync("HeadObject", key, async token =>
            {
                ObjectInfo? head;
                try
                {
                    head = await _objects.HeadAsync(key, new ObjectSelector(IfMatch: etag), token);
                }
                catch (ObjectBackendException e) when (e.Failure == ObjectBackendFailure.ConditionFailed)
                {
                    throw ChangedWhileBackedUp(e);
                }

                return head is null ? throw ChangedWhileBackedUp(null) : head.VersionId;
            }, cancellationToken);
        }

        return await Links.LinkToGetAsync(key, versionId, _time.GetUtcNow() + expiry);

        StorageUnavailableException ChangedWhileBackedUp(Exception? inner) => new(
            $"Database '{database}' changed while its backup was taken ({_objects.Describe(key)} is no longer version {version}); retry.", inner);
    }

    /// <summary>A link to the stored version <paramref name="versionId"/> (an old one, read by id). Moves no bytes.</summary>
    public Task<Uri> LinkToVersionAsync(string database, string versionId, TimeSpan expiry, CancellationToken cancellationToken) =>
        Links.LinkToGetAsync(KeyFor(database), versionId, _time.GetUtcNow() + expiry);

    /// <summary>
    /// Uploads the file to <c>{Prefix}_staging/{NAME}/backup-{id}.sqlite</c> (whose lifecycle rule expires it like an
    /// unloaded upload) and links to exactly that version.
    /// </summary>
    public async Task<Uri> LinkToCopyAsync(string database, string filePath, TimeSpan expiry, CancellationToken cancellationToken)
    {
        var links = Links;
        var key = _keys.BackupCopy(database, StagedUploadId.New());
        var body = await CommitBody.ForFileAsync(filePath, cancellationToken);
        var put = await RunAsync(
            "PutObject", key, token => _objects.PutAsync(key, new ObjectBody(body.Open, body.Length, body.Crc32), PutCondition.Always, new ObjectMetadata(SqliteContentType), token),
            cancellationToken);
        return await links.LinkToGetAsync(key, put.VersionId, _time.GetUtcNow() + expiry);
    }

    public async Task<StagedUpload> CreateUploadAsync(string database, TimeSpan expiry, CancellationToken cancellationToken)
    {
        var id = StagedUploadId.New();
        var expiresAt = _time.GetUtcNow() + expiry;
        return new StagedUpload(id, await Links.LinkToPutAsync(_keys.StagedUpload(database, id), expiresAt), expiresAt);
    }

    public async Task<StagedObject?> DownloadAsync(string database, string id, string targetPath, CancellationToken cancellationToken)
    {
        var key = _keys.StagedUpload(database, id);
        return await RunAsync("GetObject", key, async token =>
        {
            using var read = await _objects.GetAsync(key, new ObjectSelector(Range: ObjectRange.All), token);
            if (read.Info is not { } info)
            {
                return null;
            }

            await SaveAsync(read, targetPath, token);
            return new StagedObject(id, new FileInfo(targetPath).Length, info.VersionId);
        }, cancellationToken);
    }

    public Task DeleteAsync(string database, StagedObject staged, CancellationToken cancellationToken)
    {
        var key = _keys.StagedUpload(database, staged.Id);

        // With its version id the delete removes the bytes, not just hides them behind a delete marker.
        return RunAsync("DeleteObject", key, async token =>
        {
            await _objects.DeleteAsync(key, ifMatch: null, staged.VersionId, token);
            return true;
        }, cancellationToken);
    }
}
