using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace ServerlessDb.Storage.S3;

/// <summary>
/// <see cref="IObjectBackend"/> over one bucket of <see cref="IAmazonS3"/>: one request per call (the clients make one
/// attempt per call), S3's errors read through <see cref="S3Errors"/> into <see cref="ObjectBackendException"/> here and
/// nowhere else.
/// </summary>
internal sealed class S3ObjectBackend : IObjectBackend
{
    private readonly IAmazonS3 _s3;

    public S3ObjectBackend(IAmazonS3 s3, string bucket)
    {
        ArgumentNullException.ThrowIfNull(s3);
        ArgumentException.ThrowIfNullOrWhiteSpace(bucket);
        _s3 = s3;
        Bucket = bucket;
    }

    public string Bucket { get; }

    public string Describe(string key) => $"s3://{Bucket}/{key}";

    public Task<string> PutAsync(string key, ReadOnlyMemory<byte> content, PutCondition condition, ObjectMetadata metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(metadata);
        return CallAsync("PutObject", key, conditional: condition.ETag is not null, async token =>
        {
            using var body = new MemoryStream(content.ToArray(), writable: false);
            var request = new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = body, ContentType = metadata.ContentType };
            if (condition.ETag is { } etag)
            {
                request.IfMatch = etag;
            }
            else
            {
                request.IfNoneMatch = "*";
            }

            foreach (var (name, value) in metadata.User)
            {
                request.Metadata[name] = value;
            }

            var response = await _s3.PutObjectAsync(request, token);
            return RequireETag(response.ETag, "PutObject", key);
        }, cancellationToken);
    }

    public Task<StoredObject?> GetAsync(string key, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        return CallAsync<StoredObject?>("GetObject", key, conditional: false, async token =>
        {
            GetObjectResponse response;
            try
            {
                response = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = key }, token);
            }
            catch (AmazonS3Exception e) when (S3Errors.IsNoSuchKey(e))
            {
                return null;
            }

            using (response)
            {
                // One byte more than asked tells a whole object from a longer one; the rest is never read.
                await using var body = response.ResponseStream;
                var buffer = new byte[maxBytes + 1];
                var length = 0;
                int read;
                while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), token)) > 0)
                {
                    length += read;
                }

                var lastModified = new DateTimeOffset(DateTime.SpecifyKind(response.LastModified ?? default, DateTimeKind.Utc));
                var user = response.Metadata.Keys.ToDictionary(
                    name => name.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase) ? name["x-amz-meta-".Length..] : name,
                    name => response.Metadata[name],
                    StringComparer.Ordinal);
                return new StoredObject(
                    key,
                    RequireETag(response.ETag, "GetObject", key),
                    buffer[..Math.Min(length, maxBytes)],
                    IsWhole: length <= maxBytes,
                    lastModified,
                    new ObjectMetadata(response.Headers.ContentType ?? "", user));
            }
        }, cancellationToken);
    }

    public Task DeleteAsync(string key, string? ifMatch, CancellationToken cancellationToken) =>
        CallAsync("DeleteObject", key, conditional: ifMatch is not null, async token =>
        {
            var request = new DeleteObjectRequest { BucketName = Bucket, Key = key };
            if (ifMatch is not null)
            {
                request.IfMatch = ifMatch;
            }

            await _s3.DeleteObjectAsync(request, token);
            return true;
        }, cancellationToken);

    public Task<ObjectListing> ListAsync(string prefix, string? continuation, CancellationToken cancellationToken) =>
        CallAsync("ListObjectsV2", prefix, conditional: false, async token =>
        {
            var page = await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix, ContinuationToken = continuation }, token);
            var next = page.IsTruncated == true && !string.IsNullOrEmpty(page.NextContinuationToken) ? page.NextContinuationToken : null;
            return new ObjectListing((page.S3Objects ?? []).Select(o => o.Key).ToList(), next);
        }, cancellationToken);

    /// <summary>
    /// What <paramref name="exception"/>, thrown by the SDK during <paramref name="operation"/>, means to the caller; null when
    /// it is not S3's failure: the caller's own cancellation, or a bug, which pass through as they are.
    /// </summary>
    internal ObjectBackendException? Classify(string operation, string key, bool conditional, Exception exception, CancellationToken callerToken)
    {
        var failure = exception switch
        {
            OperationCanceledException when callerToken.IsCancellationRequested => (ObjectBackendFailure?)null,
            _ when S3Errors.IsTransient(exception, callerToken) => ObjectBackendFailure.Unavailable,
            AmazonS3Exception { StatusCode: HttpStatusCode.PreconditionFailed } => ObjectBackendFailure.ConditionFailed,
            AmazonS3Exception { StatusCode: HttpStatusCode.Conflict } => ObjectBackendFailure.Conflict,

            // For If-Match, a missing key is a condition that did not hold: the object was deleted.
            AmazonS3Exception s3 when conditional && S3Errors.IsNoSuchKey(s3) => ObjectBackendFailure.ConditionFailed,
            AmazonServiceException => ObjectBackendFailure.Refused,
            _ => null,
        };
        return failure is { } known ? new ObjectBackendException(known, operation, Describe(key), S3Errors.Describe(exception), exception) : null;
    }

    private async Task<T> CallAsync<T>(string operation, string key, bool conditional, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(cancellationToken);
        }
        catch (Exception e) when (Classify(operation, key, conditional, e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    private string RequireETag(string? etag, string operation, string key) =>
        string.IsNullOrEmpty(etag) ? throw new AmazonS3Exception($"S3 answered {operation} on {Describe(key)} without an ETag.") : etag;
}
