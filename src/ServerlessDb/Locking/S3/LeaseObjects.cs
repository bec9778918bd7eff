using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using ServerlessDb.Storage.S3;

namespace ServerlessDb.Locking.S3;

/// <summary>
/// The lease objects of one bucket, and the S3 calls on them that the lock and the reaper make: every
/// write and delete is conditional. One attempt each; the callers retry. Failures are S3's own
/// exceptions, read by the predicates below and <see cref="S3Errors"/>.
/// </summary>
internal sealed class LeaseObjects(IAmazonS3 s3, string bucket)
{
    // A lease is a few hundred bytes; anything much larger was not written by a writer.
    private const int MaxLeaseBytes = 4096;

    public string Bucket { get; } = bucket;

    /// <summary>Creates the lease at <paramref name="key"/> only if no object is there (<c>If-None-Match: *</c>); returns its ETag.</summary>
    public Task<string> CreateAsync(string key, Lease lease, CancellationToken cancellationToken) =>
        PutAsync(key, lease, request => request.IfNoneMatch = "*", cancellationToken);

    /// <summary>Overwrites the lease at <paramref name="key"/> only if it is still the version <paramref name="etag"/> (<c>If-Match</c>); returns the new ETag.</summary>
    public Task<string> ReplaceAsync(string key, Lease lease, string etag, CancellationToken cancellationToken) =>
        PutAsync(key, lease, request => request.IfMatch = etag, cancellationToken);

    /// <summary>The lease at <paramref name="key"/> and its ETag, or null when there is none.</summary>
    public async Task<StoredLease?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        GetObjectResponse response;
        try
        {
            response = await s3.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = key }, cancellationToken);
        }
        catch (AmazonS3Exception e) when (S3Errors.IsNoSuchKey(e))
        {
            return null;
        }

        using (response)
        {
            await using var body = response.ResponseStream;
            var buffer = new byte[MaxLeaseBytes + 1];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
            }

            var lease = length <= MaxLeaseBytes ? Lease.TryParse(buffer.AsSpan(0, length)) : null;
            var lastModified = new DateTimeOffset(DateTime.SpecifyKind(response.LastModified ?? default, DateTimeKind.Utc));
            return new StoredLease(key, RequireETag(response.ETag, "GetObject", key), lease, lastModified);
        }
    }

    /// <summary>Deletes the lease at <paramref name="key"/> only if it is still the version <paramref name="etag"/> (<c>If-Match</c>).</summary>
    public Task DeleteAsync(string key, string etag, CancellationToken cancellationToken) =>
        s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = key, IfMatch = etag }, cancellationToken);

    /// <summary>One page of the keys under <paramref name="folder"/>.</summary>
    public Task<ListObjectsV2Response> ListAsync(string folder, string? continuation, CancellationToken cancellationToken) =>
        s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = folder, ContinuationToken = continuation }, cancellationToken);

    /// <summary>412: the key exists (for <c>If-None-Match: *</c>), or is no longer the ETag given (for <c>If-Match</c>).</summary>
    public static bool IsPreconditionFailed(Exception exception) =>
        exception is AmazonS3Exception { StatusCode: HttpStatusCode.PreconditionFailed };

    /// <summary>409 ConditionalRequestConflict: another conditional write on the key is under way; S3 asks for a retry.</summary>
    public static bool IsConflict(Exception exception) =>
        exception is AmazonS3Exception { StatusCode: HttpStatusCode.Conflict };

    /// <summary>404: no lease at the key (for a conditional write or delete, it was deleted).</summary>
    public static bool IsGone(Exception exception) => exception is AmazonS3Exception e && S3Errors.IsNoSuchKey(e);

    public string Describe(string key) => $"s3://{Bucket}/{key}";

    private async Task<string> PutAsync(string key, Lease lease, Action<PutObjectRequest> condition, CancellationToken cancellationToken)
    {
        // A fresh stream per attempt: the SDK reads it to its end.
        using var body = new MemoryStream(lease.ToJson(), writable: false);
        var request = new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = body, ContentType = "application/json" };
        condition(request);
        var response = await s3.PutObjectAsync(request, cancellationToken);
        return RequireETag(response.ETag, "PutObject", key);
    }

    private string RequireETag(string? etag, string operation, string key) =>
        string.IsNullOrEmpty(etag) ? throw new AmazonS3Exception($"S3 answered {operation} on {Describe(key)} without an ETag.") : etag;
}

/// <summary>A lease object as read: its key, its ETag, what it says (null when unreadable), and when S3 stored it.</summary>
internal sealed record StoredLease(string Key, string ETag, Lease? Lease, DateTimeOffset LastModified)
{
    /// <summary>
    /// When the lease ends: as it says, or for an unreadable one (written by hand, truncated) by S3's
    /// clock, <paramref name="staleAfter"/> after it was stored, so a garbled lease cannot lock its database forever.
    /// </summary>
    public DateTimeOffset ExpiresAt(TimeSpan staleAfter) => Lease?.ExpiresAt ?? LastModified + staleAfter;
}
