using ServerlessDb.Domain;
using ServerlessDb.Engine;
using ServerlessDb.Errors;
using ServerlessDb.Protocol;

namespace ServerlessDb.Api;

/// <summary>
/// rqlite's load: <c>POST /db/load</c> replaces a database with a SQLite file or an SQL dump, and
/// <c>POST /db/load/upload</c> opens a staging slot for a file too large for a request.
/// </summary>
internal sealed partial class ServerlessDbApi
{
    // How long the presigned PUT of a staged upload stays valid; the load may come any time until the
    // bucket's lifecycle rule expires the object.
    private static readonly TimeSpan StagedUploadExpiry = TimeSpan.FromMinutes(15);

    private async Task<ApiResponse> LoadAsync(ApiRequest request, RequestTrace trace, CancellationToken cancellationToken)
    {
        var load = LoadRequestParser.Parse(request.Query, request.Header("Content-Type"), request.Body.Length);
        var deadline = _time.GetUtcNow() + _options.RequestTimeout;
        Func<Task<LoadOutcome>> loading;
        if (load.StagedId is { } id)
        {
            loading = () => _engine.LoadStagedAsync(load.Database, request.RequestId, id, deadline, trace, cancellationToken);
        }
        else
        {
            CheckSize(request);
            if (IsDump(load.Format, request.Body))
            {
                var dump = StatementParser.DecodeUtf8(request.Body);
                loading = () => _engine.LoadDumpAsync(load.Database, request.RequestId, dump, deadline, trace, cancellationToken);
            }
            else
            {
                loading = () => _engine.LoadFileAsync(load.Database, request.RequestId, request.Body, deadline, trace, cancellationToken);
            }
        }

        // Building and checking the file is synchronous SQLite work: on a thread of its own, bounded by the deadline.
        var outcome = await Task.Run(loading, cancellationToken).WaitAsync(_options.RequestTimeout + DeadlineGrace, _time, cancellationToken);
        var format = outcome.Format == LoadFormat.SqlDump ? "sql" : "sqlite";
        return ApiResponse.Json(200, LoadDocuments.Loaded(format, outcome.Bytes, outcome.Tables, outcome.Version.ToString(), outcome.DumpResult));
    }

    private async Task<ApiResponse> CreateUploadAsync(ApiRequest request, CancellationToken cancellationToken)
    {
        var database = RequestFlagsParser.Parse(request.Query).Database;
        var upload = await _engine.CreateStagedUploadAsync(database, StagedUploadExpiry, cancellationToken);
        return ApiResponse.Json(200, LoadDocuments.Upload(database, upload.Id, upload.UploadUrl, upload.ExpiresAt));
    }

    // A declared type decides; without one the content does, as in rqlite: SQLite's header string makes a
    // file, anything else is SQL. An empty body goes the file's way, which refuses it with a clear message.
    private static bool IsDump(LoadFormat? declared, ReadOnlyMemory<byte> body) =>
        declared == LoadFormat.SqlDump || (declared is null && body.Length > 0 && !DatabaseLoads.StartsLikeSqliteFile(body.Span));
}
