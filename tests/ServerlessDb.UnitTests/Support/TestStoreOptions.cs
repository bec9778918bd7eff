using Amazon.S3;
using ServerlessDb.Configuration;
using ServerlessDb.Storage;
using ServerlessDb.Storage.S3;

namespace ServerlessDb.UnitTests.Support;

/// <summary>A store over S3 as a test sets it up: the bucket and how S3 is reached, with the store's own options.</summary>
internal sealed record S3StoreSetup(string Bucket, string Prefix, TimeSpan RetryDeadline, long CacheMaxBytes, bool OverTls, int? ChunkSize = null)
{
    /// <summary>The store over <paramref name="s3"/>'s bucket, as the composition root builds it, caching in a new folder of its own under <paramref name="cacheDirectory"/>.</summary>
    public DatabaseStore CreateStore(IAmazonS3 s3, string cacheDirectory, TimeProvider? time = null, TimeSpan? retryBaseDelay = null) =>
        CreateStore(s3, CacheFolder.Claim(cacheDirectory), time, retryBaseDelay);

    /// <summary>The store over <paramref name="s3"/>'s bucket caching in <paramref name="cacheFolder"/>, which the caller keeps owning.</summary>
    public DatabaseStore CreateStore(IAmazonS3 s3, CacheFolder cacheFolder, TimeProvider? time = null, TimeSpan? retryBaseDelay = null)
    {
        var bucket = new S3ObjectBackend(s3, Bucket, OverTls);
        return new DatabaseStore(
            bucket, bucket, new StoreOptions(Prefix, RetryDeadline, CacheMaxBytes, ChunkSize), cacheFolder,
            time ?? TimeProvider.System, retryBaseDelay ?? TimeSpan.FromMilliseconds(100));
    }
}

/// <summary><see cref="S3StoreSetup"/> as the default configuration has it, with what a test varies; S3 over plain HTTP, as the scripted servers and moto are.</summary>
internal static class TestStoreOptions
{
    public static S3StoreSetup For(string bucket, TimeSpan? retryDeadline = null, long cacheMaxBytes = ServerlessDbOptions.DefaultCacheMaxBytes) =>
        new(bucket, ServerlessDbOptions.DefaultPrefix, retryDeadline ?? TimeSpan.FromSeconds(10), cacheMaxBytes, OverTls: false);
}
