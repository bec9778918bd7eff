using QueryRunner;
using ServerlessDb.Api;
using ServerlessDb.Configuration;
using ServerlessDb.Hosting;
using ServerlessDb.Logging;

namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>
/// One QueryRunner container: a real <see cref="Function"/> built from environment variables as
/// Lambda builds it, pointed at moto, with its own /tmp cache (as each Lambda container has).
/// </summary>
public sealed class QueryRunnerInstance : IDisposable
{
    private readonly string _cacheDirectory = Directory.CreateTempSubdirectory("serverlessdb-container-").FullName;
    private readonly LambdaInvoker _invoker;

    public QueryRunnerInstance(MotoServerFixture moto, string bucket, IReadOnlyDictionary<string, string?>? overrides = null)
        : this(moto, bucket, overrides, CompositionRoot.CreateApiHandler)
    {
    }

    /// <param name="createHandler">builds the handler from the environment, as <see cref="CompositionRoot"/> does (a test may compose it with seams).</param>
    public QueryRunnerInstance(
        MotoServerFixture moto,
        string bucket,
        IReadOnlyDictionary<string, string?>? overrides,
        Func<IEnvironment, IApiHandler> createHandler)
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

        Function = new Function(createHandler(new DictionaryEnvironment(environment)), ConsoleLogSink.Instance, TimeProvider.System);
        _invoker = new LambdaInvoker(Function);
    }

    public Function Function { get; }

    /// <summary>The container's /tmp: its cache, working copies and block cache.</summary>
    public string CacheDirectory => _cacheDirectory;

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

    public void Dispose() => Directory.Delete(_cacheDirectory, recursive: true);
}
