using System.Text.Json;
using Microsoft.Data.Sqlite;
using ServerlessDb.IntegrationTests.Infrastructure;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// The QueryRunner end to end: API Gateway event JSON into the real handler, S3 on moto_server.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class QueryRunnerEndToEndTests(MotoServerFixture moto)
{
    private const string Key = "databases/default.sqlite";

    private async Task<string> ETagAsync(string bucket) =>
        (await moto.S3.GetObjectMetadataAsync(bucket, Key)).ETag;

    private static JsonElement Results(LambdaResponse response)
    {
        Assert.True(response.StatusCode == 200, $"status {response.StatusCode}: {response.Body}");
        return JsonDocument.Parse(response.Body).RootElement.GetProperty("results");
    }

    [Fact]
    public async Task Create_insert_select_round_trip_through_both_payload_versions()
    {
        var bucket = await moto.CreateBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket);

        var created = await runner.PostAsync("/db/execute", """["CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT, age INTEGER)", ["INSERT INTO foo(name, age) VALUES(?, ?)", "fiona", 20]]""");
        Assert.Equal("""{"results":[{},{"last_insert_id":1,"rows_affected":1}]}""", created.Body);
        Assert.Equal("v8.0.0", created.Header("X-RQLITE-VERSION"));

        var v2 = await runner.GetAsync("/db/query", "q=SELECT%20*%20FROM%20foo");
        Assert.Equal("""{"results":[{"columns":["id","name","age"],"types":["integer","text","integer"],"values":[[1,"fiona",20]]}]}""", v2.Body);

        var v1 = await runner.InvokeAsync(ApiGatewayEvents.RestApiV1(
            "POST", "/db/query", body: """["SELECT name FROM foo"]""", headers: new Dictionary<string, string> { ["Content-Type"] = "application/json" }));
        Assert.Equal(200, v1.StatusCode);
        Assert.Equal("""{"results":[{"columns":["name"],"types":["text"],"values":[["fiona"]]}]}""", v1.Body);
    }

    [Fact]
    public async Task The_stored_object_is_a_complete_sqlite_database_at_the_documented_key()
    {
        var bucket = await moto.CreateBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket);
        Results(await runner.PostAsync("/db/execute", """["CREATE TABLE t(a)", "INSERT INTO t VALUES ('stored')"]""", query: "db=inventory"));

        var file = Path.GetTempFileName();
        try
        {
            using (var response = await moto.S3.GetObjectAsync(bucket, "databases/inventory.sqlite"))
            {
                await response.WriteResponseStreamToFileAsync(file, append: false, CancellationToken.None);
            }

            using var connection = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = new SqliteCommand("SELECT a FROM t", connection);
            Assert.Equal("stored", command.ExecuteScalar());
            using var check = new SqliteCommand("PRAGMA integrity_check", connection);
            Assert.Equal("ok", check.ExecuteScalar());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_delete_is_persisted_and_a_fresh_container_sees_it()
    {
        var bucket = await moto.CreateBucketAsync();
        using (var writer = new QueryRunnerInstance(moto, bucket))
        {
            Results(await writer.PostAsync("/db/execute", """["CREATE TABLE t(a)", "INSERT INTO t VALUES (1), (2), (3)"]"""));
            var deleted = Results(await writer.PostAsync("/db/execute", """["DELETE FROM t WHERE a >= 2"]"""));
            Assert.Equal(2, deleted[0].GetProperty("rows_affected").GetInt32());
        }

        using var cold = new QueryRunnerInstance(moto, bucket);
        var remaining = Results(await cold.GetAsync("/db/query", "q=SELECT%20a%20FROM%20t"));
        Assert.Equal("[[1]]", remaining[0].GetProperty("values").GetRawText());
    }

    [Fact]
    public async Task A_warm_reader_sees_another_containers_committed_write()
    {
        var bucket = await moto.CreateBucketAsync();
        using var reader = new QueryRunnerInstance(moto, bucket);
        using var writer = new QueryRunnerInstance(moto, bucket);
        Results(await writer.PostAsync("/db/execute", """["CREATE TABLE t(a)", "INSERT INTO t VALUES ('first')"]"""));
        Assert.Equal("[[\"first\"]]", Results(await reader.GetAsync("/db/query", "q=SELECT%20a%20FROM%20t"))[0].GetProperty("values").GetRawText());

        Results(await writer.PostAsync("/db/execute", """["UPDATE t SET a = 'second'"]"""));

        Assert.Equal("[[\"second\"]]", Results(await reader.GetAsync("/db/query", "q=SELECT%20a%20FROM%20t"))[0].GetProperty("values").GetRawText());
    }

    [Fact]
    public async Task A_syntax_error_and_a_failing_transaction_leave_the_object_unchanged()
    {
        var bucket = await moto.CreateBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket);
        Results(await runner.PostAsync("/db/execute", """["CREATE TABLE t(id INTEGER PRIMARY KEY)", "INSERT INTO t VALUES (1)"]"""));
        var before = await ETagAsync(bucket);

        var syntax = Results(await runner.PostAsync("/db/execute", """["INSERT INTO t VALUES (2", "DELET FROM t"]"""));
        Assert.Equal("incomplete input", syntax[0].GetProperty("error").GetString());
        Assert.Equal("near \"DELET\": syntax error", syntax[1].GetProperty("error").GetString());
        Assert.Equal(before, await ETagAsync(bucket));

        var transaction = Results(await runner.PostAsync("/db/execute", """["INSERT INTO t VALUES (2)", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (3)"]""", query: "transaction"));
        Assert.Equal(2, transaction.GetArrayLength());
        Assert.Equal("UNIQUE constraint failed: t.id", transaction[1].GetProperty("error").GetString());
        Assert.Equal(before, await ETagAsync(bucket));

        var count = Results(await runner.GetAsync("/db/query", "q=SELECT%20COUNT(*)%20FROM%20t"));
        Assert.Equal("[[1]]", count[0].GetProperty("values").GetRawText());
    }

    [Fact]
    public async Task A_refused_statement_is_400_and_leaves_the_object_unchanged()
    {
        var bucket = await moto.CreateBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket);
        Results(await runner.PostAsync("/db/execute", """["CREATE TABLE t(a)"]"""));
        var before = await ETagAsync(bucket);

        var response = await runner.PostAsync("/db/request", """["INSERT INTO t VALUES (1)", "ATTACH DATABASE '/tmp/other.sqlite' AS other"]""");

        Assert.Equal(400, response.StatusCode);
        Assert.Contains("ATTACH", response.Body);
        Assert.Equal(before, await ETagAsync(bucket));
    }

    [Fact]
    public async Task Concurrent_writers_in_separate_containers_lose_no_update()
    {
        const int writers = 20;
        var bucket = await moto.CreateBucketAsync();
        using (var setup = new QueryRunnerInstance(moto, bucket))
        {
            Results(await setup.PostAsync("/db/execute", """["CREATE TABLE counter(n INTEGER)", "INSERT INTO counter VALUES (0)"]"""));
        }

        var containers = Enumerable.Range(0, writers).Select(_ => new QueryRunnerInstance(moto, bucket)).ToList();
        try
        {
            using var start = new SemaphoreSlim(0);
            var answers = containers.Select(async container =>
            {
                await start.WaitAsync();
                return await container.PostAsync("/db/execute", """["UPDATE counter SET n = n + 1"]""");
            }).ToList();
            start.Release(writers);
            var responses = await Task.WhenAll(answers);

            var succeeded = responses.Count(r => r.StatusCode == 200);
            Assert.All(responses.Where(r => r.StatusCode != 200), r => Assert.True(r.StatusCode == 409, $"status {r.StatusCode}: {r.Body}"));
            Assert.True(succeeded > writers / 2, $"only {succeeded} of {writers} writers succeeded within the retry budget");

            var count = Results(await containers[0].GetAsync("/db/query", "q=SELECT%20n%20FROM%20counter"));
            Assert.Equal(succeeded, count[0].GetProperty("values")[0][0].GetInt32());
        }
        finally
        {
            containers.ForEach(c => c.Dispose());
        }
    }
}
