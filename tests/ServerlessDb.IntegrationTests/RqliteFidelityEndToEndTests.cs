using System.Text.Json;
using System.Text.RegularExpressions;
using ServerlessDb.IntegrationTests.Infrastructure;
using ServerlessDb.IntegrationTests.LocalServer;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// rqlite's reading of dates, double-quoted string literals, plain-decimal timings and /status, through
/// the real QueryRunner handler on S3 (moto) and through the local server over HTTP.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed partial class RqliteFidelityEndToEndTests(MotoServerFixture moto)
{
    private const string Setup = """
        ["CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT, born DATETIME)",
         "INSERT INTO foo(name, born) VALUES(\"fiona\", \"2021-10-22 19:39:32.016087\")",
         ["INSERT INTO foo(name, born) VALUES(?, ?)", "declan", 1136214245]]
        """;

    private const string Expected = """{"results":[{"columns":["id","name","born"],"types":["integer","text","datetime"],"values":[[1,"fiona","2021-10-22T19:39:32.016087Z"],[2,"declan","2006-01-02T15:04:05Z"]]}]}""";

    [Fact]
    public async Task Through_the_lambda_handler_dates_round_trip_as_rqlite_returns_them_and_double_quotes_are_strings()
    {
        using var runner = new QueryRunnerInstance(moto, await moto.CreateBucketAsync());

        var created = await runner.PostAsync("/db/execute", Setup);
        Assert.Equal("""{"results":[{},{"last_insert_id":1,"rows_affected":1},{"last_insert_id":2,"rows_affected":1}]}""", created.Body);

        // A double-quoted read is classified read-only (the read path), as it runs.
        var query = await runner.PostAsync("/db/query", """["SELECT * FROM foo WHERE name = \"fiona\" OR name = \"declan\" ORDER BY id"]""");
        Assert.Equal(Expected, query.Body);
        var mixed = await runner.PostAsync("/db/request", """["SELECT * FROM foo ORDER BY id"]""");
        Assert.Equal(Expected, mixed.Body);
    }

    [Fact]
    public async Task Through_the_lambda_handler_timings_are_plain_decimals()
    {
        using var runner = new QueryRunnerInstance(moto, await moto.CreateBucketAsync());
        await runner.PostAsync("/db/execute", Setup);

        var timed = await runner.PostAsync("/db/query", """["SELECT name FROM foo", "SELECT 1"]""", query: "timings");
        var times = TimePattern().Matches(timed.Body).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(3, times.Count);
        Assert.All(times, time => Assert.Matches(@"\A0\.[0-9]+\z", time));
        Assert.DoesNotContain("E", timed.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Through_the_local_server_dates_double_quotes_timings_and_status_are_rqlites()
    {
        await using var server = await LocalServerHandle.StartAsync();

        await server.PostAsync("/db/execute", Setup);
        Assert.Equal(Expected, await server.PostAsync("/db/query", """["SELECT * FROM foo ORDER BY id"]"""));
        var timed = await server.PostAsync("/db/request?timings", """["INSERT INTO foo(name) VALUES(\"eve\")", "SELECT name FROM foo WHERE id = 3"]""");
        Assert.Contains("\"values\":[[\"eve\"]]", timed);
        Assert.All(TimePattern().Matches(timed), m => Assert.Matches(@"\A0\.[0-9]+\z", m.Groups[1].Value));

        using var status = JsonDocument.Parse(await server.Http.GetStringAsync("/status"));
        var node = status.RootElement.GetProperty("node");
        Assert.Matches(@"\A([0-9]+h)?([0-9]+m)?[0-9.]+(s|ms|µs|ns)\z", node.GetProperty("uptime").GetString());
        Assert.Matches(@"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z\z", node.GetProperty("start_time").GetString());
        Assert.Equal("Leader", status.RootElement.GetProperty("store").GetProperty("raft").GetProperty("state").GetString());
        Assert.Equal("v8.0.0", status.RootElement.GetProperty("build").GetProperty("version").GetString());
    }

    [GeneratedRegex(@"""time"":([^,}]+)")]
    private static partial Regex TimePattern();
}
