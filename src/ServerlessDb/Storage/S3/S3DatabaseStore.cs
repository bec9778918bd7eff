using System.Collections.Concurrent;
using System.Globalization;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Storage.S3;

/// <summary>
/// Database files in S3 at <c>s3://{Bucket}/{Prefix}{NAME}.sqlite</c>, cached in the process's own
/// <see cref="CacheFolder"/> under <c>cache/{NAME}/</c> with one immutable file per ETag, within
/// <see cref="S3StoreOptions.CacheMaxBytes"/> in all. Reads revalidate with
/// If-None-Match (a 304 moves no bytes); commits are conditional PUTs (If-Match, or
/// If-None-Match: * for a new database). Transient S3 failures are retried with exponential
/// backoff and jitter until <see cref="S3StoreOptions.RetryDeadline"/>; lost
/// conditions are never retried here, they become <see cref="WriteConflictException"/>.
/// </summary>
internal sealed partial class S3DatabaseStore : IDatabaseStore, IDatabaseLinks, IDatabaseCatalog
{
    /// <summary>User metadata (<c>x-amz-meta-serverlessdb-commit-id</c>) naming the commit that wrote a version.</summary>
    public const string CommitIdMetadataKey = "x-amz-meta-serverlessdb-commit-id";

    /// <summary>User metadata naming the ETag of the version a commit was based on (<c>none</c> for a create).</summary>
    public const string ParentETagMetadataKey = "x-amz-meta-serverlessdb-parent-etag";

    /// <summary>User metadata listing the commit's nearest ancestors (<see cref="StoredCommit.Format"/>), newest first.</summary>
    public const string LineageMetadataKey = "x-amz-meta-serverlessdb-lineage";

    // Checking whether a commit landed after its retries ran out gets a budget of its own, so the
    // answer is known rather than guessed; it is short, since the request is already late.
    private static readonly TimeSpan SettleDeadline = TimeSpan.FromSeconds(3);

    private const int FileBufferSize = 81920;
    private static readonly TimeSpan DefaultRetryBaseDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(2);

    private readonly IAmazonS3 _s3;
    private readonly S3StoreOptions _options;
    private readonly TimeProvider _time;
    private readonly S3Retry _retry;
    private readonly DatabaseCaches _caches;
    private readonly ObjectKeys _keys;

    // The commit record of the version of each database this process read or wrote last, so that the
    // next commit on it can carry the lineage forward.
    private readonly ConcurrentDictionary<string, StoredCommit> _lastSeen = new(StringComparer.Ordinal);

    // The S3 version id of the version of each database this process downloaded or committed last
    // (null in a bucket without versioning), so a link to that version needs no request.
    private readonly ConcurrentDictionary<string, (string ETag, string? VersionId)> _versionIds = new(StringComparer.Ordinal);

    /// <summary>A store caching in a new folder of its own under <paramref name="cacheDirectory"/> (CACHE_DIR).</summary>
    public S3DatabaseStore(IAmazonS3 s3, S3StoreOptions options, string cacheDirectory, TimeProvider? timeProvider = null)
        : this(s3, options, CacheFolder.Claim(cacheDirectory), timeProvider ?? TimeProvider.System, DefaultRetryBaseDelay)
    {
    }

    /// <summary>A store caching in <paramref name="cacheFolder"/>'s cache folder, which no other store may use; the caller keeps owning it.</summary>
    public S3DatabaseStore(IAmazonS3 s3, S3StoreOptions options, CacheFolder cacheFolder, TimeProvider? timeProvider = null)
        : this(s3, options, cacheFolder, timeProvider ?? TimeProvider.System, DefaultRetryBaseDelay)
    {
    }

    internal S3DatabaseStore(IAmazonS3 s3, S3StoreOptions options, string cacheDirectory, TimeProvider timeProvider, TimeSpan retryBaseDelay)
        : this(s3, options, CacheFolder.Claim(cacheDirectory), timeProvider, retryBaseDelay)
    {
    }

