using ServerlessDb.IntegrationTests.Infrastructure;
using LocalServerSettings = global::LocalServer.LocalServerSettings;

namespace ServerlessDb.IntegrationTests.LocalServer;

/// <summary>The local server with S3 storage on moto_server (an S3 endpoint and a bucket instead of the folder).</summary>
[Collection(MotoCollection.Name)]
public sealed class LocalServerS3Tests(MotoServerFixture moto)
{
    [Fact]
    public async Task With_an_s3_endpoint_the_databases_live_in_the_bucket_not_the_folder()
    {
        var bucket = await moto.CreateBucketAsync();
        await using var server = await LocalServerHandle.StartAsync(
            new Dictionary<string, string?> { ["AWS_REGION"] = MotoServerFixture.Region },
            new LocalServerSettings { S3Endpoint = moto.EndpointUrl, Bucket = bucket });

        Assert.Contains($"storage: S3 bucket {bucket} (keys databases/NAME.sqlite) at {moto.EndpointUrl}", server.Output);
        await server.PostAsync("/db/execute", """["CREATE TABLE t(a)", "INSERT INTO t VALUES (1)"]""");

        var stored = await moto.S3.GetObjectMetadataAsync(bucket, "databases/default.sqlite");
        Assert.True(stored.ContentLength > 0);
        Assert.Empty(Directory.EnumerateFileSystemEntries(server.DataDirectory));
        Assert.Contains("[[1]]", await server.PostAsync("/db/query", """["SELECT a FROM t"]"""));
    }
}
