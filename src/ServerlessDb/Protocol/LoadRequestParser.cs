using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Protocol;

/// <summary>
/// Reads <c>POST /db/load</c>: <c>db</c>, <c>staged=ID</c> (a file uploaded through <c>POST /db/load/upload</c>),
/// and the Content-Type: <c>application/octet-stream</c> declares a SQLite file, <c>text/plain</c> or
/// <c>application/sql</c> an SQL dump; any other (or none) leaves it to the content, as rqlite decides
/// (a body starting with SQLite's header string is a file).
/// </summary>
internal static class LoadRequestParser
{
    public static LoadRequest Parse(IReadOnlyDictionary<string, string> query, string? contentType, int bodyLength)
    {
        var flags = RequestFlagsParser.Parse(query);
        var mediaType = contentType?.Split(';', 2)[0].Trim().ToLowerInvariant();
        LoadFormat? format = mediaType switch
        {
            "application/octet-stream" or "application/vnd.sqlite3" or "application/x-sqlite3" => LoadFormat.SqliteFile,
            "text/plain" or "application/sql" => LoadFormat.SqlDump,
            _ => null,
        };
        if (!query.TryGetValue("staged", out var staged))
        {
            return new LoadRequest(flags.Database, format, StagedId: null);
        }

        if (!StagedUploadId.IsValid(staged))
        {
            throw new BadRequestException(ProtocolMessages.InvalidStagedId(staged));
        }

        return bodyLength > 0
            ? throw new BadRequestException(ProtocolMessages.StagedLoadWithBody)
            : new LoadRequest(flags.Database, LoadFormat.SqliteFile, staged);
    }
}
