using System.Globalization;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Polly;
using Polly.Timeout;
using ServerlessDb.Configuration;
using ServerlessDb.Errors;
using ServerlessDb.Resilience;

namespace ServerlessDb.Storage;

/// <summary>
/// Database files in S3 at <c>s3://{Bucket}/{Prefix}{NAME}.sqlite</c>, cached in the process's own
/// <see cref="CacheFolder"/> under <c>cache/{NAME}/</c> with one immutable file per ETag, within
/// <see cref="ServerlessDbOptions.CacheMaxBytes"/> in all. Reads revalidate with
/// If-None-Match (a 304 moves no bytes); commits are conditional PUTs (If-Match, or
/// If-None-Match: * for a new database). Transient S3 failures are retried with exponential
/// backoff and jitter until <see cref="ServerlessDbOptions.StorageRetryDeadline"/>; lost
/// conditions are never retried here, they become <see cref="WriteConflictException"/>.
/// </summary>
public sealed class S3DatabaseStore : IDatabaseStore
{
    /// <summary>User metadata (<c>x-amz-meta-serverlessdb-commit-id</c>) naming the commit that wrote a version.</summary>
    public const string CommitIdMetadataKey = "x-amz-meta-serverlessdb-commit-id";

    private const int FileBufferSize = 81920;
    private static readonly TimeSpan DefaultRetryBaseDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(2);

    private readonly IAmazonS3 _s3;
    private readonly ServerlessDbOptions _options;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _pipeline;
    private readonly CacheFolder _cacheFolder;
    private readonly DatabaseCaches _caches;
    private readonly string _bucket;

    /// <summary>A store caching in a new folder of its own under <see cref="ServerlessDbOptions.CacheDirectory"/>.</summary>
    public S3DatabaseStore(IAmazonS3 s3, ServerlessDbOptions options, TimeProvider? timeProvider = null)
        : this(s3, options, CacheFolder.Claim(options.CacheDirectory), timeProvider ?? TimeProvider.System, DefaultRetryBaseDelay)
    {
    }

    /// <summary>A store caching in <paramref name="cacheFolder"/>'s cache folder, which no other store may use; the caller keeps owning it.</summary>
    public S3DatabaseStore(IAmazonS3 s3, ServerlessDbOptions options, CacheFolder cacheFolder, TimeProvider? timeProvider = null)
        : this(s3, options, cacheFolder, timeProvider ?? TimeProvider.System, DefaultRetryBaseDelay)
    {
    }

    internal S3DatabaseStore(IAmazonS3 s3, ServerlessDbOptions options, TimeProvider timeProvider, TimeSpan retryBaseDelay)
        : this(s3, options, CacheFolder.Claim(options.CacheDirectory), timeProvider, retryBaseDelay)
    {
    }

    internal S3DatabaseStore(IAmazonS3 s3, ServerlessDbOptions options, CacheFolder cacheFolder, TimeProvider timeProvider, TimeSpan retryBaseDelay)
    {
        _s3 = s3;
        _options = options;
        _bucket = options.Bucket ?? throw new ArgumentException("DB_BUCKET is required for S3 storage.", nameof(options));
        _time = timeProvider;
        _cacheFolder = cacheFolder;
        _caches = new DatabaseCaches(cacheFolder.CacheDirectory, options.CacheMaxBytes, timeProvider);
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddTimeout(options.StorageRetryDeadline)
            // The timeout above, not a count, ends the retries.
            .AddRetry(Backoff.Retry(
                args => args.Outcome.Exception is { } e && S3Errors.IsTransient(e, args.Context.CancellationToken),
                retryBaseDelay,
                MaxRetryDelay))
            .Build();
    }

    /// <summary>The folder this store caches in.</summary>
    public CacheFolder CacheFolder => _cacheFolder;

    /// <summary>The total size of the cached version files.</summary>
    internal long CachedBytes => _caches.CachedBytes;

    public Task<DatabaseSnapshot> GetAsync(string database, TimeSpan? maxStaleness, CancellationToken cancellationToken) =>
        _caches.GetAsync(database, maxStaleness, FetchAsync, cancellationToken);

    public async Task<StoredVersion> CommitAsync(string database, StoredVersion basedOn, string filePath, CancellationToken cancellationToken)
    {
        var cache = _caches.ForCommit(database, filePath);
        var key = KeyFor(database);
        var commitId = Guid.NewGuid().ToString("N");
        var startedAt = _time.GetTimestamp();
        var attempts = 0;

        var etag = await RunAsync("PutObject", key, async token =>
        {
            // After a failed attempt the upload may have landed anyway (a timeout, a 5xx), so a
            // lost condition on a later attempt may be our own earlier success.
            var mayHaveLanded = ++attempts > 1;
            try
            {
                return await PutAsync(key, basedOn, filePath, commitId, token);
            }
            catch (AmazonS3Exception e) when (S3Errors.IsConditionFailure(e, basedOn))
            {
                if (mayHaveLanded && await FindCommitAsync(key, commitId, token) is { } landed)
                {
                    return landed;
                }

                throw new WriteConflictException(
                    $"Database '{database}' changed since version {basedOn} was read (s3://{_bucket}/{key}: {S3Errors.Describe(e)}); nothing was uploaded.",
                    e);
            }
        }, cancellationToken);

        var version = new StoredVersion(etag);
        cache.InstallCommitted(version, filePath, startedAt);
        return version;
    }

