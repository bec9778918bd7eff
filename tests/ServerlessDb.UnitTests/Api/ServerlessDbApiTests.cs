using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Moq;
using ServerlessDb.Api;
using ServerlessDb.Domain;
using ServerlessDb.Errors;
using ServerlessDb.Locking;
using ServerlessDb.Locking.Local;
using ServerlessDb.Protocol;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Api;

public sealed class ServerlessDbApiTests : IDisposable
{
    private readonly ApiHarness _api = new();

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task Execute_then_query_round_trips_with_rqlites_shapes()
    {
        var created = await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT, age INTEGER)", ["INSERT INTO foo(name, age) VALUES(?, ?)", "fiona", 20], ["INSERT INTO foo(name, age) VALUES(:name, :age)", {"name": "declan", "age": 30}]]""");
        Assert.Equal(200, created.StatusCode);
        Assert.Equal("""{"results":[{},{"last_insert_id":1,"rows_affected":1},{"last_insert_id":2,"rows_affected":1}]}""", created.Body);
        Assert.Equal(ApiResponse.JsonContentType, created.ContentType);
        Assert.Equal(StatusDocuments.RqliteVersion, created.Headers["X-RQLITE-VERSION"]);

        var queried = await _api.SendAsync("GET", "/db/query", query: "q=" + Uri.EscapeDataString("SELECT name, age FROM foo ORDER BY id"));
        Assert.Equal("""{"results":[{"columns":["name","age"],"types":["text","integer"],"values":[["fiona",20],["declan",30]]}]}""", queried.Body);
    }

    [Fact]
    public async Task Associative_request_results_are_objects()
    {
        await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)"]""");
        var response = await _api.SendAsync("POST", "/db/request", """["INSERT INTO foo(name) VALUES('fiona')", "SELECT * FROM foo"]""", query: "associative");
        Assert.Equal("""{"results":[{"last_insert_id":1,"rows_affected":1,"rows":null},{"types":{"id":"integer","name":"text"},"rows":[{"id":1,"name":"fiona"}]}]}""", response.Body);
    }

    [Fact]
    public async Task Timings_add_a_total_time()
    {
        var response = await _api.SendAsync("POST", "/db/query", """["SELECT 1"]""", query: "timings");
        using var json = JsonDocument.Parse(response.Body);
        Assert.True(json.RootElement.GetProperty("time").GetDouble() > 0);
        Assert.True(json.RootElement.GetProperty("results")[0].GetProperty("time").GetDouble() > 0);
    }

    [Fact]
    public async Task Plain_text_bodies_are_one_statement_and_sql_splits_a_script()
    {
        var executed = await _api.SendAsync("POST", "/db/execute", "CREATE TABLE t(a)", contentType: "text/plain");
        Assert.Equal("""{"results":[{}]}""", executed.Body);
        var script = await _api.SendAsync("POST", "/sql", "INSERT INTO t VALUES ('x;y'); SELECT a FROM t;", contentType: "text/plain");
        Assert.Equal("""{"results":[{"last_insert_id":1,"rows_affected":1},{"columns":["a"],"types":["text"],"values":[["x;y"]]}]}""", script.Body);
    }

    [Fact]
    public async Task Db_selects_the_database()
    {
        await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE t(a)"]""", query: "db=orders");
        Assert.NotNull(_api.Store.CurrentETag("orders"));
        Assert.Null(_api.Store.CurrentETag("default"));
    }

    [Theory]
    [InlineData("POST", "/db/execute", "not json", "invalid JSON body")]
    [InlineData("POST", "/db/execute", "{\"a\": 1}", "invalid request")]
    [InlineData("POST", "/db/execute", "[]", "no statements")]
    [InlineData("POST", "/db/request", "[[\"SELECT ?\", {\"a\": {\"b\": 1}}]]", "unsupported type for parameter")]
    [InlineData("GET", "/db/query", null, "missing q parameter")]
    public async Task Malformed_requests_are_400_with_a_plain_message(string method, string path, string? body, string message)
    {
        var response = await _api.SendAsync(method, path, body);
        Assert.Equal(400, response.StatusCode);
        Assert.Equal(ApiResponse.TextContentType, response.ContentType);
        Assert.StartsWith(message, response.Body);
    }

    [Theory]
    [InlineData("db=../../etc")]
    [InlineData("level=eventual")]
    public async Task Bad_flags_are_400(string query) =>
        Assert.Equal(400, (await _api.SendAsync("POST", "/db/query", """["SELECT 1"]""", query: query)).StatusCode);

    [Theory]
    [InlineData("ATTACH DATABASE '/tmp/x' AS x")]
    [InlineData("SELECT load_extension('/tmp/x.so')")]
    [InlineData("BEGIN")]
    [InlineData("PRAGMA journal_mode=WAL")]
    public async Task Dangerous_statements_are_400_and_change_nothing(string sql)
    {
        await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE t(a)"]""");
        var before = _api.Store.CurrentETag("default");
        var response = await _api.SendAsync("POST", "/db/request", JsonSerializer.Serialize(new[] { "INSERT INTO t VALUES (1)", sql }));
        Assert.Equal(400, response.StatusCode);
        Assert.Equal(before, _api.Store.CurrentETag("default"));
    }

    [Fact]
    public async Task An_oversized_request_is_413()
    {
        using var api = new ApiHarness(maxRequestBytes: 1024);
        var response = await api.SendAsync("POST", "/db/execute", JsonSerializer.Serialize(new[] { "SELECT '" + new string('x', 2000) + "'" }));
        Assert.Equal(413, response.StatusCode);
        Assert.StartsWith("request too large", response.Body);
    }

    [Fact]
    public async Task An_oversized_result_is_413()
    {
        using var api = new ApiHarness(maxResultBytes: 4096);
        var response = await api.SendAsync("POST", "/db/query", """["WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 10000) SELECT x FROM c"]""");
        Assert.Equal(413, response.StatusCode);
        Assert.StartsWith("result too large", response.Body);
    }

    [Fact]
    public async Task A_conflict_that_outlasts_the_retries_is_409()
    {
        _api.Store.BeforeCommit = _ => throw new WriteConflictException("someone else committed first");
        var response = await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE t(a)"]""");
        Assert.Equal(409, response.StatusCode);
    }

    [Fact]
    public async Task Storage_unavailable_is_503_with_retry_after()
    {
        _api.Store.BeforeCommit = _ => throw new StorageUnavailableException("S3 did not answer");
        var response = await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE t(a)"]""");
        Assert.Equal(503, response.StatusCode);
        Assert.Equal("1", response.Headers["Retry-After"]);
    }

    [Fact]
    public async Task Lock_not_acquired_is_503_with_the_locks_retry_after()
    {
        var databaseLock = new Mock<IDatabaseLock>();
        databaseLock.Setup(l => l.AcquireAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new LockUnavailableException("lock held by another writer for 20s", TimeSpan.FromSeconds(3)));
        using var api = new ApiHarness(databaseLock: databaseLock.Object);
        var response = await api.SendAsync("POST", "/db/execute", """["CREATE TABLE t(a)"]""");
        Assert.Equal(503, response.StatusCode);
        Assert.Equal("3", response.Headers["Retry-After"]);
        Assert.StartsWith("lock held", response.Body);
    }

    [Fact]
    public async Task A_bug_is_a_500_with_a_generic_message_and_an_error_log_line()
    {
        _api.Store.BeforeCommit = _ => throw new InvalidOperationException("boom");
        var response = await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE t(a)"]""");
        Assert.Equal(500, response.StatusCode);
        Assert.Equal("internal error\n", response.Body);
        var line = _api.Log.Lines.Last();
        Assert.Contains("\"level\":\"error\"", line);
        Assert.Contains("boom", line);
    }

    [Fact]
    public async Task A_request_past_its_deadline_is_503_and_says_so()
    {
        using var api = new ApiHarness(requestTimeout: TimeSpan.FromMilliseconds(200));
        api.Store.ReadDelay = TimeSpan.FromSeconds(30);
        var started = Stopwatch.StartNew();
        var response = await api.SendAsync("POST", "/db/query", """["SELECT 1"]""");
        Assert.Equal(503, response.StatusCode);
        Assert.StartsWith("request timed out after 0.2s", response.Body);
        // Real time on purpose: the request's timeout is a CancelAfter, on the system clock; 10 s only tells "answered" from "waited out the 30 s read".
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"answered after {started.Elapsed}");
    }

    [Fact]
    public async Task A_phase_that_blocks_without_looking_at_the_deadline_is_still_answered_in_time_and_says_the_write_may_have_landed()
    {
        var writeFinished = new ReleaseSignal(new NoOpDatabaseLock(TimeProvider.System));
        using var api = new ApiHarness(requestTimeout: TimeSpan.FromSeconds(3), databaseLock: writeFinished);
        await api.SendAsync("POST", "/db/execute", """["CREATE TABLE t(a)"]""");
        using var release = new ManualResetEventSlim();
        api.Store.BeforeCommit = _ => release.Wait(TimeSpan.FromSeconds(30));
        writeFinished.Arm();
        var started = Stopwatch.StartNew();

        var response = await api.SendAsync("POST", "/db/execute", """["INSERT INTO t VALUES (1)"]""");
        var answeredAfter = started.Elapsed;

        release.Set();
        await writeFinished.Released.WaitAsync(TimeSpan.FromSeconds(30)); // the abandoned write ends before the harness goes
        Assert.True(response.StatusCode == 503, $"{response.StatusCode}: {response.Body} {string.Join("\n", api.Log.Lines)}");
        Assert.Contains("may have been committed", response.Body);
        Assert.Contains("\"level\":\"warn\"", api.Log.Lines.Last());
        // Real time on purpose: the commit really blocks; 10 s only tells "answered near the 3 s timeout" from "waited for the 30 s block".
        Assert.True(answeredAfter < TimeSpan.FromSeconds(10), $"answered after {answeredAfter}");
    }

    [Theory]
    [InlineData("GET", "/db/execute", 405)]
    [InlineData("PUT", "/db/query", 405)]
    [InlineData("DELETE", "/status", 405)]
    [InlineData("POST", "/nope", 404)]
    [InlineData("GET", "/db", 404)]
    public async Task Unknown_routes_are_404_and_wrong_methods_405(string method, string path, int status)
    {
        var response = await _api.SendAsync(method, path, "[\"SELECT 1\"]");
        Assert.Equal(status, response.StatusCode);
        if (status == 405)
        {
            Assert.Contains(method == "DELETE" ? "GET" : "POST", response.Headers["Allow"]);
        }
    }

    [Fact]
    public async Task Options_answers_cors_preflight()
    {
        var response = await _api.SendAsync("OPTIONS", "/db/execute");
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("*", response.Headers["Access-Control-Allow-Origin"]);
        Assert.Contains("POST", response.Headers["Access-Control-Allow-Methods"]);
    }

    [Fact]
    public async Task Status_answers_as_a_healthy_leader()
    {
        var status = await _api.SendAsync("GET", "/status");
        using var json = JsonDocument.Parse(status.Body);
        Assert.Equal("db.example.com", json.RootElement.GetProperty("store").GetProperty("leader").GetProperty("addr").GetString());
    }

    // rqlite's handleReadyz writes these bytes with no final newline; Go sniffs their content type.
    [Theory]
    [InlineData(null, "[+]node ok\n[+]leader ok\n[+]store ok")]
    [InlineData("noleader", "[+]node ok")]
    [InlineData("sync", "[+]node ok\n[+]leader ok\n[+]store ok\n[+]sync ok")]
    [InlineData("noleader&sync", "[+]node ok")]
    [InlineData("timeout=2s&sync", "[+]node ok\n[+]leader ok\n[+]store ok\n[+]sync ok")]
    public async Task Readyz_answers_rqlites_bytes_for_a_ready_node(string? query, string body)
    {
        var ready = await _api.SendAsync("GET", "/readyz", query: query);

        Assert.Equal(200, ready.StatusCode);
        Assert.Equal("text/plain; charset=utf-8", ready.ContentType);
        Assert.Equal(Encoding.UTF8.GetBytes(body), Encoding.UTF8.GetBytes(ready.Body));
        Assert.Equal("v8.0.0", ready.Headers["X-RQLITE-VERSION"]);
    }

    [Fact]
    public async Task Every_request_logs_one_structured_line_with_phase_timings()
    {
        await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE t(a)"]""");
        var line = Assert.Single(_api.Log.Lines);
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("request", root.GetProperty("message").GetString());
        Assert.Equal(200, root.GetProperty("status").GetInt32());
        Assert.Equal("write", root.GetProperty("route").GetString());
        Assert.True(root.GetProperty("committed").GetBoolean());
        var phases = root.GetProperty("phasesMs");
        foreach (var phase in new[] { "classify", "fetch", "lock", "execute", "upload" })
        {
            Assert.True(phases.TryGetProperty(phase, out _), $"missing phase {phase}");
        }
    }

    [Theory]
    [InlineData("GET", "/db/query", null, "q=SELECT%201%00", "application/json")]
    [InlineData("POST", "/db/query", "[\"SELECT 1\\u0000\"]", null, "application/json")]
    [InlineData("POST", "/db/execute", "SELECT 1\0", null, "text/plain")]
    [InlineData("POST", "/sql", "CREATE TABLE t(a);\0", null, "text/plain")]
    public async Task Sql_with_a_nul_character_is_that_statements_error_in_a_200_and_answers_at_once(string method, string path, string? body, string? query, string contentType)
    {
        var response = await _api.SendAsync(method, path, body, query, contentType).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(200, response.StatusCode);
        var results = JsonDocument.Parse(response.Body).RootElement.GetProperty("results");
        Assert.Equal(RequestMessages.NulInSql, results[results.GetArrayLength() - 1].GetProperty("error").GetString());
    }

    [Fact]
    public async Task Without_transaction_the_statements_around_a_nul_stand_alone_as_in_rqlite()
    {
        await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE t(a)"]""");

        var response = await _api.SendAsync("POST", "/db/execute", """["INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)\u0000", "INSERT INTO t VALUES (3)"]""");

        Assert.Equal(200, response.StatusCode);
        Assert.Equal($$"""{"results":[{"last_insert_id":1,"rows_affected":1},{"error":"{{RequestMessages.NulInSql}}"},{"last_insert_id":2,"rows_affected":1}]}""", response.Body);
        Assert.Equal("""{"results":[{"columns":["a"],"types":["integer"],"values":[[1],[3]]}]}""", (await _api.SendAsync("GET", "/db/query", null, "q=SELECT%20a%20FROM%20t")).Body);
    }

    [Fact]
    public async Task With_transaction_a_nul_rolls_the_whole_request_back_as_in_rqlite()
    {
        await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE t(a)"]""");

        var response = await _api.SendAsync("POST", "/db/execute", """["INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)\u0000", "INSERT INTO t VALUES (3)"]""", "transaction");

        Assert.Equal(200, response.StatusCode);
        Assert.Contains(RequestMessages.NulInSql, response.Body, StringComparison.Ordinal);
        Assert.Equal("""{"results":[{"columns":["a"],"types":[""]}]}""", (await _api.SendAsync("GET", "/db/query", null, "q=SELECT%20a%20FROM%20t")).Body);
    }

    [Theory]
    [InlineData("POST", "/db/query", "[\"SELECT '\\ud800'\"]", null)]
    [InlineData("POST", "/db/execute", "[[\"SELECT ?\", \"\\ud800\"]]", null)]
    [InlineData("POST", "/db/execute", "[[\"SELECT :a\", {\"\\udc00\": 1}]]", null)]
    [InlineData("POST", "/db/query", "[[\"SELECT ?\", 1e400]]", null)]
    [InlineData("GET", "/db/query", null, "q=SELECT%201&db_timeout=99999999999999")]
    [InlineData("GET", "/db/query", null, "q=SELECT%201&level=none&freshness=99999999999999")]
    public async Task Hostile_strings_numbers_and_durations_are_400_not_500(string method, string path, string? body, string? query)
    {
        var response = await _api.SendAsync(method, path, body, query);

        Assert.True(response.StatusCode == 400, $"{response.StatusCode}: {response.Body}");
        Assert.NotEqual(ErrorResponses.InternalError + "\n", response.Body);
    }

    /// <summary>A lock that signals when a lease is released: the last thing a write does.</summary>
    private sealed class ReleaseSignal(IDatabaseLock inner) : IDatabaseLock
    {
        private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Released => _released.Task;

        public void Arm() => _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<LockLease> AcquireAsync(string database, string holder, CancellationToken cancellationToken) =>
            inner.AcquireAsync(database, holder, cancellationToken);

        public async Task ReleaseAsync(LockLease lease, CancellationToken cancellationToken)
        {
            await inner.ReleaseAsync(lease, cancellationToken);
            _released.TrySetResult();
        }
    }
}
