using ServerlessDb.Domain;
using ServerlessDb.Engine;
using ServerlessDb.Errors;
using ServerlessDb.Logging;
using ServerlessDb.Protocol;

namespace ServerlessDb.Api;

/// <summary>
/// Answers one HTTP request. Never throws for bad input or unavailable dependencies:
/// those become 4xx and 5xx responses. A thrown exception is a bug.
/// </summary>
public interface IApiHandler
{
    Task<ApiResponse> HandleAsync(ApiRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// rqlite's data API over the engine: routes, request parsing, status codes, and one structured
/// log line per request. Knows nothing of Lambda or API Gateway.
/// </summary>
internal sealed partial class ServerlessDbApi : IApiHandler
{
    /// <summary>The request header that makes a write apply at most once (see README, "Failure semantics").</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>Set on the answer of a retry that was given the first request's recorded answer.</summary>
    public const string IdempotentReplayedHeader = "Idempotent-Replayed";

    // How long past its own deadline a request is waited for before it is answered as timed out: the
    // engine stops at the deadline by itself; this only bounds a phase that does not.
    private static readonly TimeSpan DeadlineGrace = TimeSpan.FromSeconds(1);

    // How long the link a backup too large to answer inline redirects to stays valid.
    private static readonly TimeSpan BackupLinkExpiry = TimeSpan.FromMinutes(5);

    private readonly QueryEngine _engine;
    private readonly ApiOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogSink _log;
    private readonly DateTimeOffset _startedAt;

    public ServerlessDbApi(QueryEngine engine, ApiOptions options, TimeProvider time, ILogSink log)
    {
        _engine = engine;
        _options = options;
        _time = time;
        _log = log;
        _startedAt = time.GetUtcNow();
    }

    public async Task<ApiResponse> HandleAsync(ApiRequest request, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var trace = new RequestTrace();
        ApiResponse response;
        Exception? failure = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            response = await RouteAsync(request, trace, timeout.Token);
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && timeout.IsCancellationRequested))
        {
            failure = ex;
            response = ErrorResponses.TimedOut(_options.RequestTimeout);
        }
        catch (Exception ex)
        {
            failure = ex;
            response = ErrorResponses.Answer(ex);
        }

        LogRequest(request, response, trace, _time.GetElapsedTime(started), failure);
        return response;
    }

    private Task<ApiResponse> RouteAsync(ApiRequest request, RequestTrace trace, CancellationToken cancellationToken)
    {
        if (request.Method == "OPTIONS")
        {
            return Task.FromResult(ApiResponse.Preflight());
        }

        var path = request.Path.Length > 1 ? request.Path.TrimEnd('/') : request.Path;
        return (path, request.Method) switch
        {
            ("/db/execute", "POST") => RunAsync(request, RequestKind.Execute, ParseBody(request), trace, cancellationToken),
            ("/db/query", "POST") => RunAsync(request, RequestKind.Query, ParseBody(request), trace, cancellationToken),
            ("/db/query", "GET") => RunAsync(request, RequestKind.Query, ParseQueryString(request), trace, cancellationToken),
            ("/db/request", "POST") => RunAsync(request, RequestKind.Request, ParseBody(request), trace, cancellationToken),
            ("/sql", "POST") => RunAsync(request, RequestKind.Request, ParseScript(request), trace, cancellationToken),
            ("/db/backup", "GET") => BackupAsync(request, trace, cancellationToken),
            ("/db/load", "POST") => LoadAsync(request, trace, cancellationToken),
            ("/db/load/upload", "POST") => CreateUploadAsync(request, cancellationToken),
            ("/db/versions", "GET") => VersionsAsync(request, trace, cancellationToken),
            ("/db/restore", "POST") => RestoreAsync(request, trace, cancellationToken),
            ("/db/databases", "GET") => ListDatabasesAsync(request, trace, cancellationToken),
            ("/status", "GET") => Task.FromResult(ApiResponse.Json(200, StatusDocuments.Status(Address(request), _startedAt, _time.GetUtcNow()))),
            ("/readyz", "GET") => Task.FromResult(ApiResponse.TextExactly(200, StatusDocuments.Readiness(request.HasFlag("noleader"), request.HasFlag("sync")))),
            ("/db/execute" or "/db/request" or "/sql" or "/db/load" or "/db/load/upload" or "/db/restore", _) => Task.FromResult(MethodNotAllowed("POST, OPTIONS")),
            ("/db/query", _) => Task.FromResult(MethodNotAllowed("GET, POST, OPTIONS")),
            ("/status" or "/readyz" or "/db/backup" or "/db/databases" or "/db/versions", _) => Task.FromResult(MethodNotAllowed("GET, OPTIONS")),
            _ => Task.FromResult(ApiResponse.Text(404, $"not found: {request.Method} {request.Path}")),
        };
    }