    private async Task<FetchedVersion> FetchAsync(CachedDatabase cache, StoredVersion? known)
    {
        var key = KeyFor(cache.Name);

        // Not the caller's token: the fetch is shared, and the deadline bounds it.
        return await RunAsync("GetObject", key, async token =>
        {
            var request = new GetObjectRequest { BucketName = _bucket, Key = key };
            if (known?.ETag is { } cached)
            {
                request.EtagToNotMatch = cached;
            }

            GetObjectResponse response;
            try
            {
                response = await _s3.GetObjectAsync(request, token);
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
                var etag = RequireETag(response.ETag, "GetObject", key);
                var temp = cache.NewTempPath();
                try
                {
                    await using var body = response.ResponseStream;
                    await using var file = new FileStream(
                        temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileBufferSize, FileOptions.Asynchronous);
                    await body.CopyToAsync(file, token);
                }
                catch
                {
                    File.Delete(temp);
                    throw;
                }

                return FetchedVersion.Downloaded(new StoredVersion(etag), temp, $"s3://{_bucket}/{key}");
            }
        }, CancellationToken.None);
    }

    private async Task<string> PutAsync(string key, StoredVersion basedOn, string filePath, string commitId, CancellationToken token)
    {
        // A fresh stream per attempt: a retry must send the file from its start.
        await using var body = new FileStream(
            filePath, FileMode.Open, FileAccess.Read, FileShare.Read, FileBufferSize,
            FileOptions.Asynchronous | FileOptions.SequentialScan);
        var request = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = key,
            InputStream = body,
            AutoCloseStream = false,
            ContentType = "application/vnd.sqlite3",
        };
        request.Metadata.Add(CommitIdMetadataKey, commitId);
        if (basedOn.ETag is { } etag)
        {
            request.IfMatch = etag;
        }
        else
        {
            request.IfNoneMatch = "*";
        }

        var response = await _s3.PutObjectAsync(request, token);
        return RequireETag(response.ETag, "PutObject", key);
    }

    /// <summary>The ETag of the stored object if it carries <paramref name="commitId"/>, else null.</summary>
    private async Task<string?> FindCommitAsync(string key, string commitId, CancellationToken token)
    {
        GetObjectMetadataResponse head;
        try
        {
            head = await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = key }, token);
        }
        catch (AmazonS3Exception e) when (S3Errors.IsNoSuchKey(e))
        {
            return null;
        }

        // The metadata dictionary keeps the header names' case as the server sent them.
        var stored = head.Metadata.Keys
            .Where(name => string.Equals(name, CommitIdMetadataKey, StringComparison.OrdinalIgnoreCase))
            .Select(name => head.Metadata[name])
            .FirstOrDefault();
        return stored == commitId ? RequireETag(head.ETag, "HeadObject", key) : null;
    }

    /// <summary>
    /// Runs one S3 operation under the retry pipeline and turns its failures into domain errors:
    /// a transient failure is retried until the deadline, any other S3 error fails at once.
    /// </summary>
    private async Task<T> RunAsync<T>(string operation, string key, Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        Exception? lastError = null;
        try
        {
            return await _pipeline.ExecuteAsync(async token =>
            {
                try
                {
                    return await attempt(token);
                }
                catch (Exception e) when (S3Errors.IsTransient(e, token))
                {
                    lastError = e;
                    throw;
                }
                catch (AmazonServiceException e)
                {
                    throw new StorageUnavailableException(
                        $"S3 refused {operation} on s3://{_bucket}/{key}: {S3Errors.Describe(e)}", e);
                }
                catch (AmazonClientException e)
                {
                    throw new StorageUnavailableException(
                        $"S3 client failed {operation} on s3://{_bucket}/{key}: {e.Message}", e);
                }
            }, cancellationToken);
        }
        catch (TimeoutRejectedException e)
        {
            var seconds = _options.StorageRetryDeadline.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            throw new StorageUnavailableException(
                $"S3 did not answer {operation} on s3://{_bucket}/{key} within {seconds}s: {S3Errors.Describe(lastError)}",
                lastError ?? e);
        }
    }

    private string RequireETag(string? etag, string operation, string key) =>
        string.IsNullOrEmpty(etag)
            ? throw new StorageUnavailableException($"S3 answered {operation} on s3://{_bucket}/{key} without an ETag.")
            : etag;

    private string KeyFor(string database) => DatabaseKey.For(_options.Prefix, database);
}