    internal S3DatabaseStore(IAmazonS3 s3, S3StoreOptions options, CacheFolder cacheFolder, TimeProvider timeProvider, TimeSpan retryBaseDelay)
    {
        ArgumentNullException.ThrowIfNull(options);
        _s3 = s3;
        _options = options;
        _keys = new ObjectKeys(options.Prefix);
        _time = timeProvider;
        CacheFolder = cacheFolder;
        _caches = new DatabaseCaches(cacheFolder.CacheDirectory, options.CacheMaxBytes, timeProvider, keepSpares: options.ChunkSize is not null);
        // Each call's deadline (see RunAsync), not a count, ends the retries.
        _retry = new S3Retry(
            timeProvider, retryBaseDelay, MaxRetryDelay, options.RetryDeadline, deadlineEndsAttempt: true,
            alsoRetry: e => e is CommitNotYetVisibleException or TransferCorruptedException);
    }

    /// <summary>The folder this store caches in.</summary>
    public CacheFolder CacheFolder { get; }

    /// <summary>The total size of the cached version files.</summary>
    internal long CachedBytes => _caches.CachedBytes;

    public Task<DatabaseSnapshot> GetAsync(string database, TimeSpan? maxStaleness, CancellationToken cancellationToken) =>
        _caches.GetAsync(database, maxStaleness, FetchAsync, cancellationToken);

    /// <summary>A HEAD of the database's object; the commit record it carries is remembered, so the next commit extends its lineage.</summary>
    public async Task<StoredVersion> CurrentVersionAsync(string database, CancellationToken cancellationToken)
    {
        var key = KeyFor(database);
        var stored = await RunAsync("HeadObject", key, token => InspectAsync(key, token), cancellationToken);
        if (stored is null)
        {
            return StoredVersion.Missing;
        }

        _lastSeen[database] = stored;
        return new StoredVersion(stored.ETag);
    }

    public async Task<CommitReceipt> CommitAsync(string database, StoredVersion basedOn, string filePath, CancellationToken cancellationToken)
    {
        var cache = _caches.ForCommit(database, filePath);
        var key = KeyFor(database);
        var commitId = Guid.NewGuid().ToString("N");
        var lineage = StoredCommit.Extend(commitId, basedOn, LineageOf(database, basedOn));
        var startedAt = _time.GetTimestamp();
        var body = _options.ChunkSize is { } chunkSize
            ? await PrepareChunkedCommitAsync(database, basedOn, filePath, chunkSize, cancellationToken)
            : await CommitBody.ForFileAsync(filePath, cancellationToken);

        // Set when an attempt ended without an answer from S3 (a timeout, a reset): that PUT may still land.
        var unanswered = false;
        string etag;
        string? putVersionId = null;
        try
        {
            etag = await RunAsync("PutObject", key, async token =>
            {
                try
                {
                    var put = await PutAsync(key, body, basedOn, lineage, token);
                    putVersionId = put.VersionId;
                    return put.ETag;
                }
                catch (AmazonS3Exception e) when (S3Errors.IsConditionFailure(e, basedOn))
                {
                    // Never taken for a conflict unchecked: a layer below this one (the HTTP stack) may
                    // have sent the PUT twice, and this 412 may be the answer to our own landed commit.
                    var stored = await InspectAsync(key, token);
                    var verdict = StoredCommit.Judge(stored, basedOn, commitId);
                    return verdict.Check switch
                    {
                        CommitCheck.Landed => verdict.ETag!,
                        CommitCheck.NotYetChanged => throw new CommitNotYetVisibleException(e),
                        CommitCheck.Superseded => throw new WriteConflictException(
                            $"Database '{database}' changed since version {basedOn} was read (s3://{_options.Bucket}/{key} is now {stored?.ETag ?? "deleted"}, " +
                            $"written by another commit: {S3Errors.Describe(e)}); nothing was uploaded.",
                            e),
                        _ => throw Unknown(database, key, $"S3 answered {S3Errors.Describe(e)}, and more commits have landed since version {basedOn} than the stored object remembers", e),
                    };
                }
                catch (Exception e) when (e is not AmazonServiceException { StatusCode: not 0 } and not ServerlessDbException and not CommitNotYetVisibleException)
                {
                    unanswered = true;
                    throw;
                }
            }, cancellationToken);
        }
        catch (StorageUnavailableException e) when (unanswered || e.InnerException is CommitNotYetVisibleException)
        {
            etag = await SettleAsync(database, key, basedOn, commitId, unanswered, e);
        }

        var version = new StoredVersion(etag);
        _lastSeen[database] = new StoredCommit(etag, lineage);
        RememberLayout(database, etag, body.Manifest);
        if (putVersionId is not null)
        {
            _versionIds[database] = (etag, putVersionId);
        }

        cache.InstallCommitted(version, filePath, startedAt, assembledFromChunks: body.Manifest is not null);
        return new CommitReceipt(version, body.UploadedBytes);
    }

