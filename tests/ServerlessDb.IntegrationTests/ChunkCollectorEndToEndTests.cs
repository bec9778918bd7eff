using System.Text.Json;
using Amazon.S3.Model;
using ServerlessDb.IntegrationTests.Infrastructure;
using ServerlessDb.Storage.Chunked;
using ServerlessDb.Storage.Collection;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// Chunk garbage collection end to end: a chunked database written by the real QueryRunner handler on moto, its
/// old manifest versions deleted, then the real LockReaper handler (EC2 lock backend, with DB_BUCKET) run once.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class ChunkCollectorEndToEndTests(MotoServerFixture moto)
{
    private const string Key = "databases/shop.sqlite";
    private const string ChunkFolder = "databases/_chunks/shop/";

    // Three rows of 1 MB random blobs: several 1 MiB chunks, and each update below rewrites about one of them.
    private const string Create = """["CREATE TABLE big (id INTEGER PRIMARY KEY, b BLOB)", "INSERT INTO big(b) VALUES (randomblob(1000000))", "INSERT INTO big(b) VALUES (randomblob(1000000))", "INSERT INTO big(b) VALUES (randomblob(1000000))"]""";

    private static void AssertOk(LambdaResponse response) =>
        Assert.True(response.StatusCode == 200, $"status {response.StatusCode}: {response.Body}");

    private async Task<List<S3ObjectVersion>> VersionsAsync(string bucket, string prefix)
    {
        var versions = new List<S3ObjectVersion>();
        string? keyMarker = null, versionIdMarker = null;
        while (true)
        {
            var page = await moto.S3.ListVersionsAsync(new ListVersionsRequest { BucketName = bucket, Prefix = prefix, KeyMarker = keyMarker, VersionIdMarker = versionIdMarker });
            versions.AddRange((page.Versions ?? []).Where(v => v.IsDeleteMarker != true));
            if (page.IsTruncated != true)
            {
                return versions;
            }

            (keyMarker, versionIdMarker) = (page.NextKeyMarker, page.NextVersionIdMarker);
        }
    }

    [Fact]
    public async Task Chunks_only_deleted_manifest_versions_named_are_collected_and_the_database_reads_back_the_same()
    {
        var bucket = await moto.CreateVersionedBucketAsync();
        var chunked = new Dictionary<string, string?> { ["STORAGE_LAYOUT"] = "chunked", ["CHUNK_SIZE_MIB"] = "1" };
        byte[] before;
        using (var writer = new QueryRunnerInstance(moto, bucket, chunked))
        {
            AssertOk(await writer.PostAsync("/db/execute", Create, query: "db=shop"));
            for (var id = 1; id <= 3; id++)
            {
                AssertOk(await writer.PostAsync("/db/execute", $"""["UPDATE big SET b = randomblob(1000000) WHERE id = {id}"]""", query: "db=shop"));
            }

            var backup = await writer.GetAsync("/db/backup", "db=shop");
            AssertOk(backup);
            before = backup.Bytes;
        }

        // Only the current manifest stays: the chunks only the older ones named are garbage now.
        var manifests = await VersionsAsync(bucket, Key);
        Assert.Equal(4, manifests.Count);
        foreach (var old in manifests.Where(v => v.IsLatest != true))
        {
            await moto.S3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = Key, VersionId = old.VersionId });
        }

        using var current = await moto.S3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = Key });
        using var json = new MemoryStream();
        await current.ResponseStream.CopyToAsync(json);
        var referenced = ChunkManifest.Parse(json.ToArray()).Chunks.Select(c => ChunkFolder + c.Sha256).ToHashSet();
        var chunksBefore = await VersionsAsync(bucket, ChunkFolder);
        Assert.True(chunksBefore.Count > referenced.Count, $"{chunksBefore.Count} chunk versions stored, {referenced.Count} referenced: the updates left none behind");

        // The grace is two seconds (above a one-second QueryRunner timeout): let every chunk grow older than it.
        await Task.Delay(TimeSpan.FromSeconds(3.5));
        var vpcId = await moto.CreateVpcAsync();
        var reaper = new LockReaperInstance(moto, vpcId, new Dictionary<string, string?>
        {
            ["DB_BUCKET"] = bucket,
            ["QUERY_RUNNER_TIMEOUT_SECONDS"] = "1",
            ["CHUNK_GC_GRACE_SECONDS"] = "2",
        });

        var summary = await reaper.InvokeAsync();

        var chunks = summary.GetProperty("chunks");
        Assert.Equal(0, summary.GetProperty("found").GetInt32());
        Assert.Equal(
            (1, 1, chunksBefore.Count - referenced.Count, referenced.Count, 0, 0, 0),
            (chunks.GetProperty("databases").GetInt32(), chunks.GetProperty("manifests").GetInt32(), chunks.GetProperty("deleted").GetInt32(),
                chunks.GetProperty("kept").GetInt32(), chunks.GetProperty("young").GetInt32(), chunks.GetProperty("failed").GetInt32(), chunks.GetProperty("skipped").GetArrayLength()));
        var deletedBytes = chunksBefore.Where(v => !referenced.Contains(v.Key)).Sum(v => v.Size ?? 0);
        Assert.Equal(deletedBytes, chunks.GetProperty("deletedBytes").GetInt64());
        Assert.Equal(referenced.Order(StringComparer.Ordinal), (await VersionsAsync(bucket, ChunkFolder)).Select(v => v.Key).Order(StringComparer.Ordinal));
        var line = JsonDocument.Parse(Assert.Single(reaper.LogLines, l => l.Contains("\"chunk collector pass\"", StringComparison.Ordinal))).RootElement;
        Assert.Equal("info", line.GetProperty("level").GetString());

        using (var fresh = new QueryRunnerInstance(moto, bucket, chunked))
        {
            var backup = await fresh.GetAsync("/db/backup", "db=shop");
            AssertOk(backup);
            Assert.Equal(before, backup.Bytes);
            var count = await fresh.GetAsync("/db/query", "db=shop&q=" + Uri.EscapeDataString("SELECT count(*), sum(length(b)) FROM big"));
            AssertOk(count);
            Assert.Contains("[[3,3000000]]", count.Body, StringComparison.Ordinal);
        }

        // A second pass finds nothing more to collect.
        var again = (await reaper.InvokeAsync()).GetProperty("chunks");
        Assert.Equal((0, referenced.Count), (again.GetProperty("deleted").GetInt32(), again.GetProperty("kept").GetInt32()));
    }
}
