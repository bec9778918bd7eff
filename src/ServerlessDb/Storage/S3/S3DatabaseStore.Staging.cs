using Amazon.S3;
using Amazon.S3.Model;
using ServerlessDb.Domain;

namespace ServerlessDb.Storage.S3;

/// <summary>
/// The staging area for loads too large for an API request: <c>{Prefix}_staging/{NAME}/{id}.sqlite</c>. No
/// database key can collide with it (database names have no '/'). The client uploads with a presigned
/// PUT, which the signer's role authorizes; the load downloads the object and deletes that version.
/// </summary>
internal sealed partial class S3DatabaseStore : IDatabaseStaging
{
    public async Task<StagedUpload> CreateUploadAsync(string database, TimeSpan expiry, CancellationToken cancellationToken)
    {
        var id = StagedUploadId.New();
        var expiresAt = _time.GetUtcNow() + expiry;
        var request = new GetPreSignedUrlRequest
        {
            BucketName = _options.Bucket,
            Key = _keys.StagedUpload(database, id),
            Verb = HttpVerb.PUT,
            Expires = expiresAt.UtcDateTime,
            Protocol = LinkProtocol,
        };
        return new StagedUpload(id, new Uri(await _s3.GetPreSignedURLAsync(request)), expiresAt);
    }

    public async Task<StagedObject?> DownloadAsync(string database, string id, string targetPath, CancellationToken cancellationToken)
    {
        var key = _keys.StagedUpload(database, id);
        return await RunAsync("GetObject", key, async token =>
        {
            GetObjectResponse response;
            try
            {
                response = await GetWholeObjectAsync(new GetObjectRequest { BucketName = _options.Bucket, Key = key }, token);
            }
            catch (AmazonS3Exception e) when (S3Errors.IsNoSuchKey(e))
            {
                return null;
            }

            using (response)
            {
                await SaveAsync(response, targetPath, token);
                return new StagedObject(id, new FileInfo(targetPath).Length, NullIfEmpty(response.VersionId));
            }
        }, cancellationToken);
    }

    public Task DeleteAsync(string database, StagedObject staged, CancellationToken cancellationToken)
    {
        var key = _keys.StagedUpload(database, staged.Id);
        return RunAsync("DeleteObject", key, async token =>
        {
            // With its version id the delete removes the bytes, not just hides them behind a delete marker.
            await _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _options.Bucket, Key = key, VersionId = staged.VersionId }, token);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Uploads the file to <c>{Prefix}_staging/{NAME}/backup-{id}.sqlite</c> (whose lifecycle rule expires it like an
    /// unloaded upload) and presigns a GET of exactly that version.
    /// </summary>
    public async Task<Uri> LinkToCopyAsync(string database, string filePath, TimeSpan expiry, CancellationToken cancellationToken)
    {
        var key = _keys.BackupCopy(database, StagedUploadId.New());
        var body = await CommitBody.ForFileAsync(filePath, cancellationToken);
        var versionId = await RunAsync("PutObject", key, async token =>
        {
            await using var stream = body.Open();
            return NullIfEmpty((await _s3.PutObjectAsync(ChecksummedPut(key, stream, "application/vnd.sqlite3", body.Crc32), token)).VersionId);
        }, cancellationToken);
        return await PresignAsync(key, versionId, expiry);
    }
}
