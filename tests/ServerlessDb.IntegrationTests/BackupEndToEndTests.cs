using System.IO.Compression;
using System.Net;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using ServerlessDb.IntegrationTests.Infrastructure;
using ServerlessDb.IntegrationTests.LocalServer;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// <c>GET /db/backup</c> end to end: through the real QueryRunner handler on moto (inline base64, and past
/// Lambda's 6 MB a 307 to a presigned GET of that object version), and through the local server over HTTP
/// (streamed, whatever the size).
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class BackupEndToEndTests(MotoServerFixture moto)
{
    private const string Rows = """["CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT)", "INSERT INTO foo(name) VALUES ('fiona')", "INSERT INTO foo(name) VALUES ('declan')"]""";

    // Seven blobs of 1 MB of random bytes: a database file over Lambda's 6 MB response limit.
    private static readonly string Large = "[\"CREATE TABLE big (b BLOB)\"" + string.Concat(Enumerable.Repeat(", \"INSERT INTO big VALUES (randomblob(1000000))\"", 7)) + "]";

    private static void AssertOk(LambdaResponse response) =>
        Assert.True(response.StatusCode == 200, $"status {response.StatusCode}: {response.Body}");

    private async Task<byte[]> StoredAsync(string bucket, string key, string? versionId = null)
    {
        using var response = await moto.S3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = key, VersionId = versionId });
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return copy.ToArray();
    }

    // The stored object is the file (STORAGE_LAYOUT=auto would chunk these large databases), so a link or the folder's file is the backup.
    private static readonly Dictionary<string, string?> WholeFiles = new() { ["STORAGE_LAYOUT"] = "whole" };

    [Fact]
    public async Task The_lambda_answers_the_stored_file_as_base64_its_dump_and_gzip()
    {
        var bucket = await moto.CreateVersionedBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket);
        AssertOk(await runner.PostAsync("/db/execute", Rows, query: "db=shop"));

        var binary = await runner.GetAsync("/db/backup", "db=shop");
        AssertOk(binary);
        Assert.True(binary.IsBase64Encoded);
        Assert.Equal("application/octet-stream", binary.Header("Content-Type"));
        Assert.Equal(await StoredAsync(bucket, "databases/shop.sqlite"), binary.Bytes);
        Assert.Equal("fiona,declan", DatabaseFiles.Query(binary.Bytes, "SELECT group_concat(name) FROM (SELECT name FROM foo ORDER BY id)"));

        var dump = await runner.GetAsync("/db/backup", "db=shop&fmt=sql");
        AssertOk(dump);
        Assert.Equal("application/sql", dump.Header("Content-Type"));
        Assert.Equal(
            "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT);\n" +
            "INSERT INTO \"foo\" VALUES(1,'fiona');\nINSERT INTO \"foo\" VALUES(2,'declan');\nCOMMIT;\n",
            dump.Body);

        var compressed = await runner.GetAsync("/db/backup", "db=shop&fmt=sql&compress");
        AssertOk(compressed);
        using var gzip = new GZipStream(new MemoryStream(compressed.Bytes), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        Assert.Equal(dump.Body, await reader.ReadToEndAsync());

        var missing = await runner.GetAsync("/db/backup", "db=never");
        AssertOk(missing);
        Assert.Empty(missing.Bytes);
        var listed = await moto.S3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = "databases/never" });
        Assert.Empty(listed.S3Objects ?? []);
    }

    [Fact]
    public async Task A_backup_over_six_megabytes_is_a_307_to_exactly_that_object_version()
    {
        var bucket = await moto.CreateVersionedBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket, WholeFiles);
        AssertOk(await runner.PostAsync("/db/execute", Large));
        var stored = await StoredAsync(bucket, "databases/default.sqlite");
        Assert.True(stored.Length > 6 * 1024 * 1024, $"the database is only {stored.Length} bytes");

        var response = await runner.GetAsync("/db/backup");
        Assert.True(response.StatusCode == 307, $"status {response.StatusCode}: {response.Body}");
        var location = new Uri(response.Header("Location")!);
        var head = await moto.S3.GetObjectMetadataAsync(bucket, "databases/default.sqlite");
        Assert.Contains("versionId=" + head.VersionId, location.Query, StringComparison.Ordinal);

        // A later commit does not change what the link answers: it names that version.
        AssertOk(await runner.PostAsync("/db/execute", """["DELETE FROM big"]"""));

        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = true });
        var followed = await http.GetByteArrayAsync(location);
        Assert.Equal(stored, followed);
        Assert.Equal(7L, DatabaseFiles.Query(followed, "SELECT count(*) FROM big"));
    }

    [Fact]
    public async Task The_local_server_streams_any_backup_over_http()
    {
        await using var server = await LocalServerHandle.StartAsync(WholeFiles);
        await server.PostAsync("/db/execute", Large);
        await server.PostAsync("/db/execute?db=shop", Rows);

        using var large = await server.Http.GetAsync("/db/backup", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, large.StatusCode);
        Assert.Equal("application/octet-stream", large.Content.Headers.ContentType?.MediaType);
        var bytes = await large.Content.ReadAsByteArrayAsync();
        Assert.True(bytes.Length > 6 * 1024 * 1024);
        Assert.Equal(bytes.Length, large.Content.Headers.ContentLength);
        Assert.Equal(File.ReadAllBytes(Path.Combine(server.DataDirectory, "default.sqlite")), bytes);
        Assert.Equal(7L, DatabaseFiles.Query(bytes, "SELECT count(*) FROM big"));

        var dump = await server.Http.GetStringAsync("/db/backup?db=shop&fmt=sql");
        Assert.StartsWith("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE foo", dump, StringComparison.Ordinal);
        Assert.EndsWith("INSERT INTO \"foo\" VALUES(2,'declan');\nCOMMIT;\n", dump, StringComparison.Ordinal);

        using var compressed = await server.Http.GetAsync("/db/backup?db=shop&compress");
        using var gzip = new GZipStream(await compressed.Content.ReadAsStreamAsync(), CompressionMode.Decompress);
        using var copy = new MemoryStream();
        await gzip.CopyToAsync(copy);
        Assert.Equal("fiona,declan", DatabaseFiles.Query(copy.ToArray(), "SELECT group_concat(name) FROM (SELECT name FROM foo ORDER BY id)"));
    }
}
