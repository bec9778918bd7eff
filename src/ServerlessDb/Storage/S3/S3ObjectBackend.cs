using System.Globalization;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace ServerlessDb.Storage.S3;

/// <summary>
/// <see cref="IObjectBackend"/> and <see cref="IObjectLinks"/> over one bucket of <see cref="IAmazonS3"/>: one request per
/// call (the clients make one attempt per call), S3's errors read through <see cref="S3Errors"/> into
/// <see cref="ObjectBackendException"/> here and nowhere else, and what S3 wants on the wire: a read of
/// <see cref="ObjectRange.All"/> is asked as the range <c>bytes=0-</c> (see <see cref="ObjectChecksum"/>), a body with a CRC32 is sent with it as the
/// object's checksum, which S3 verifies, and over TLS without a payload hash of its own.
/// </summary>
internal sealed class S3ObjectBackend : IObjectBackend, IObjectLinks
{
    private const string UserMetadataPrefix = "x-amz-meta-";

    private readonly IAmazonS3 _s3;

    /// <param name="overTls">S3 is reached over TLS (S3 itself, not a local S3 over plain HTTP): checksummed uploads then need no signed payload hash, and links are HTTPS.</param>
    public S3ObjectBackend(IAmazonS3 s3, string bucket, bool overTls = true)
    {
        ArgumentNullException.ThrowIfNull(s3);
        ArgumentException.ThrowIfNullOrWhiteSpace(bucket);
        _s3 = s3;
        OverTls = overTls;
        Bucket = bucket;
    }

    public string Bucket { get; }

    public bool OverTls { get; }

    public string Name => "S3";

    public string Describe(string key) => $"s3://{Bucket}/{key}";

    public Task<ObjectVersioning> VersioningAsync(CancellationToken cancellationToken) =>
        CallAsync("GetBucketVersioning", "", conditional: false, async token =>
        {
            var response = await _s3.GetBucketVersioningAsync(new GetBucketVersioningRequest { BucketName = Bucket }, token);
            var status = response.VersioningConfig?.Status;
            return new ObjectVersioning(status == VersionStatus.Enabled, status?.Value is { Length: > 0 } value ? value : "never enabled");
        }, cancellationToken);

    public Task<ObjectInfo?> HeadAsync(string key, ObjectSelector selector, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return CallAsync<ObjectInfo?>("HeadObject", key, conditional: selector.IfMatch is not null, async token =>
        {
            GetObjectMetadataResponse head;
            try
            {
                head = await _s3.GetObjectMetadataAsync(
                    new GetObjectMetadataRequest { BucketName = Bucket, Key = key, VersionId = selector.VersionId, EtagToMatch = selector.IfMatch }, token);
            }
            catch (AmazonS3Exception e) when (selector.VersionId is not null && S3Errors.IsNoSuchVersion(e))
            {
                throw new ObjectBackendException(ObjectBackendFailure.NoSuchVersion, "HeadObject", Describe(key), S3Errors.Describe(e), e);
            }
            catch (AmazonS3Exception e) when (selector.VersionId is not null && e.StatusCode == HttpStatusCode.BadRequest)
            {
                // A HEAD's error has no body, so no code to tell why S3 refused the version id (a GET's answer says).
                throw new ObjectBackendException(ObjectBackendFailure.InvalidArgument, "HeadObject", Describe(key), S3Errors.Describe(e), e);
            }
            catch (AmazonS3Exception e) when (selector.VersionId is null && selector.IfMatch is null && S3Errors.IsNoSuchKey(e))
            {
                // With If-Match, S3's 404 is a condition that did not hold (see Classify).
                return null;
            }

            return new ObjectInfo(
                key, RequireETag(head.ETag, "HeadObject", key), VersionIdOf(head.VersionId), head.ContentLength,
                Utc(head.LastModified), MetadataOf(head.Headers.ContentType, head.Metadata));
        }, cancellationToken);
    }

    public Task<ObjectRead> GetAsync(string key, ObjectSelector selector, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return CallAsync("GetObject", key, conditional: selector.IfMatch is not null, async token =>
        {
            var request = new GetObjectRequest
            {
                BucketName = Bucket,
                Key = key,
                VersionId = selector.VersionId,
                EtagToMatch = selector.IfMatch,
                EtagToNotMatch = selector.IfNoneMatch,
            };
            if (selector.Range is { } range)
            {
                request.ByteRange = RangeOf(range);
            }

            GetObjectResponse response;
            try
            {
                response = await GetAsync(request, whole: selector.Range == ObjectRange.All, token);
            }
            catch (AmazonS3Exception e) when (selector.IfNoneMatch is not null && S3Errors.IsNotModified(e))
            {
                return ObjectRead.NotModified;
            }
            catch (AmazonS3Exception e) when (selector.VersionId is not null && S3Errors.IsNoSuchVersion(e))
            {
                throw new ObjectBackendException(ObjectBackendFailure.NoSuchVersion, "GetObject", Describe(key), S3Errors.Describe(e), e);
            }
            catch (AmazonS3Exception e) when (selector.VersionId is null && selector.IfMatch is null && S3Errors.IsNoSuchKey(e))
            {
                // With If-Match, S3's 404 is a condition that did not hold (see Classify).
                return ObjectRead.Missing;
            }

            try
            {
                var info = new ObjectInfo(
                    key, RequireETag(response.ETag, "GetObject", key), VersionIdOf(response.VersionId), SizeOf(response),
                    Utc(response.LastModified), MetadataOf(response.Headers.ContentType, response.Metadata));
                return ObjectRead.Of(info, new ObjectBodyStream(response.ResponseStream, owner: response));
            }
            catch
            {
                response.Dispose();
                throw;
            }
        }, cancellationToken);
    }