    private async Task<ApiResponse> RunAsync(
        ApiRequest request,
        RequestKind kind,
        IReadOnlyList<Statement> statements,
        RequestTrace trace,
        CancellationToken cancellationToken)
    {
        var flags = RequestFlagsParser.Parse(request.Query);
        CheckReadOnlyRoute(kind, flags);
        var started = _time.GetTimestamp();
        var deadline = _time.GetUtcNow() + _options.RequestTimeout;
        var format = ResponseFormat.For(flags, kind);
        string Render(IReadOnlyList<StatementResult> results) =>
            ResultsJsonWriter.Write(results, format, _time.GetElapsedTime(started).TotalSeconds, _options.MaxResultBytes);

        var idempotency = kind == RequestKind.Query || flags.At is not null ? null : IdempotencyOf(request, Render);
        var query = new QueryRequest(request.RequestId, kind, statements, flags, idempotency);

        // The engine's SQLite work is synchronous; on a thread of its own, the deadline below bounds
        // it whatever it does, and the answer says the write may have been committed.
        var outcome = await Task.Run(() => _engine.RunAsync(query, deadline, trace, cancellationToken), cancellationToken)
            .WaitAsync(_options.RequestTimeout + DeadlineGrace, _time, cancellationToken);
        var body = outcome.Answer ?? Render(outcome.Results);
        return outcome.Replayed
            ? ApiResponse.Json(200, body, [new(IdempotentReplayedHeader, "true")])
            : ApiResponse.Json(200, body);
    }