    /// <summary>
    /// A presigned GET of exactly <paramref name="version"/>: with its S3 version id, remembered from the
    /// GET or PUT that brought it here, or else asked for with a HEAD conditional on its ETag. In a bucket
    /// without versioning there is no id, and the link names the key only.
    /// </summary>
    public async Task<Uri> LinkToAsync(string database, StoredVersion version, TimeSpan expiry, CancellationToken cancellationToken)
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
                try
                {
                    var head = await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _options.Bucket, Key = key, EtagToMatch = etag }, token);
                    return NullIfEmpty(head.VersionId);
                }
                catch (AmazonS3Exception e) when (e.StatusCode is System.Net.HttpStatusCode.PreconditionFailed or System.Net.HttpStatusCode.NotFound)
                {
                    throw new StorageUnavailableException(
                        $"Database '{database}' changed while its backup was taken (s3://{_options.Bucket}/{key} is no longer version {version}); retry.", e);
                }
            }, cancellationToken);
        }

        return await PresignAsync(key, versionId, expiry);
    }

    /// <summary>A presigned GET of the stored version <paramref name="versionId"/> (an old one, read by id). Moves no bytes.</summary>
    public Task<Uri> LinkToVersionAsync(string database, string versionId, TimeSpan expiry, CancellationToken cancellationToken) =>
        PresignAsync(KeyFor(database), versionId, expiry);

    private async Task<Uri> PresignAsync(string key, string? versionId, TimeSpan expiry)
    {
        var request = new GetPreSignedUrlRequest
        {
            BucketName = _options.Bucket,
            Key = key,
            Verb = HttpVerb.GET,
            Expires = _time.GetUtcNow().UtcDateTime + expiry,
            VersionId = versionId,
            Protocol = LinkProtocol,
        };
        return new Uri(await _s3.GetPreSignedURLAsync(request));
    }

    /// <summary>
    /// ListObjectsV2 under the prefix, with <c>/</c> as delimiter so that nothing in a folder below it is
    /// read; keys that are not <c>{Prefix}{NAME}.sqlite</c> with a valid NAME are skipped. S3 lists keys in
    /// UTF-8 byte order, which is the order of the names' file names.
    /// </summary>
    public async Task<DatabasePage> ListAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var databases = new List<DatabaseEntry>(Math.Min(limit, 1000));
        string? continuation = null;
        while (true)
        {
            var request = new ListObjectsV2Request
            {
                BucketName = _options.Bucket,
                Prefix = _options.Prefix,
                Delimiter = "/",
                MaxKeys = Math.Min(limit - databases.Count, 1000),
                ContinuationToken = continuation,
                StartAfter = continuation is null && after is not null ? KeyFor(after) : null,
            };
            var page = await RunAsync("ListObjectsV2", _options.Prefix, token => _s3.ListObjectsV2Async(request, token), cancellationToken);
            var truncated = page.IsTruncated == true;
            var objects = page.S3Objects ?? [];
            for (var i = 0; i < objects.Count; i++)
            {
                if (_keys.DatabaseOf(objects[i].Key) is not { } name)
                {
                    continue;
                }

                databases.Add(new DatabaseEntry(name, objects[i].Size ?? 0, StoredMetadata.Utc(objects[i].LastModified)));
                if (databases.Count == limit)
                {
                    var more = truncated || i < objects.Count - 1;
                    return new DatabasePage(databases, more ? name : null);
                }
            }

            if (!truncated || string.IsNullOrEmpty(page.NextContinuationToken))
            {
                return new DatabasePage(databases, Next: null);
            }

            continuation = page.NextContinuationToken;
        }
    }

    // Links go out as the store reaches S3: HTTPS, or plain HTTP to a local S3.
    private Amazon.S3.Protocol LinkProtocol => _options.OverTls ? Amazon.S3.Protocol.HTTPS : Amazon.S3.Protocol.HTTP;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) || value == "null" ? null : value;

    /// <summary>
    /// The retries ran out while our PUT may have landed: look once more (with a budget of its own)
    /// and answer what is known. Returns the ETag when our commit is stored.
    /// </summary>
    private async Task<string> SettleAsync(string database, string key, StoredVersion basedOn, string commitId, bool unanswered, StorageUnavailableException failure)
    {
        StoredCommit? stored;
        try
        {
            stored = await RunAsync("HeadObject", key, token => InspectAsync(key, token), CancellationToken.None, SettleDeadline);
        }
        catch (StorageUnavailableException e)
        {
            throw Unknown(database, key, $"{failure.Message}; checking whether it landed failed too ({e.Message})", failure);
        }

        var verdict = StoredCommit.Judge(stored, basedOn, commitId);
        return verdict.Check switch
        {
            CommitCheck.Landed => verdict.ETag!,
            CommitCheck.Superseded => throw new WriteConflictException(
                $"Database '{database}' changed since version {basedOn} was read (s3://{_options.Bucket}/{key} now holds another commit); nothing was uploaded.",
                failure),
            CommitCheck.NotYetChanged when !unanswered => throw new StorageUnavailableException(
                $"{failure.Message}; the stored object is still version {basedOn}, so nothing was committed.", failure),
            _ => throw Unknown(database, key, failure.Message, failure),
        };
    }

    private CommitOutcomeUnknownException Unknown(string database, string key, string why, Exception inner) =>
        new($"The write to database '{database}' may have been committed: {why}; s3://{_options.Bucket}/{key} could not show whether it holds this commit. " +
            "Read the database before retrying, or retry with the same Idempotency-Key.",
            inner);

    private async Task<FetchedVersion> FetchAsync(CachedDatabase cache, StoredVersion? known)
    {
        var key = KeyFor(cache.Name);

        // Not the caller's token: the fetch is shared, and the deadline bounds it.
        return await RunAsync("GetObject", key, async token =>
        {
            var request = new GetObjectRequest { BucketName = _options.Bucket, Key = key };
            if (known?.ETag is { } cached)
            {
                request.EtagToNotMatch = cached;
            }

            GetObjectResponse response;
            try
            {
                response = await GetWholeObjectAsync(request, token);
            }
            catch (AmazonS3Exception e) when (request.EtagToNotMatch is not null && S3Errors.IsNotModified(e))
            {
                return FetchedVersion.StillCurrent;
            }
            catch (AmazonS3Exception e) when (S3Errors.IsNoSuchKey(e))
            {
                return FetchedVersion.Missing;
            }

            using (response)
            {
                var (fetched, manifest) = await ReceiveAsync(cache, response, $"s3://{_options.Bucket}/{key}", token);
                var etag = fetched.Version.ETag!;
                _lastSeen[cache.Name] = ReadCommit(etag, response.Metadata);
                _versionIds[cache.Name] = (etag, NullIfEmpty(response.VersionId));
                RememberLayout(cache.Name, etag, manifest);
                return fetched;
            }
        }, CancellationToken.None);
    }

    /// <summary>
    /// Streams a GET's body to a new file at <paramref name="path"/>, checking it against the CRC32 its commit
    /// stored (see <see cref="ObjectChecksum"/>); deletes what it wrote if the transfer fails or the bytes differ.
    /// </summary>
    /// <exception cref="TransferCorruptedException">the bytes differ from the stored CRC32 (retried: the next attempt downloads again).</exception>
    private static async Task SaveAsync(GetObjectResponse response, string path, CancellationToken token)
    {
        try
        {
            string crc32;
            await using (var body = response.ResponseStream)
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileBufferSize, FileOptions.Asynchronous))
            {
                crc32 = await ObjectChecksum.CopyAsync(body, file, token);
            }

            if (ObjectChecksum.Stored(response.Metadata) is { } stored && stored != crc32)
            {
                throw new TransferCorruptedException(
                    $"the {new FileInfo(path).Length} bytes downloaded of s3://{response.BucketName}/{response.Key} (ETag {response.ETag}) have CRC32 {crc32}, and their commit stored {stored}");
            }
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    /// <summary>
    /// GETs the whole object as a range (see <see cref="ObjectChecksum"/>). An empty object has no byte 0, so S3
    /// answers 416: it is asked for again without the range.
    /// </summary>
    private async Task<GetObjectResponse> GetWholeObjectAsync(GetObjectRequest request, CancellationToken token)
    {
        request.ByteRange = ObjectChecksum.WholeObject;
        try
        {
            return await _s3.GetObjectAsync(request, token);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            request.ByteRange = null;
            return await _s3.GetObjectAsync(request, token);
        }
    }

    private async Task<(string ETag, string? VersionId)> PutAsync(string key, CommitBody commit, StoredVersion basedOn, IReadOnlyList<CommitLink> lineage, CancellationToken token)
    {
        // A fresh stream per attempt: a retry must send the body from its start.
        await using var body = commit.Open();
        var crc32 = commit.Crc32;
        var request = ChecksummedPut(key, body, commit.Manifest is null ? "application/vnd.sqlite3" : "application/json", crc32);

        // The metadata copy of the checksum comes back with every GET.
        request.Metadata.Add(ObjectChecksum.MetadataKey, crc32);
        if (commit.Manifest is not null)
        {
            request.Metadata.Add(LayoutMetadataKey, ChunkedLayoutName);
        }

        request.Metadata.Add(CommitIdMetadataKey, lineage[0].CommitId);
        request.Metadata.Add(ParentETagMetadataKey, lineage[0].ParentETag);
        if (lineage.Count > 1)
        {
            request.Metadata.Add(LineageMetadataKey, StoredCommit.Format(lineage.Skip(1)));
        }
        if (basedOn.ETag is { } etag)
        {
            request.IfMatch = etag;
        }
        else
        {
            request.IfNoneMatch = "*";
        }

        var response = await _s3.PutObjectAsync(request, token);
        return (RequireETag(response.ETag, "PutObject", key), NullIfEmpty(response.VersionId));
    }

    /// <summary>A PUT of <paramref name="body"/> (sent from its start, left open) carrying its CRC32, which S3 verifies before it stores anything.</summary>
    private PutObjectRequest ChecksummedPut(string key, Stream body, string contentType, string crc32) => new()
    {
        BucketName = _options.Bucket,
        Key = key,
        InputStream = body,
        AutoCloseStream = false,
        ContentType = contentType,

        // The algorithm named with its value: the SDK sends the value as it is and computes nothing.
        ChecksumAlgorithm = ChecksumAlgorithm.CRC32,
        ChecksumCRC32 = crc32,

        // Over TLS the body needs no SHA-256 of its own in the signature (UNSIGNED-PAYLOAD, as S3 allows):
        // TLS and the CRC32 already guard it. Over plain HTTP (a local S3) the SDK signs it.
        DisablePayloadSigning = _options.OverTls,
    };

    /// <summary>The stored object's ETag and the commit it records, or null when there is no object.</summary>
    private async Task<StoredCommit?> InspectAsync(string key, CancellationToken token)
    {
        GetObjectMetadataResponse head;
        try
        {
            head = await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _options.Bucket, Key = key }, token);
        }
        catch (AmazonS3Exception e) when (S3Errors.IsNoSuchKey(e))
        {
            return null;
        }

        return ReadCommit(RequireETag(head.ETag, "HeadObject", key), head.Metadata);
    }

    private static StoredCommit ReadCommit(string etag, MetadataCollection metadata)
    {
        if (StoredMetadata.Value(metadata, CommitIdMetadataKey) is not { } commitId || StoredMetadata.Value(metadata, ParentETagMetadataKey) is not { } parent)
        {
            return new StoredCommit(etag, []);
        }

        return new StoredCommit(etag, [new CommitLink(commitId, parent), .. StoredCommit.Parse(StoredMetadata.Value(metadata, LineageMetadataKey))]);
    }

    private IReadOnlyList<CommitLink> LineageOf(string database, StoredVersion version) =>
        _lastSeen.TryGetValue(database, out var seen) && seen.ETag == version.ETag ? seen.Lineage : [];

    /// <summary>
    /// Runs one S3 operation under <see cref="S3Retry"/> (a transient failure is retried until the deadline,
    /// STORAGE_RETRY_SECONDS unless given, which also cuts an attempt short) and turns its failures into domain
    /// errors: the deadline, and any other S3 error at once, become <see cref="StorageUnavailableException"/>.
    /// </summary>
    private async Task<T> RunAsync<T>(
        string operation,
        string key,
        Func<CancellationToken, Task<T>> attempt,
        CancellationToken cancellationToken,
        TimeSpan? deadline = null)
    {
        try
        {
            return await _retry.RunAsync(attempt, cancellationToken, deadline);
        }
        catch (S3RetryExpiredException e)
        {
            var seconds = (deadline ?? _options.RetryDeadline).TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            throw new StorageUnavailableException(
                $"S3 did not answer {operation} on s3://{_options.Bucket}/{key} within {seconds}s: {S3Errors.Describe(e.LastError)}",
                e.InnerException);
        }
        catch (AmazonServiceException e)
        {
            throw new StorageUnavailableException(
                $"S3 refused {operation} on s3://{_options.Bucket}/{key}: {S3Errors.Describe(e)}", e);
        }
        catch (AmazonClientException e)
        {
            throw new StorageUnavailableException(
                $"S3 client failed {operation} on s3://{_options.Bucket}/{key}: {e.Message}", e);
        }
    }

    private string RequireETag(string? etag, string operation, string key) =>
        string.IsNullOrEmpty(etag)
            ? throw new StorageUnavailableException($"S3 answered {operation} on s3://{_options.Bucket}/{key} without an ETag.")
            : etag;

    private string KeyFor(string database) => _keys.Database(database);

    /// <summary>
    /// A conditional PUT failed while the object is still the version it was based on: another
    /// conditional write (perhaps our own, re-sent below us) is under way. S3 asks for a retry.
    /// </summary>
    private sealed class CommitNotYetVisibleException(AmazonS3Exception conditionFailure)
        : Exception($"the conditional PUT failed ({S3Errors.Describe(conditionFailure)}) while the object was still the version it was based on", conditionFailure);
}

/// <summary>What <see cref="S3DatabaseStore"/> is configured with.</summary>
/// <param name="Bucket">the bucket holding the databases.</param>
/// <param name="Prefix">key prefix; database NAME lives at <c>{Prefix}{NAME}.sqlite</c>.</param>
/// <param name="RetryDeadline">how long one S3 call is retried (backoff with jitter) before the request gets a 503.</param>
/// <param name="CacheMaxBytes">
/// the bound on the total size of cached version files: beyond it the least recently used files no
/// reader holds are evicted. Working copies are not counted.
/// </param>
/// <param name="OverTls">S3 is reached over TLS (S3 itself; not a local S3 over plain HTTP): uploads then need no signed payload hash.</param>
/// <param name="ChunkSize">
/// the chunk size of the chunked layout (STORAGE_LAYOUT=chunked), in which commits store a manifest and the chunks
/// that changed; null for the whole-file layout, in which each commit stores the file. Either layout reads both.
/// </param>
internal sealed record S3StoreOptions(string Bucket, string Prefix, TimeSpan RetryDeadline, long CacheMaxBytes, bool OverTls, int? ChunkSize = null);
