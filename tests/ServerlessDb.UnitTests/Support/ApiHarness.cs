using System.Text;
using ServerlessDb.Api;
using ServerlessDb.Engine;
using ServerlessDb.Locking;

namespace ServerlessDb.UnitTests.Support;

/// <summary>The real API over the real engine and a versioned test store.</summary>
public sealed class ApiHarness : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("serverlessdb-api-").FullName;

    public ApiHarness(int maxRequestBytes = 1 << 20, int maxResultBytes = 1 << 20, TimeSpan? requestTimeout = null, IDatabaseLock? databaseLock = null)
    {
        var engine = new QueryEngine(Store, databaseLock ?? new NoOpDatabaseLock(TimeProvider.System), new WorkingCopies(_cache), new EngineOptions(5, maxResultBytes, false), TimeProvider.System, Log);
        Api = new ServerlessDbApi(engine, new ApiOptions(requestTimeout ?? TimeSpan.FromSeconds(30), maxRequestBytes, maxResultBytes, 100), TimeProvider.System, Log);
    }

    public VersionedTestStore Store { get; } = new();

    public RecordingLogSink Log { get; } = new();

    public ServerlessDbApi Api { get; }

    public Task<ApiResponse> SendAsync(string method, string path, string? body = null, string? query = null, string contentType = "application/json")
    {
        var queryValues = (query ?? string.Empty)
            .Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(parts => parts[0], parts => parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : string.Empty);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Content-Type"] = contentType, ["Host"] = "db.example.com" };
        return Api.HandleAsync(new ApiRequest(method, path, queryValues, headers, Encoding.UTF8.GetBytes(body ?? string.Empty), "req-1"), CancellationToken.None);
    }

    public void Dispose()
    {
        Store.Dispose();
        Directory.Delete(_cache, recursive: true);
    }
}
