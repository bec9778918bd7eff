using ServerlessDb.Domain;
using ServerlessDb.Engine;
using ServerlessDb.Locking;
using ServerlessDb.Locking.Local;
using ServerlessDb.Protocol;
using ServerlessDb.Storage;

namespace ServerlessDb.UnitTests.Support;

/// <summary>A QueryEngine over the real folder store (an <see cref="ObservedStore"/>) and real SQLite, for engine tests.</summary>
internal sealed class EngineHarness : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("serverlessdb-cache-").FullName;
    private readonly CacheFolder _cacheFolder;

    public EngineHarness(int writeAttempts = 5, int maxResultBytes = 1 << 20, IDatabaseLock? databaseLock = null)
    {
        Lock = databaseLock ?? new NoOpDatabaseLock(TimeProvider.System);
        _cacheFolder = CacheFolder.Claim(_cache);
        Engine = new QueryEngine(Store, Lock, new WorkingCopies(_cacheFolder), new EngineOptions(writeAttempts, maxResultBytes, QuickCheckBeforeUpload: true, TimeSpan.FromHours(24)), TimeProvider.System, Log, new StoreCapabilities(Catalog: Store));
    }

    public ObservedStore Store { get; } = new();

    public IDatabaseLock Lock { get; }

    public RecordingLogSink Log { get; } = new();

    public QueryEngine Engine { get; }

    public RequestTrace LastTrace { get; private set; } = new();

    public string WorkDirectory => _cacheFolder.WorkDirectory;

    public Task<QueryOutcome> RunAsync(RequestKind kind, params string[] sql) => RunAsync(kind, new RequestFlags(), sql);

    public Task<QueryOutcome> RunAsync(RequestKind kind, RequestFlags flags, params string[] sql) =>
        RunAsync(kind, flags, sql.Select(s => new Statement(s)).ToArray());

    public Task<QueryOutcome> RunAsync(RequestKind kind, RequestFlags flags, params Statement[] statements)
    {
        LastTrace = new RequestTrace();
        return Engine.RunAsync(new QueryRequest("test-request", kind, statements, flags), DateTimeOffset.UtcNow.AddMinutes(1), LastTrace, CancellationToken.None);
    }

    public static string Json(QueryOutcome outcome, RequestKind kind = RequestKind.Request) =>
        ResultsJsonWriter.Write(outcome.Results, new ResponseFormat(false, false, false, kind == RequestKind.Request), null, 1 << 20);

    public void Dispose()
    {
        Store.Dispose();
        _cacheFolder.Dispose();
        Directory.Delete(_cache, recursive: true);
    }
}
