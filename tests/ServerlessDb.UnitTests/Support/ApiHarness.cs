using System.Text;
using ServerlessDb.Api;
using ServerlessDb.Engine;
using ServerlessDb.Locking;
using ServerlessDb.Locking.Local;
using ServerlessDb.Storage;

namespace ServerlessDb.UnitTests.Support;

/// <summary>The real API over the real engine and the real folder store (an <see cref="ObservedStore"/>).</summary>
internal sealed class ApiHarness : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("serverlessdb-api-").FullName;

    public ApiHarness(
        int maxRequestBytes = 1 << 20,
        int maxResultBytes = 1 << 20,
        TimeSpan? requestTimeout = null,
        IDatabaseLock? databaseLock = null,
        TimeProvider? time = null,
        TimeSpan? idempotencyRetention = null,
        IDatabaseStore? store = null,
        long? maxInlineResponseBytes = null,
        IDatabaseLinks? links = null,
        IDatabaseHistory? history = null)
    {
        time ??= TimeProvider.System;
        var options = new EngineOptions(5, maxResultBytes, false, idempotencyRetention ?? TimeSpan.FromHours(24));
        // A test's own store offers what it implements, as the composition root would choose for a backend.
        var capabilities = new StoreCapabilities(
            Catalog: (store ?? Store) as IDatabaseCatalog,
            History: history ?? store switch { null => Store.Folder, ObservedStore observed => observed.Folder, _ => store as IDatabaseHistory },
            Staging: store as IDatabaseStaging,
            Links: links);
        var engine = new QueryEngine(store ?? Store, databaseLock ?? new NoOpDatabaseLock(time), new WorkingCopies(_cache), options, time, Log, capabilities);
        Api = new ServerlessDbApi(engine, new ApiOptions(requestTimeout ?? TimeSpan.FromSeconds(30), maxRequestBytes, maxResultBytes, 100, maxInlineResponseBytes), time, Log);
    }

    public ObservedStore Store { get; } = new();

    public RecordingLogSink Log { get; } = new();

    public ServerlessDbApi Api { get; }

    public Task<ApiResponse> SendAsync(
        string method,
        string path,
        string? body = null,
        string? query = null,
        string contentType = "application/json",
        IReadOnlyDictionary<string, string>? headers = null)
    {
        var queryValues = (query ?? string.Empty)
            .Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(parts => parts[0], parts => parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : string.Empty);
        var allHeaders = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Content-Type"] = contentType, ["Host"] = "db.example.com" };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            allHeaders[name] = value;
        }

        return Api.HandleAsync(new ApiRequest(method, path, queryValues, allHeaders, Encoding.UTF8.GetBytes(body ?? string.Empty), "req-1"), CancellationToken.None);
    }

    public void Dispose()
    {
        Store.Dispose();
        Directory.Delete(_cache, recursive: true);
    }
}
