using System.Buffers.Text;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Storage.S3;

/// <summary>
/// Time travel over the bucket's versioning: ListObjectVersions on the database's exact key (the prefix is
/// the key, and versions of other keys sharing it are dropped: they sort after it), GetObject by VersionId.
/// Delete markers are not versions: a listing skips them, and a time at which the newest entry was one
/// finds no version. Times are S3's LastModified (whole seconds). Every call runs under <see cref="RunAsync"/>'s
/// retries and deadline.
/// </summary>
internal sealed partial class S3DatabaseStore : IDatabaseHistory
{
    // ListObjectVersions's own page limit, used while looking for the version current at a time.
    private const int SearchPageSize = 1000;

    public async Task<VersionPage> ListVersionsAsync(string database, int limit, string? next, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var key = KeyFor(database);
        var page = await ListPageAsync(key, limit, next is null ? null : DecodeToken(next), cancellationToken);
        var versions = page.Entries
            .Where(v => v.IsDeleteMarker != true)
            .Select(v => new DatabaseVersion(v.VersionId, LastModified(v), v.Size ?? 0, v.IsLatest == true))
            .ToList();
        return new VersionPage(versions, page.NextVersionIdMarker is { } marker ? EncodeToken(marker) : null);
    }

    public async Task<DatabaseVersion?> FindAsOfAsync(string database, DateTimeOffset asOf, CancellationToken cancellationToken)
    {
        var key = KeyFor(database);
        string? marker = null;
        do
        {
            var page = await ListPageAsync(key, SearchPageSize, marker, cancellationToken);

            // Newest first: the first entry at or before the time is what was current then.
            if (page.Entries.FirstOrDefault(v => LastModified(v) <= asOf) is { } found)
            {
                return found.IsDeleteMarker == true ? null : new DatabaseVersion(found.VersionId, LastModified(found), found.Size ?? 0, found.IsLatest == true);
            }

            marker = page.NextVersionIdMarker;
        }
        while (marker is not null);

        return null;
    }

    public async Task<DatabaseSnapshot> GetVersionAsync(string database, string versionId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(versionId);
        var key = KeyFor(database);
        var source = $"s3://{_options.Bucket}/{key}";
        return await _caches.GetVersionAsync(database, versionId, cache => RunAsync("GetObject", key, async token =>
        {
            GetObjectResponse response;
            try
            {
                response = await GetWholeObjectAsync(new GetObjectRequest { BucketName = _options.Bucket, Key = key, VersionId = versionId }, token);
            }
            catch (AmazonS3Exception e) when (S3Errors.IsNoSuchVersion(e))
            {
                throw NoSuchVersion(e);
            }

            using (response)
            {
                return (await ReceiveAsync(cache, response, source, token)).Fetched;
            }
        }, cancellationToken),
        () => RunAsync("HeadObject", key, async token =>
        {
            try
            {
                await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _options.Bucket, Key = key, VersionId = versionId }, token);
                return true;
            }
            catch (AmazonS3Exception e) when (S3Errors.IsNoSuchVersion(e))
            {
                throw NoSuchVersion(e);
            }
        }, cancellationToken));

        VersionNotFoundException NoSuchVersion(AmazonS3Exception e) => new(
            $"Database '{database}' has no version '{versionId}' ({source}: {S3Errors.Describe(e)}); GET /db/versions?db={database} lists the versions kept.", e);
    }

    public string? IdOf(string database, StoredVersion version) =>
        _versionIds.TryGetValue(database, out var known) && known.ETag == version.ETag ? known.VersionId : null;

    /// <summary>One ListObjectVersions page of <paramref name="key"/>'s entries (delete markers included), and the marker of the next, if it still holds this key.</summary>
    private async Task<(IReadOnlyList<S3ObjectVersion> Entries, string? NextVersionIdMarker)> ListPageAsync(
        string key, int limit, string? versionIdMarker, CancellationToken cancellationToken)
    {
        var response = await RunAsync("ListObjectVersions", key, async token =>
        {
            try
            {
                return await _s3.ListVersionsAsync(
                    new ListVersionsRequest
                    {
                        BucketName = _options.Bucket,
                        Prefix = key,
                        KeyMarker = versionIdMarker is null ? null : key,
                        VersionIdMarker = versionIdMarker,
                        MaxKeys = limit,
                    },
                    token);
            }
            catch (AmazonS3Exception e) when (versionIdMarker is not null && e.StatusCode == System.Net.HttpStatusCode.BadRequest && e.ErrorCode == "InvalidArgument")
            {
                // The token named a version id S3 does not know: the client's to fix, not S3's to retry.
                throw new ArgumentException($"S3 refused the version id marker of the page token: {S3Errors.Describe(e)}", nameof(versionIdMarker), e);
            }
        }, cancellationToken);

        // Keys sort after the one they extend, so the first entry of another key ends this key's versions.
        var entries = (response.Versions ?? []).TakeWhile(v => v.Key == key).ToList();
        var more = response.IsTruncated == true
            && entries.Count == (response.Versions?.Count ?? 0)
            && response.NextKeyMarker == key
            && NullIfEmpty(response.NextVersionIdMarker) is not null;
        return (entries, more ? response.NextVersionIdMarker : null);
    }

    private static DateTimeOffset LastModified(S3ObjectVersion version) => StoredMetadata.Utc(version.LastModified);

    // Opaque to clients (they pass it back as it was): the version id marker after a tag, base64url, so that
    // text that merely decodes is not taken for a token.
    private const string TokenTag = "s3v1:";

    private static string EncodeToken(string versionIdMarker) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(TokenTag + versionIdMarker));

    private static string DecodeToken(string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            if (text.StartsWith(TokenTag, StringComparison.Ordinal) && text[TokenTag.Length..] is var marker && PointInTime.IsVersionId(marker))
            {
                return marker;
            }
        }
        catch (FormatException)
        {
        }

        throw new ArgumentException($"'{token}' is not a page token of this store.", nameof(token));
    }
}
