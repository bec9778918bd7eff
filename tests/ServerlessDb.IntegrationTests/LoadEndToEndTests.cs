using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Data.Sqlite;
using ServerlessDb.IntegrationTests.Infrastructure;
using ServerlessDb.IntegrationTests.LocalServer;
using LocalServerSettings = global::LocalServer.LocalServerSettings;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// <c>POST /db/load</c> end to end: backup then load round-trips a database (the file byte for byte, the dump
/// row for row) through the real QueryRunner handler on moto and through the local server over HTTP; a bad file
/// changes nothing stored; a file over Lambda's 6 MB goes through the two-step staged path (a presigned PUT to
/// moto, then a load from that key, which is deleted afterwards).
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class LoadEndToEndTests(MotoServerFixture moto)
{
    private const string Rows = """
        ["CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT, data BLOB)",
         "INSERT INTO foo(name, data) VALUES ('fiona', x'00ff'), ('declan', NULL), ('it''s; a -- test', randomblob(40))",
         "CREATE TABLE seq (id INTEGER PRIMARY KEY AUTOINCREMENT, x REAL)",
         "INSERT INTO seq(x) VALUES (1.5), (2.25)",
         "CREATE INDEX foo_name ON foo(name)",
         "CREATE VIEW names AS SELECT name FROM foo"]
        """;

    private const string Content = "SELECT (SELECT group_concat(id || ':' || name || ':' || ifnull(hex(data), '-'), '|') FROM foo) || ' / ' || (SELECT group_concat(id || '=' || x) FROM seq) || ' / ' || (SELECT group_concat(name || '=' || seq) FROM sqlite_sequence) || ' / ' || (SELECT group_concat(type || ' ' || name) FROM (SELECT type, name FROM sqlite_schema ORDER BY name))";

    private static void AssertOk(LambdaResponse response) =>
        Assert.True(response.StatusCode == 200, $"status {response.StatusCode}: {response.Body}");

    /// <summary>integrity_check (must be ok) and <see cref="Content"/> of a database file's bytes.</summary>
    private static string Describe(byte[] bytes, string sql = Content) => DatabaseFiles.Query(bytes, sql)?.ToString() ?? "(null)";

    private async Task<byte[]> StoredAsync(string bucket, string database)
    {
        using var response = await moto.S3.GetObjectAsync(bucket, $"databases/{database}.sqlite");
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>A binary body as API Gateway sends it: base64 in the event, with its real length.</summary>
    private static Task<LambdaResponse> LoadAsync(QueryRunnerInstance runner, byte[] body, string query, string contentType = "application/octet-stream")
    {
        var headers = new Dictionary<string, string> { ["content-type"] = contentType };
        var apiEvent = JsonNode.Parse(ApiGatewayEvents.HttpApiV2("POST", "/db/load", query, headers, body: ""))!.AsObject();
        apiEvent["body"] = Convert.ToBase64String(body);
        apiEvent["isBase64Encoded"] = true;
        apiEvent["headers"]!["content-length"] = body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return runner.InvokeAsync(apiEvent.ToJsonString());
    }

    /// <summary>A database file over Lambda's 6 MB: seven rows of 1 MB of random bytes, and a small table.</summary>
    private static byte[] LargeDatabase()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("serverlessdb-load-").FullName, "large.sqlite");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = new SqliteCommand(
                "CREATE TABLE big (b BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 7) INSERT INTO big SELECT randomblob(1000000) FROM n; " +
                "CREATE TABLE small (x TEXT); INSERT INTO small VALUES ('staged');",
                connection);
            command.ExecuteNonQuery();
        }

        var bytes = File.ReadAllBytes(path);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        Assert.True(bytes.Length > 6 * 1024 * 1024, $"only {bytes.Length} bytes");
        return bytes;
    }

    private async Task AssertNothingStagedAsync(string bucket)
    {
        var versions = await moto.S3.ListVersionsAsync(new ListVersionsRequest { BucketName = bucket, Prefix = "databases/_staging/" });
        Assert.DoesNotContain(versions.Versions ?? [], v => !v.IsDeleteMarker.GetValueOrDefault());
    }

    [Fact]
    public async Task Through_the_lambda_a_backup_loads_back_byte_for_byte_and_its_dump_row_for_row()
    {
        var bucket = await moto.CreateVersionedBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket);
        AssertOk(await runner.PostAsync("/db/execute", Rows, query: "db=shop"));
        var original = await StoredAsync(bucket, "shop");

        var binary = await runner.GetAsync("/db/backup", "db=shop");
        AssertOk(binary);
        var loaded = await LoadAsync(runner, binary.Bytes, "db=copy");
        AssertOk(loaded);
        Assert.Equal(original, await StoredAsync(bucket, "copy"));
        using (var answer = JsonDocument.Parse(loaded.Body))
        {
            var head = await moto.S3.GetObjectMetadataAsync(bucket, "databases/copy.sqlite");
            Assert.Equal(head.ETag, answer.RootElement.GetProperty("loaded").GetProperty("version").GetString());
            Assert.Equal(2, answer.RootElement.GetProperty("loaded").GetProperty("tables").GetInt32());
        }

        var dump = await runner.GetAsync("/db/backup", "db=shop&fmt=sql");
        AssertOk(dump);
        AssertOk(await runner.PostAsync("/db/load", dump.Body, query: "db=fromdump", contentType: "text/plain"));
        Assert.Equal(Describe(original), Describe(await StoredAsync(bucket, "fromdump")));
        Assert.Equal(dump.Body, (await runner.GetAsync("/db/backup", "db=fromdump&fmt=sql")).Body);

        // Loaded databases are ordinary ones: reads and writes see the loaded content.
        AssertOk(await runner.PostAsync("/db/execute", """["INSERT INTO seq(x) VALUES (3)"]""", query: "db=fromdump"));
        Assert.Contains("[[3,3]]", (await runner.PostAsync("/db/query", """["SELECT id, x FROM seq WHERE x = 3"]""", query: "db=fromdump")).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Through_the_lambda_a_bad_file_or_dump_is_a_400_that_leaves_the_stored_object_as_it_was()
    {
        var bucket = await moto.CreateVersionedBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket);
        AssertOk(await runner.PostAsync("/db/execute", Rows, query: "db=shop"));
        var before = await moto.S3.GetObjectMetadataAsync(bucket, "databases/shop.sqlite");
        var backup = (await runner.GetAsync("/db/backup", "db=shop")).Bytes;
        var corrupt = (byte[])backup.Clone();
        Array.Fill(corrupt, (byte)0xa5, 4096, 12); // the b-tree page header of page 2

        var bad = new List<LambdaResponse>
        {
            await LoadAsync(runner, [], "db=shop"),
            await LoadAsync(runner, Encoding.ASCII.GetBytes(new string('z', 4096)), "db=shop"),
            await LoadAsync(runner, backup[..(backup.Length - 100)], "db=shop"),
            await LoadAsync(runner, corrupt, "db=shop"),
            await runner.PostAsync("/db/load", "BEGIN TRANSACTION;\nCREATE TABLE t(x);\nATTACH DATABASE '/tmp/other' AS o;\nCOMMIT;\n", query: "db=shop", contentType: "text/plain"),
            await runner.PostAsync("/db/load", "CREATE TABLE t(x);\nSELECT load_extension('/tmp/evil');\n", query: "db=shop", contentType: "text/plain"),
            await runner.PostAsync("/db/load", "", query: "db=shop&staged=0123456789abcdef0123456789abcdef"),
        };

        Assert.All(bad, response => Assert.True(response.StatusCode == 400, $"status {response.StatusCode}: {response.Body}"));
        var after = await moto.S3.GetObjectMetadataAsync(bucket, "databases/shop.sqlite");
        Assert.Equal(before.ETag, after.ETag);
        Assert.Equal(before.VersionId, after.VersionId);
    }

    [Fact]
    public async Task Through_the_lambda_a_file_over_six_megabytes_is_staged_with_a_presigned_put_then_loaded()
    {
        var bucket = await moto.CreateVersionedBucketAsync();

        // Stored whole, so the stored object is the loaded file byte for byte (STORAGE_LAYOUT=auto would chunk it).
        using var runner = new QueryRunnerInstance(moto, bucket, new Dictionary<string, string?> { ["STORAGE_LAYOUT"] = "whole" });
        AssertOk(await runner.PostAsync("/db/execute", Rows, query: "db=big"));
        var file = LargeDatabase();

        var upload = await runner.PostAsync("/db/load/upload", "", query: "db=big");
        AssertOk(upload);
        using var slot = JsonDocument.Parse(upload.Body);
        var id = slot.RootElement.GetProperty("id").GetString()!;
        Assert.Equal("PUT", slot.RootElement.GetProperty("method").GetString());
        Assert.Equal($"/db/load?db=big&staged={id}", slot.RootElement.GetProperty("load").GetString());

        using var http = new HttpClient();
        using (var put = await http.PutAsync(slot.RootElement.GetProperty("url").GetString(), new ByteArrayContent(file)))
        {
            Assert.True(put.IsSuccessStatusCode, $"PUT {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
        }

        Assert.Equal(file.Length, (await moto.S3.GetObjectMetadataAsync(bucket, $"databases/_staging/big/{id}.sqlite")).ContentLength);

        var loaded = await runner.PostAsync("/db/load", "", query: $"db=big&staged={id}");
        AssertOk(loaded);
        Assert.Equal(file, await StoredAsync(bucket, "big"));
        Assert.Equal("7 staged", Describe(await StoredAsync(bucket, "big"), "SELECT (SELECT count(*) FROM big) || ' ' || (SELECT x FROM small)"));
        await AssertNothingStagedAsync(bucket);

        // The staged object went with its load: naming it again is a 400 and changes nothing.
        var again = await runner.PostAsync("/db/load", "", query: $"db=big&staged={id}");
        Assert.Equal(400, again.StatusCode);
        Assert.Contains("no staged upload", again.Body, StringComparison.Ordinal);
        Assert.Equal(file, await StoredAsync(bucket, "big"));
    }

    [Fact]
    public async Task Through_the_local_server_a_backup_loads_back_and_a_bad_file_changes_nothing()
    {
        await using var server = await LocalServerHandle.StartAsync();
        await server.PostAsync("/db/execute?db=shop", Rows);
        var original = File.ReadAllBytes(Path.Combine(server.DataDirectory, "shop.sqlite"));

        var backup = await server.Http.GetByteArrayAsync("/db/backup?db=shop");
        using (var binary = new ByteArrayContent(backup))
        {
            binary.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var loaded = await server.Http.PostAsync("/db/load?db=copy", binary);
            Assert.True(loaded.StatusCode == HttpStatusCode.OK, await loaded.Content.ReadAsStringAsync());
        }

        Assert.Equal(original, File.ReadAllBytes(Path.Combine(server.DataDirectory, "copy.sqlite")));

        var dump = await server.Http.GetStringAsync("/db/backup?db=shop&fmt=sql");
        using (var text = new StringContent(dump, Encoding.UTF8, "text/plain"))
        {
            using var loaded = await server.Http.PostAsync("/db/load?db=fromdump", text);
            Assert.True(loaded.StatusCode == HttpStatusCode.OK, await loaded.Content.ReadAsStringAsync());
        }

        Assert.Equal(Describe(original), Describe(File.ReadAllBytes(Path.Combine(server.DataDirectory, "fromdump.sqlite"))));

        using (var garbage = new ByteArrayContent(Encoding.ASCII.GetBytes(new string('z', 1024))))
        {
            garbage.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var refused = await server.Http.PostAsync("/db/load?db=shop", garbage);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("not a valid SQLite database file", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var upload = await server.Http.PostAsync("/db/load/upload?db=shop", null);
        Assert.Equal(HttpStatusCode.BadRequest, upload.StatusCode);
        Assert.Contains("POST the file to /db/load", await upload.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(original, File.ReadAllBytes(Path.Combine(server.DataDirectory, "shop.sqlite")));
    }

    [Fact]
    public async Task Through_the_local_server_on_s3_the_whole_two_step_path_runs_over_http()
    {
        var bucket = await moto.CreateVersionedBucketAsync();
        await using var server = await LocalServerHandle.StartAsync(
            new Dictionary<string, string?> { ["AWS_REGION"] = MotoServerFixture.Region, ["STORAGE_LAYOUT"] = "whole" },
            new LocalServerSettings { S3Endpoint = moto.EndpointUrl, Bucket = bucket });
        var file = LargeDatabase();

        using var upload = await server.Http.PostAsync("/db/load/upload?db=staged", null);
        Assert.True(upload.StatusCode == HttpStatusCode.OK, await upload.Content.ReadAsStringAsync());
        using var slot = JsonDocument.Parse(await upload.Content.ReadAsStringAsync());

        using var http = new HttpClient();
        using (var put = await http.PutAsync(slot.RootElement.GetProperty("url").GetString(), new ByteArrayContent(file)))
        {
            Assert.True(put.IsSuccessStatusCode, $"PUT {(int)put.StatusCode}");
        }

        // A staged upload is no database: the listing skips the staging folder.
        Assert.Equal("""{"databases":[]}""", await server.Http.GetStringAsync("/db/databases"));

        using var loaded = await server.Http.PostAsync(slot.RootElement.GetProperty("load").GetString(), null);
        Assert.True(loaded.StatusCode == HttpStatusCode.OK, await loaded.Content.ReadAsStringAsync());
        Assert.Equal(file, await StoredAsync(bucket, "staged"));
        Assert.Contains("""[["staged"]]""", await server.PostAsync("/db/query?db=staged", """["SELECT x FROM small"]"""), StringComparison.Ordinal);
        await AssertNothingStagedAsync(bucket);
    }
}