    public Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition, ObjectMetadata metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(metadata);
        return CallAsync("PutObject", key, conditional: condition.ETag is not null, async token =>
        {
            // A fresh stream per call: a retry sends the body from its start.
            await using var stream = body.Open();
            var request = new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = stream, AutoCloseStream = false, ContentType = metadata.ContentType };
            if (body.Crc32 is { } crc32)
            {
                // The algorithm named with its value: the SDK sends the value as it is and computes nothing. Over TLS the
                // body needs no SHA-256 of its own in the signature (UNSIGNED-PAYLOAD, as S3 allows): TLS and the CRC32
                // already guard it. Over plain HTTP (a local S3) the SDK signs it.
                request.ChecksumAlgorithm = ChecksumAlgorithm.CRC32;
                request.ChecksumCRC32 = crc32;
                request.DisablePayloadSigning = OverTls;
            }

            if (condition.ETag is { } etag)
            {
                request.IfMatch = etag;
            }
            else if (condition.IsConditional)
            {
                request.IfNoneMatch = "*";
            }

            foreach (var (name, value) in metadata.User)
            {
                request.Metadata.Add(UserMetadataPrefix + name, value);
            }

            var response = await _s3.PutObjectAsync(request, token);
            return new PutResult(RequireETag(response.ETag, "PutObject", key), VersionIdOf(response.VersionId));
        }, cancellationToken);
    }

    public Task DeleteAsync(string key, string? ifMatch, string? versionId, CancellationToken cancellationToken) =>
        CallAsync("DeleteObject", key, conditional: ifMatch is not null, async token =>
        {
            var request = new DeleteObjectRequest { BucketName = Bucket, Key = key, VersionId = versionId };
            if (ifMatch is not null)
            {
                request.IfMatch = ifMatch;
            }

            await _s3.DeleteObjectAsync(request, token);
            return true;
        }, cancellationToken);

    public Task<IReadOnlyList<VersionDeleteFailure>> DeleteVersionsAsync(IReadOnlyList<ObjectVersionRef> versions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(versions);
        return CallAsync<IReadOnlyList<VersionDeleteFailure>>("DeleteObjects", versions.Count > 0 ? versions[0].Key : "", conditional: false, async token =>
        {
            var failures = new List<VersionDeleteFailure>();

            // DeleteObjects takes at most 1000 keys per request.
            foreach (var batch in versions.Chunk(1000))
            {
                var request = new DeleteObjectsRequest
                {
                    BucketName = Bucket,
                    Quiet = true,
                    Objects = [.. batch.Select(v => new KeyVersion { Key = v.Key, VersionId = v.VersionId })],
                };
                List<DeleteError> errors;
                try
                {
                    errors = (await _s3.DeleteObjectsAsync(request, token)).DeleteErrors ?? [];
                }
                catch (DeleteObjectsException e)
                {
                    errors = e.Response?.DeleteErrors ?? [];
                }

                failures.AddRange(errors.Select(e => new VersionDeleteFailure(new ObjectVersionRef(e.Key, e.VersionId), $"{e.Code}: {e.Message}")));
            }

            return failures;
        }, cancellationToken);
    }

    public Task<ObjectListing> ListAsync(ListRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync("ListObjectsV2", request.Prefix, conditional: false, async token =>
        {
            var page = await _s3.ListObjectsV2Async(
                new ListObjectsV2Request
                {
                    BucketName = Bucket,
                    Prefix = request.Prefix,
                    Delimiter = request.Delimiter,
                    StartAfter = request.StartAfter,
                    MaxKeys = request.MaxKeys,
                    ContinuationToken = request.Continuation,
                },
                token);
            var next = page.IsTruncated == true && !string.IsNullOrEmpty(page.NextContinuationToken) ? page.NextContinuationToken : null;
            return new ObjectListing(
                (page.S3Objects ?? []).Select(o => new ObjectSummary(o.Key, o.Size ?? 0, Utc(o.LastModified))).ToList(),
                page.CommonPrefixes ?? [],
                next);
        }, cancellationToken);
    }

    public Task<VersionListing> ListVersionsAsync(VersionListRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync("ListObjectVersions", request.Prefix, conditional: false, async token =>
        {
            var page = await _s3.ListVersionsAsync(
                new ListVersionsRequest
                {
                    BucketName = Bucket,
                    Prefix = request.Prefix,
                    Delimiter = request.Delimiter,
                    KeyMarker = request.KeyMarker,
                    VersionIdMarker = request.VersionIdMarker,
                    MaxKeys = request.MaxKeys,
                },
                token);
            return new VersionListing(
                (page.Versions ?? [])
                    .Select(v => new ObjectVersionSummary(
                        v.Key, v.VersionId, v.IsLatest == true, v.IsDeleteMarker == true, v.Size ?? 0,
                        v.LastModified is { } time ? Utc(time) : null))
                    .ToList(),
                page.CommonPrefixes ?? [],
                page.IsTruncated == true,
                NullIfEmpty(page.NextKeyMarker),
                NullIfEmpty(page.NextVersionIdMarker));
        }, cancellationToken);
    }

    public async Task<Uri> LinkToGetAsync(string key, string? versionId, DateTimeOffset expiresAt) =>
        await PresignAsync(key, HttpVerb.GET, versionId, expiresAt);

    public async Task<Uri> LinkToPutAsync(string key, DateTimeOffset expiresAt) =>
        await PresignAsync(key, HttpVerb.PUT, versionId: null, expiresAt);

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
            AmazonS3Exception { StatusCode: HttpStatusCode.BadRequest, ErrorCode: "InvalidArgument" } => ObjectBackendFailure.InvalidArgument,
            AmazonServiceException => ObjectBackendFailure.Refused,

            // The client failed before any answer (credentials, configuration): no attempt would do better.
            AmazonClientException => ObjectBackendFailure.Refused,
            _ => null,
        };
        var answered = exception is AmazonServiceException { StatusCode: not 0 };
        return failure is { } known ? new ObjectBackendException(known, operation, Describe(key), S3Errors.Describe(exception), exception, answered) : null;
    }

    /// <summary>
    /// A GET as asked; for <see cref="ObjectRange.All"/>, an empty object has no byte 0, so S3 answers 416: it is asked for
    /// again without the range.
    /// </summary>
    private async Task<GetObjectResponse> GetAsync(GetObjectRequest request, bool whole, CancellationToken token)
    {
        try
        {
            return await _s3.GetObjectAsync(request, token);
        }
        catch (AmazonS3Exception e) when (whole && e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            request.ByteRange = null;
            return await _s3.GetObjectAsync(request, token);
        }
    }

    private async Task<Uri> PresignAsync(string key, HttpVerb verb, string? versionId, DateTimeOffset expiresAt)
    {
        var request = new GetPreSignedUrlRequest
        {
            BucketName = Bucket,
            Key = key,
            Verb = verb,
            Expires = expiresAt.UtcDateTime,
            VersionId = versionId,

            // Links go out as the backend reaches S3: HTTPS, or plain HTTP to a local S3.
            Protocol = OverTls ? Amazon.S3.Protocol.HTTPS : Amazon.S3.Protocol.HTTP,
        };
        return new Uri(await _s3.GetPreSignedURLAsync(request));
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

    private static ByteRange RangeOf(ObjectRange range) => range.Length is { } length
        ? new ByteRange(range.Offset, range.Offset + length - 1)
        : new ByteRange(string.Create(CultureInfo.InvariantCulture, $"bytes={range.Offset}-"));

    /// <summary>The object's whole size: after the slash of Content-Range for a ranged answer, else the body's length.</summary>
    private static long SizeOf(GetObjectResponse response) =>
        response.ContentRange is { } contentRange
        && contentRange.LastIndexOf('/') is var slash and >= 0
        && long.TryParse(contentRange.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            ? size
            : response.ContentLength;

    private static ObjectMetadata MetadataOf(string? contentType, MetadataCollection metadata) => new(
        contentType ?? "",
        metadata.Keys.ToDictionary(
            name => (name.StartsWith(UserMetadataPrefix, StringComparison.OrdinalIgnoreCase) ? name[UserMetadataPrefix.Length..] : name).ToLowerInvariant(),
            name => metadata[name],
            StringComparer.Ordinal));

    // S3 says "null" for the version id of an object stored while versioning was off.
    private static string? VersionIdOf(string? versionId) => string.IsNullOrEmpty(versionId) || versionId == "null" ? null : versionId;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>A time S3 sent (in UTC), which the SDK gives as a local or unspecified DateTime; the minimum when there is none.</summary>
    private static DateTimeOffset Utc(DateTime? time) => time is { } value
        ? new DateTimeOffset(value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero)
        : DateTimeOffset.MinValue;

    private string RequireETag(string? etag, string operation, string key) =>
        string.IsNullOrEmpty(etag) ? throw new AmazonS3Exception($"S3 answered {operation} on {Describe(key)} without an ETag.") : etag;
}
