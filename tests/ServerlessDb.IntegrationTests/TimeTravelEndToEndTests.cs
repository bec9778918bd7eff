using System.Globalization;
using System.Net;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Data.Sqlite;
using ServerlessDb.IntegrationTests.Faults;
using ServerlessDb.IntegrationTests.Infrastructure;
using ServerlessDb.IntegrationTests.LocalServer;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// Time travel end to end: through the real QueryRunner handler on a versioned moto bucket (as_of between two
/// writes, /db/versions paged against moto's own listing, restore and restore back, a write with as_of stored
/// nowhere, a large old version's 307), and through the local server over HTTP on its folder.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class TimeTravelEndToEndTests(MotoServerFixture moto)
{
    private const string Key = "databases/shop.sqlite";
    private const string First = """["CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT)", "INSERT INTO foo(name) VALUES ('fiona')"]""";
    private const string Second = """["INSERT INTO foo(name) VALUES ('declan')"]""";
    private static readonly string Names = "q=" + Uri.EscapeDataString("SELECT group_concat(name) FROM (SELECT name FROM foo ORDER BY id)");

    private static void AssertOk(LambdaResponse response) =>
        Assert.True(response.StatusCode == 200, $"status {response.StatusCode}: {response.Body}");

    private static string Rfc3339(DateTimeOffset time) =>
        Uri.EscapeDataString(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));

    private static string FirstValue(string body) =>
        JsonDocument.Parse(body).RootElement.GetProperty("results")[0].GetProperty("values")[0][0].ToString();

    /// <summary>moto's own listing of the key's versions, newest first (delete markers left out).</summary>
    private async Task<List<string>> StoredVersionIdsAsync(string bucket)
    {
        var listed = await moto.S3.ListVersionsAsync(new ListVersionsRequest { BucketName = bucket, Prefix = Key });
        return [.. (listed.Versions ?? []).Where(v => v.Key == Key && v.IsDeleteMarker != true).Select(v => v.VersionId)];
    }

    private static List<string> Ids(string body) =>
        [.. JsonDocument.Parse(body).RootElement.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("id").GetString()!)];

    [Fact]
    public async Task On_S3_a_query_as_of_a_time_between_two_writes_sees_the_first_and_restore_then_restore_back_gives_the_newer()
    {
        var bucket = await moto.CreateVersionedBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket);
        AssertOk(await runner.PostAsync("/db/execute", First, query: "db=shop"));

        // S3's LastModified has whole seconds: a second and more on each side keeps the time strictly between.
        await Task.Delay(1100);
        var between = DateTimeOffset.UtcNow;
        await Task.Delay(1100);
        AssertOk(await runner.PostAsync("/db/execute", Second, query: "db=shop"));

        var asOf = await runner.GetAsync("/db/query", $"db=shop&{Names}&as_of={Rfc3339(between)}");
        AssertOk(asOf);
        Assert.Equal("fiona", FirstValue(asOf.Body));
        Assert.Equal("fiona,declan", FirstValue((await runner.GetAsync("/db/query", $"db=shop&{Names}")).Body));

        // The list is moto's, newest first, and pages with next.
        var stored = await StoredVersionIdsAsync(bucket);
        Assert.Equal(2, stored.Count);
        var all = await runner.GetAsync("/db/versions", "db=shop");
        AssertOk(all);
        Assert.Equal(stored, Ids(all.Body));
        var page1 = await runner.GetAsync("/db/versions", "db=shop&limit=1");
        var next = JsonDocument.Parse(page1.Body).RootElement.GetProperty("next").GetString()!;
        var page2 = await runner.GetAsync("/db/versions", $"db=shop&limit=1&next={next}");
        Assert.Equal(stored, Ids(page1.Body).Concat(Ids(page2.Body)));

        // A write with as_of is a 400 and stores nothing.
        var write = await runner.PostAsync("/db/execute", """["DELETE FROM foo"]""", query: $"db=shop&as_of={Rfc3339(between)}");
        Assert.Equal(400, write.StatusCode);
        Assert.Equal(stored, await StoredVersionIdsAsync(bucket));

        // Restore the first version: a new version with its content; nothing is destroyed.
        var (older, newer) = (stored[1], stored[0]);
        var restored = await runner.PostAsync("/db/restore", "", query: $"db=shop&version={Uri.EscapeDataString(older)}");
        AssertOk(restored);
        var afterRestore = await StoredVersionIdsAsync(bucket);
        Assert.Equal(3, afterRestore.Count);
        var answer = JsonDocument.Parse(restored.Body).RootElement;
        Assert.Equal(older, answer.GetProperty("restored").GetString());
        Assert.Equal(afterRestore[0], answer.GetProperty("version").GetString());
        Assert.Equal("fiona", FirstValue((await runner.GetAsync("/db/query", $"db=shop&{Names}")).Body));

        // And back: the newer content again, as a fourth version.
        AssertOk(await runner.PostAsync("/db/restore", "", query: $"db=shop&version={Uri.EscapeDataString(newer)}"));
        Assert.Equal(4, (await StoredVersionIdsAsync(bucket)).Count);
        using var current = await moto.S3.GetObjectAsync(bucket, Key);
        var path = Path.GetTempFileName();
        try
        {
            await current.WriteResponseStreamToFileAsync(path, append: false, CancellationToken.None);
            using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = new SqliteCommand("SELECT group_concat(name) FROM (SELECT name FROM foo ORDER BY id)", connection);
            Assert.Equal("fiona,declan", command.ExecuteScalar());
        }
        finally
        {
            File.Delete(path);
        }

        // An unknown version is a 404 and stores nothing.
        var unknown = await runner.PostAsync("/db/restore", "", query: "db=shop&version=nosuchversion");
        Assert.Equal(404, unknown.StatusCode);
        Assert.Equal(4, (await StoredVersionIdsAsync(bucket)).Count);
    }

    /// <summary>
    /// A query of an old version of a large database reads it in place, as a query of the current version does: ranged
    /// GETs of that version (a whole file's on its version id, a chunked one's chunks named by its manifest), a fraction
    /// of the file, never a download, and the old content's answer; an unknown version is still a 404.
    /// </summary>
    [Theory]
    [InlineData("whole")]
    [InlineData("chunked")]
    public async Task On_S3_a_query_of_an_old_version_of_a_large_database_reads_it_in_place(string layout)
    {
        var bucket = await moto.CreateVersionedBucketAsync();
        using var writer = new QueryRunnerInstance(moto, bucket, new Dictionary<string, string?> { ["STORAGE_LAYOUT"] = layout });
        AssertOk(await writer.PostAsync("/db/execute", """
            ["CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT, pad BLOB)",
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000) INSERT INTO foo(name, pad) SELECT 'row-' || i, randomblob(1000) FROM n"]
            """, query: "db=shop"));
        var older = (await StoredVersionIdsAsync(bucket))[0];
        AssertOk(await writer.PostAsync("/db/execute", """["UPDATE foo SET name = 'renamed' WHERE id = 4321"]""", query: "db=shop"));
        const long AtLeast = 12_000 * 1000; // the random blobs alone
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var reader = new QueryRunnerInstance(moto, bucket, new Dictionary<string, string?>
        {
            ["AWS_ENDPOINT_URL"] = proxy.Url.ToString(),
            ["LAZY_READ_MIN_BYTES"] = "0",
        });
        var name = "q=" + Uri.EscapeDataString("SELECT name FROM foo WHERE id = 4321");

        var old = await reader.GetAsync("/db/query", $"db=shop&{name}&version={Uri.EscapeDataString(older)}");

        AssertOk(old);
        Assert.Equal("row-4321", FirstValue(old.Body));
        var wire = string.Join(Environment.NewLine, proxy.Exchanges);
        var ranged = proxy.Where(FaultRule.RangedGet(bucket));
        Assert.NotEmpty(ranged);
        var fetched = ranged.Sum(e => e.ResponseBytes);
        Assert.True(fetched < AtLeast / 3, $"the old version's read fetched {fetched} bytes of over {AtLeast}:{Environment.NewLine}{wire}");
        var whole = proxy.Where(r => r.Method == "GET" && r.Path == $"/{bucket}/{Key}").Except(ranged).ToList();
        Assert.True(layout == "chunked" ? whole.Count == 1 : whole.Count == 0, $"GETs of the key that are not ranged: {string.Join(", ", whole)}");
        if (layout == "whole")
        {
            Assert.All(ranged, e => Assert.Contains($"versionId={Uri.EscapeDataString(older)}", e.Request.Query, StringComparison.Ordinal));
        }

        Assert.Equal(ranged.Count, LazyReadDatabases.Metric(LazyReadDatabases.LastRequestLine(reader), "RangeReads"));
        Assert.Equal("renamed", FirstValue((await reader.GetAsync("/db/query", $"db=shop&{name}")).Body));
        Assert.Equal(404, (await reader.GetAsync("/db/query", $"db=shop&{name}&version=nosuchversion")).StatusCode);
    }

    [Fact]
    public async Task On_S3_an_old_version_over_six_megabytes_is_a_307_to_that_version_id()
    {
        var bucket = await moto.CreateVersionedBucketAsync();

        // A whole-file version is its own object, so the link names it (a chunked one links to a copy, BackupEndToEndTests).
        using var runner = new QueryRunnerInstance(moto, bucket, new Dictionary<string, string?> { ["STORAGE_LAYOUT"] = "whole" });
        AssertOk(await runner.PostAsync("/db/execute", "[\"CREATE TABLE big (b BLOB)\"" + string.Concat(Enumerable.Repeat(", \"INSERT INTO big VALUES (randomblob(1000000))\"", 7)) + "]", query: "db=shop"));
        var large = (await StoredVersionIdsAsync(bucket)).Single();
        AssertOk(await runner.PostAsync("/db/execute", """["DELETE FROM big", "VACUUM"]""", query: "db=shop"));

        var response = await runner.GetAsync("/db/backup", $"db=shop&version={Uri.EscapeDataString(large)}");

        Assert.True(response.StatusCode == 307, $"status {response.StatusCode}: {response.Body}");
        var location = new Uri(response.Header("Location")!);
        Assert.Contains("versionId=" + Uri.EscapeDataString(large), location.Query, StringComparison.Ordinal);
        using var http = new HttpClient();
        var followed = await http.GetByteArrayAsync(location);
        Assert.True(followed.Length > 6 * 1024 * 1024, $"only {followed.Length} bytes");
    }

    [Fact]
    public async Task On_the_local_server_over_http_as_of_versions_and_restore_work_on_the_folder()
    {
        await using var server = await LocalServerHandle.StartAsync();
        await server.PostAsync("/db/execute?db=shop", First);
        await Task.Delay(50);
        var between = DateTimeOffset.UtcNow;
        await Task.Delay(50);
        await server.PostAsync("/db/execute?db=shop", Second);

        Assert.Equal("fiona", FirstValue(await server.Http.GetStringAsync($"/db/query?db=shop&{Names}&as_of={Rfc3339(between)}")));

        var ids = Ids(await server.Http.GetStringAsync("/db/versions?db=shop"));
        Assert.Equal(2, ids.Count);
        var folder = new ServerlessDb.Storage.LocalFolder.LocalFolderObjectBackend(server.DataDirectory);
        int KeptVersions() => folder.ListVersionsAsync(new ServerlessDb.Storage.VersionListRequest("shop.sqlite"), CancellationToken.None).GetAwaiter().GetResult()
            .Versions.Count(v => v.Key == "shop.sqlite" && !v.IsLatest);
        Assert.Equal((await folder.HeadAsync("shop.sqlite", ServerlessDb.Storage.ObjectSelector.Current, CancellationToken.None))!.VersionId, ids[0]);
        Assert.Equal(1, KeptVersions());

        // A write with version= is a 400: the file and the kept versions are as they were.
        var before = await File.ReadAllBytesAsync(Path.Combine(server.DataDirectory, "shop.sqlite"));
        using (var write = await server.Http.PostAsync($"/db/request?db=shop&version={ids[1]}", new StringContent("""["INSERT INTO foo(name) VALUES ('x')"]""")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, write.StatusCode);
        }

        Assert.Equal(before, await File.ReadAllBytesAsync(Path.Combine(server.DataDirectory, "shop.sqlite")));
        Assert.Equal(1, KeptVersions());

        var restored = await server.PostAsync($"/db/restore?db=shop&version={ids[1]}", "");
        Assert.Equal(ids[1], JsonDocument.Parse(restored).RootElement.GetProperty("restored").GetString());
        Assert.Equal("fiona", FirstValue(await server.Http.GetStringAsync($"/db/query?db=shop&{Names}")));
        await server.PostAsync($"/db/restore?db=shop&version={ids[0]}", "");
        Assert.Equal("fiona,declan", FirstValue(await server.Http.GetStringAsync($"/db/query?db=shop&{Names}")));
        Assert.Equal(3, KeptVersions());

        using var backup = await server.Http.GetAsync($"/db/backup?db=shop&version={ids[1]}&fmt=sql");
        Assert.EndsWith("INSERT INTO \"foo\" VALUES(1,'fiona');\nCOMMIT;\n", await backup.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