    /// <summary>
    /// rqlite's backup: the current version as a SQLite file, or its SQL dump; gzipped with <c>compress</c>.
    /// An answer that would not fit the host's inline limit (Lambda's response) is a 307 to a short-lived
    /// link to exactly that stored version, when the store gives links and the backup is the stored file.
    /// </summary>
    private async Task<ApiResponse> BackupAsync(ApiRequest request, RequestTrace trace, CancellationToken cancellationToken)
    {
        var backupRequest = BackupRequestParser.Parse(request.Query);
        var taking = Task.Run(() => _engine.BackupAsync(backupRequest, trace, cancellationToken), cancellationToken);
        BackupFile backup;
        try
        {
            backup = await taking.WaitAsync(_options.RequestTimeout + DeadlineGrace, _time, cancellationToken);
        }
        catch
        {
            // Abandoned past its deadline: the backup still releases its snapshot when it is done.
            _ = taking.ContinueWith(t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }

        var contentType = backupRequest.Format == BackupFormat.Sql ? "application/sql" : ApiResponse.OctetStreamContentType;
        var answer = ApiResponse.Binary(200, contentType, new ResponseFile(backup.Path, backup.Length, backup));
        if (_options.MaxInlineResponseBytes is not { } limit || answer.ProxyBytesWithBinaryBody(backup.Length) <= limit)
        {
            return answer;
        }

        using (backup)
        {
            var link = _engine.LinkToAsync(backupRequest.Database, backup, BackupLinkExpiry, cancellationToken)
                ?? throw new PayloadTooLargeException(ProtocolMessages.BackupTooLarge(backup.Length, limit));
            return ApiResponse.TemporaryRedirect(await link);
        }
    }

    private async Task<ApiResponse> ListDatabasesAsync(ApiRequest request, RequestTrace trace, CancellationToken cancellationToken)
    {
        var (after, limit) = DatabaseListing.Parse(request.Query);
        var page = await _engine.ListDatabasesAsync(after, limit, trace, cancellationToken);
        return ApiResponse.Json(200, DatabaseListing.Write(page));
    }

    private static IdempotentWrite? IdempotencyOf(ApiRequest request, Func<IReadOnlyList<StatementResult>, string> render)
    {
        if (request.Header(IdempotencyKeyHeader) is not { } key)
        {
            return null;
        }

        return key.Length is 0 or > IdempotentWrite.MaxKeyLength
            ? throw new BadRequestException(ProtocolMessages.InvalidIdempotencyKey(IdempotentWrite.MaxKeyLength))
            : new IdempotentWrite(key, render);
    }

    private IReadOnlyList<Statement> ParseBody(ApiRequest request)
    {
        CheckSize(request);
        return IsPlainText(request)
            ? StatementParser.ParsePlainText(request.Body)
            : StatementParser.ParseJson(request.Body, _options.MaxStatements);
    }

    private IReadOnlyList<Statement> ParseScript(ApiRequest request)
    {
        CheckSize(request);
        return SqlScriptSplitter.Split(StatementParser.DecodeUtf8(request.Body), _options.MaxStatements);
    }

    private static IReadOnlyList<Statement> ParseQueryString(ApiRequest request)
    {
        var sql = request.QueryValue("q");
        return string.IsNullOrWhiteSpace(sql)
            ? throw new BadRequestException(ProtocolMessages.MissingQuery)
            : [new Statement(sql)];
    }

    private void CheckSize(ApiRequest request)
    {
        if (request.Body.Length > _options.MaxRequestBytes)
        {
            throw new PayloadTooLargeException(ProtocolMessages.RequestTooLarge(request.Body.Length, _options.MaxRequestBytes));
        }
    }

    private static bool IsPlainText(ApiRequest request) =>
        request.Header("Content-Type")?.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase) == true;

    private static string Address(ApiRequest request) => request.Header("Host") ?? "localhost";

    private static ApiResponse MethodNotAllowed(string allow) =>
        ApiResponse.Text(405, "method not allowed", [new("Allow", allow)]);

    private void LogRequest(ApiRequest request, ApiResponse response, RequestTrace trace, TimeSpan elapsed, Exception? failure) =>
        ErrorResponses.Log(_log, _time, "request", request, response.StatusCode, failure, line => line
            .Add("database", request.QueryValue("db") ?? RequestFlags.DefaultDatabase)
            .Add("route", trace.Path)
            .Add("attempts", trace.Attempts)
            .Add("committed", trace.Committed)
            .Add("versionRead", trace.VersionRead)
            .Add("versionWritten", trace.VersionWritten)
            .Add("phasesMs", trace.PhaseMilliseconds)
            .Add("totalMs", (long)elapsed.TotalMilliseconds)
            .Dimension(Metrics.RouteDimension, trace.Path ?? Metrics.NoRoute)
            .Metric(Metrics.TotalLatency, MetricUnit.Milliseconds, elapsed.TotalMilliseconds)
            .AddTraceMetrics(trace));
}

/// <summary>The part of the configuration the API uses.</summary>
/// <param name="MaxInlineResponseBytes">
/// the largest proxy response a binary answer may make (Lambda's, for the QueryRunner); a backup beyond it is
/// a redirect to storage. Null where the host streams any size (the local server).
/// </param>
internal sealed record ApiOptions(TimeSpan RequestTimeout, int MaxRequestBytes, int MaxResultBytes, int MaxStatements, long? MaxInlineResponseBytes = null);
