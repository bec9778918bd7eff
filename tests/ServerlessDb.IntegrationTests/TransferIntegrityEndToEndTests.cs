using System.Buffers.Binary;
using System.IO.Hashing;
using Amazon.S3;
using Amazon.S3.Model;
using ServerlessDb.IntegrationTests.Infrastructure;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// The store's own CRC32 end to end on moto, through the real QueryRunner handler: a commit stores the file's
/// CRC32 as the object's checksum (S3 checked it) and as metadata, and a container never serves bytes whose
/// CRC32 differs from the one their commit stored.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class TransferIntegrityEndToEndTests(MotoServerFixture moto)
{
    private const string Key = "databases/default.sqlite";
    private const string MetadataKey = "x-amz-meta-serverlessdb-crc32";

    private static string Crc32Of(byte[] bytes)
    {
        var value = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(value, Crc32.HashToUInt32(bytes));
        return Convert.ToBase64String(value);
    }

    private async Task<byte[]> StoredAsync(string bucket)
    {
        using var response = await moto.S3.GetObjectAsync(bucket, Key);
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task A_commit_stores_the_crc32_of_its_bytes_as_the_objects_checksum_and_metadata()
    {
        var bucket = await moto.CreateBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket);
        Assert.Equal(200, (await runner.PostAsync("/db/execute", """["CREATE TABLE t (a)", "INSERT INTO t VALUES (randomblob(100000))"]""")).StatusCode);

        var stored = await StoredAsync(bucket);
        var head = await moto.S3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = Key, ChecksumMode = ChecksumMode.ENABLED });

        Assert.Equal(Crc32Of(stored), head.Metadata[MetadataKey]);
        Assert.Equal(Crc32Of(stored), head.ChecksumCRC32);
    }

    [Fact]
    public async Task Bytes_that_differ_from_their_commits_crc32_are_never_served()
    {
        var bucket = await moto.CreateBucketAsync();
        using (var writer = new QueryRunnerInstance(moto, bucket))
        {
            Assert.Equal(200, (await writer.PostAsync("/db/execute", """["CREATE TABLE t (a)", "INSERT INTO t VALUES (1)"]""")).StatusCode);
        }

        // The same metadata over other bytes: what a transfer that damaged them would deliver.
        var stored = await StoredAsync(bucket);
        var metadata = (await moto.S3.GetObjectMetadataAsync(bucket, Key)).Metadata;
        var damaged = (byte[])stored.Clone();
        damaged[^1] ^= 0xFF;
        var put = new PutObjectRequest { BucketName = bucket, Key = Key, InputStream = new MemoryStream(damaged) };
        foreach (var name in metadata.Keys)
        {
            put.Metadata.Add(name, metadata[name]);
        }

        await moto.S3.PutObjectAsync(put);
        using var reader = new QueryRunnerInstance(moto, bucket, new Dictionary<string, string?> { ["STORAGE_RETRY_SECONDS"] = "1" });

        var answer = await reader.GetAsync("/db/query", "q=SELECT%20count(*)%20FROM%20t");

        Assert.Equal(503, answer.StatusCode);
        Assert.Contains("CRC32", answer.Body);
        Assert.Equal(damaged, await StoredAsync(bucket));
    }
}
