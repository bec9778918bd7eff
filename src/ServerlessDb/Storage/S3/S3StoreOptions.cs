namespace ServerlessDb.Storage.S3;

/// <summary>What <see cref="S3DatabaseStore"/> is configured with.</summary>
/// <param name="Bucket">the bucket holding the databases.</param>
/// <param name="Prefix">key prefix; database NAME lives at <c>{Prefix}{NAME}.sqlite</c>.</param>
/// <param name="RetryDeadline">how long one S3 call is retried (backoff with jitter) before the request gets a 503.</param>
/// <param name="CacheMaxBytes">
/// the bound on the total size of cached version files: beyond it the least recently used files no
/// reader holds are evicted. Working copies are not counted.
/// </param>
public sealed record S3StoreOptions(string Bucket, string Prefix, TimeSpan RetryDeadline, long CacheMaxBytes);
