using System.Net;
using System.Text.Json;
using Amazon.S3.Model;
using ServerlessDb.IntegrationTests.Infrastructure;
using ServerlessDb.IntegrationTests.LocalServer;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// <c>GET /db/databases</c> end to end: through the real QueryRunner handler on moto (S3's listing, with keys
/// in the bucket that are not databases) and through the local server over HTTP.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class DatabasesEndToEndTests(MotoServerFixture moto)
{
    private const string CreateTable = """["CREATE TABLE t (a)", "INSERT INTO t VALUES (1)"]""";

    private static List<string?> Names(JsonElement page) =>
        page.GetProperty("databases").EnumerateArray().Select(d => d.GetProperty("name").GetString()).ToList();

    [Fact]
    public async Task The_lambda_lists_the_databases_in_the_bucket_a_page_at_a_time()
    {
        var bucket = await moto.CreateBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket);
        foreach (var database in new[] { "shop", "accounts", "users" })
        {
            var created = await runner.PostAsync("/db/execute", CreateTable, query: "db=" + database);
            Assert.True(created.StatusCode == 200, created.Body);
        }

        // Not databases: another file under the prefix, a key in a folder below it, and a key outside it.
        foreach (var key in new[] { "databases/notes.txt", "databases/archive/old.sqlite", "elsewhere.sqlite" })
        {
            await moto.S3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = "x" });
        }

        var first = await runner.GetAsync("/db/databases", "limit=2");
        Assert.True(first.StatusCode == 200, first.Body);
        var firstPage = JsonDocument.Parse(first.Body).RootElement;
        Assert.Equal(["accounts", "shop"], Names(firstPage));
        Assert.Equal("shop", firstPage.GetProperty("next").GetString());

        var second = JsonDocument.Parse((await runner.GetAsync("/db/databases", "limit=2&next=shop")).Body).RootElement;
        Assert.Equal(["users"], Names(second));
        Assert.False(second.TryGetProperty("next", out _));

        var stored = await moto.S3.GetObjectMetadataAsync(bucket, "databases/shop.sqlite");
        var shop = firstPage.GetProperty("databases")[1];
        Assert.Equal(stored.ContentLength, shop.GetProperty("size").GetInt64());
        Assert.Equal(
            new DateTimeOffset(DateTime.SpecifyKind(stored.LastModified!.Value, DateTimeKind.Utc)).ToUniversalTime(),
            DateTimeOffset.Parse(shop.GetProperty("last_modified").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task The_lambda_refuses_a_bad_page_token_and_lists_nothing_for_an_empty_bucket()
    {
        var bucket = await moto.CreateBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket);

        var empty = await runner.GetAsync("/db/databases");
        Assert.Equal(200, empty.StatusCode);
        Assert.Equal("""{"databases":[]}""", empty.Body);

        var bad = await runner.GetAsync("/db/databases", "next=a%2Fb");
        Assert.Equal(400, bad.StatusCode);
        Assert.StartsWith("invalid next 'a/b'", bad.Body);
    }

    [Fact]
    public async Task The_local_server_lists_its_data_folder_over_http()
    {
        await using var server = await LocalServerHandle.StartAsync();
        await server.PostAsync("/db/execute?db=b", CreateTable);
        await server.PostAsync("/db/execute?db=a", CreateTable);
        await File.WriteAllTextAsync(Path.Combine(server.DataDirectory, "notes.txt"), "not a database");

        using var response = await server.Http.GetAsync("/db/databases");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["a", "b"], Names(page));
        Assert.Equal(new FileInfo(Path.Combine(server.DataDirectory, "a.sqlite")).Length, page.GetProperty("databases")[0].GetProperty("size").GetInt64());
    }
}
