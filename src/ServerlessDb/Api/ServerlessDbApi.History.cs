using ServerlessDb.Domain;
using ServerlessDb.Engine;
using ServerlessDb.Errors;
using ServerlessDb.Protocol;

namespace ServerlessDb.Api;

/// <summary>
/// Time travel's routes: <c>GET /db/versions</c> (the versions kept, newest first, paged) and
/// <c>POST /db/restore</c> (an old version's content made current as a new commit); <c>as_of</c> and
/// <c>version</c> on the read routes are read by <see cref="RequestFlagsParser"/> and refused on writes here.
/// </summary>
internal sealed partial class ServerlessDbApi
{
    // A page token is base64url; this is far beyond any the stores give.
    private const int MaxNextTokenLength = 4096;

    /// <summary>/db/execute only writes: an old version cannot be written, so the flags are refused before anything runs.</summary>
    private static void CheckReadOnlyRoute(RequestKind kind, RequestFlags flags)
    {
        if (kind == RequestKind.Execute && flags.At is not null)
        {
            throw new BadRequestException(HistoryMessages.WriteWithPointInTime);
        }
    }

    private async Task<ApiResponse> VersionsAsync(ApiRequest request, RequestTrace trace, CancellationToken cancellationToken)
    {
        var database = RequestFlagsParser.Parse(request.Query).Database;
        var limit = DatabaseListing.ParseLimit(request.QueryValue("limit"));
        var next = request.QueryValue("next");
        if (next is not null && (next.Length is 0 or > MaxNextTokenLength || !next.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            throw new BadRequestException(HistoryMessages.InvalidNext(next));
        }

        trace.Path = "versions";
        HistoryPage page;
        try
        {
            page = await _engine.ListVersionsAsync(database, limit, next, cancellationToken);
        }
        catch (ArgumentException) when (next is not null)
        {
            throw new BadRequestException(HistoryMessages.InvalidNext(next));
        }

        return ApiResponse.Json(200, VersionsJsonWriter.Page(page));
    }

    private async Task<ApiResponse> RestoreAsync(ApiRequest request, RequestTrace trace, CancellationToken cancellationToken)
    {
        var flags = RequestFlagsParser.Parse(request.Query);
        var at = flags.At ?? throw new BadRequestException(HistoryMessages.MissingPointInTime);

        // The copy of the old version is synchronous file work; the deadline bounds it whatever it does.
        var outcome = await Task.Run(() => _engine.RestoreAsync(flags.Database, at, request.RequestId, trace, cancellationToken), cancellationToken)
            .WaitAsync(_options.RequestTimeout + DeadlineGrace, _time, cancellationToken);
        return ApiResponse.Json(200, VersionsJsonWriter.Restored(outcome.RestoredId, outcome.NewVersionId));
    }
}
