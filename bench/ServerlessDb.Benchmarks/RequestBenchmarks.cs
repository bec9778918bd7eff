using System.Text;
using BenchmarkDotNet.Attributes;
using ServerlessDb.Api;
using ServerlessDb.Configuration;
using ServerlessDb.Hosting;
using ServerlessDb.Logging;

namespace ServerlessDb.Benchmarks;

/// <summary>
/// Whole requests through the real API and engine over the local folder store (local mode): the
/// service's own cost per request, without S3's round trips. A write copies the database, runs, and
/// commits a new version, so its cost grows with the database (10,000 rows, about 400 KB here).
/// </summary>
[MemoryDiagnoser]
public class RequestBenchmarks
{
    private static readonly Dictionary<string, string> NoQuery = [];
    private static readonly Dictionary<string, string> Json = new(StringComparer.OrdinalIgnoreCase) { ["Content-Type"] = "application/json" };

    private string _root = null!;
    private IApiHandler _api = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _root = Directory.CreateTempSubdirectory("serverlessdb-bench-requests-").FullName;
        var environment = new DictionaryEnvironment(new Dictionary<string, string?> { ["CACHE_DIR"] = Path.Combine(_root, "cache") });
        _api = CompositionRoot.CreateLocalMode(environment, Path.Combine(_root, "data"), TimeProvider.System, new NullLogSink()).Handler;
        Send("/db/execute", """["CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, age INTEGER, score REAL)", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 10000) INSERT INTO users(name, age, score) SELECT 'user-' || x, x % 90, x * 0.5 FROM c"]""");
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    [Benchmark]
    public int ReadOneRowById() => Send("/db/query", """["SELECT * FROM users WHERE id = 4242"]""");

    [Benchmark]
    public int ReadHundredRows() => Send("/db/query", """["SELECT * FROM users WHERE age = 42 LIMIT 100"]""");

    [Benchmark]
    public int WriteOneRow() => Send("/db/execute", $$"""[["UPDATE users SET score = ? WHERE id = ?", {{_next++}}, {{1 + (_next % 10000)}}]]""");

    /// <summary>A write with a new Idempotency-Key each time: the statement plus its recorded answer, one commit.</summary>
    [Benchmark]
    public int WriteOneRowWithIdempotencyKey()
    {
        var n = _next++;
        return Send("/db/execute", $$"""[["UPDATE users SET score = ? WHERE id = ?", {{n}}, {{1 + (n % 10000)}}]]""", $"bench-{n}");
    }

    /// <summary>A retry of a write that already committed: the recorded answer, no lock, no commit.</summary>
    [Benchmark]
    public int ReplayAKeyedWrite() => Send("/db/execute", """[["UPDATE users SET score = 0 WHERE id = 1"]]""", "bench-replayed");

    private int Send(string path, string body, string? idempotencyKey = null)
    {
        var headers = idempotencyKey is null
            ? Json
            : new Dictionary<string, string>(Json, StringComparer.OrdinalIgnoreCase) { [ServerlessDbApi.IdempotencyKeyHeader] = idempotencyKey };
        var request = new ApiRequest("POST", path, NoQuery, headers, Encoding.UTF8.GetBytes(body), "bench");
        var response = _api.HandleAsync(request, CancellationToken.None).GetAwaiter().GetResult();
        return response.StatusCode == 200 ? response.Body.Length : throw new InvalidOperationException($"{response.StatusCode}: {response.Body}");
    }

    private sealed class NullLogSink : ILogSink
    {
        public void Write(string jsonLine)
        {
        }
    }
}
