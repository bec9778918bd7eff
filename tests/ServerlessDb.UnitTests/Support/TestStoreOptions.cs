using ServerlessDb.Configuration;
using ServerlessDb.Storage.S3;

namespace ServerlessDb.UnitTests.Support;

/// <summary><see cref="S3StoreOptions"/> as the default configuration has them, with what a test varies; S3 over plain HTTP, as the scripted servers and moto are.</summary>
internal static class TestStoreOptions
{
    public static S3StoreOptions For(string bucket, TimeSpan? retryDeadline = null, long cacheMaxBytes = ServerlessDbOptions.DefaultCacheMaxBytes) =>
        new(bucket, ServerlessDbOptions.DefaultPrefix, retryDeadline ?? TimeSpan.FromSeconds(10), cacheMaxBytes, OverTls: false);
}
