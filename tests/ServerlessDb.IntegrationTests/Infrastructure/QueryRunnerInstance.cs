using System.Collections.Concurrent;
using QueryRunner;
using ServerlessDb.Api;
using ServerlessDb.Configuration;
using ServerlessDb.Hosting;
using ServerlessDb.Logging;

namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>
/// One QueryRunner container: a real <see cref="Function"/> built from environment variables as
/// Lambda builds it, pointed at moto, with its own /tmp cache (as each Lambda container has).
/// Built by <see cref="CompositionRoot"/> itself, its log lines (the request lines with their metrics)
/// are kept in <see cref="LogLines"/> as well as written to the console.
/// </summary>
public sealed class QueryRunnerInstance : IDisposable
{
    private readonly string _cacheDirectory = Directory.CreateTempSubdirectory("serverlessdb-container-").FullName;
    private readonly LambdaInvoker _invoker;
    private readonly RecordingConsoleSink _log = new();

    public QueryRunnerInstance(MotoServerFixture moto, string bucket, IReadOnlyDictionary<string, string?>? overrides = null)
        : this(moto, bucket, overrides, createHandler: null)
    {
    }

    /// <param name="createHandler">builds the handler from the environment, as <see cref="CompositionRoot"/> does (a test may compose it with seams); null: <see cref="CompositionRoot"/>, logging to <see cref="LogLines"/>.</param>
    public QueryRunnerInstance(
        MotoServerFixture moto,
        string bucket,
        IReadOnlyDictionary<string, string?>? overrides,
        Func<IEnvironment, IApiHandler>? createHandler)
    {
        var environment = new Dictionary<string, string?>
        {
            ["DB_BUCKET"] = bucket,
            ["AWS_ENDPOINT_URL"] = moto.EndpointUrl.ToString(),
            ["AWS_REGION"] = MotoServerFixture.Region,
            ["CACHE_DIR"] = _cacheDirectory,
        };
        foreach (var (name, value) in overrides ?? new Dictionary<string, string?>())
        {
            environment[name] = value;
        }

        createHandler ??= env => CompositionRoot.CreateApiHandler(env, TimeProvider.System, _log);
        Function = new Function(createHandler(new DictionaryEnvironment(environment)), _log, TimeProvider.System);
        _invoker = new LambdaInvoker(Function);
    }

    public Function Function { get; }

    /// <summary>This container's CACHE_DIR (its /tmp).</summary>
    public string CacheDirectory => _cacheDirectory;

    /// <summary>Every log line this container wrote so far, in order (when it was built by <see cref="CompositionRoot"/>).</summary>
    public IReadOnlyList<string> LogLines => _log.Lines;

    public Task<LambdaResponse> PostAsync(
        string path,
        string body,
        string? query = null,
        string contentType = "application/json",
        IReadOnlyDictionary<string, string>? headers = null)
    {
        var allHeaders = new Dictionary<string, string> { ["content-type"] = contentType };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            allHeaders[name] = value;
        }

        return _invoker.InvokeAsync(ApiGatewayEvents.HttpApiV2("POST", path, query, allHeaders, body));
    }

    public Task<LambdaResponse> GetAsync(string path, string? query = null) =>
        _invoker.InvokeAsync(ApiGatewayEvents.HttpApiV2("GET", path, query));

    public Task<LambdaResponse> InvokeAsync(string eventJson) => _invoker.InvokeAsync(eventJson);

    /// <summary>
    /// Deletes the container's /tmp. A fetch the lazy reader started for a request (read-ahead) may still be writing
    /// its piece after the request answered, so a folder that fills while it is deleted is deleted again.
    /// </summary>
    public void Dispose()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Directory.Delete(_cacheDirectory, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 20)
            {
                Thread.Sleep(100);
            }
        }
    }

    private sealed class RecordingConsoleSink : ILogSink
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyList<string> Lines => _lines.ToArray();

        public void Write(string jsonLine)
        {
            _lines.Enqueue(jsonLine);
            ConsoleLogSink.Instance.Write(jsonLine);
        }
    }
}
