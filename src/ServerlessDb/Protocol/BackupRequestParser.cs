using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Protocol;

/// <summary>
/// Reads <c>GET /db/backup</c>'s query string as rqlite does: <c>db</c>, <c>fmt</c> (<c>binary</c>, the
/// default, or <c>sql</c>), <c>compress</c> (gzip the body) and <c>tables</c> (a comma-separated list for a dump).
/// rqlite takes an unknown <c>fmt</c> for binary; here it is a 400, so a typo does not answer the wrong format.
/// </summary>
internal static class BackupRequestParser
{
    public static BackupRequest Parse(IReadOnlyDictionary<string, string> query)
    {
        var flags = RequestFlagsParser.Parse(query);
        var format = (query.TryGetValue("fmt", out var fmt) ? fmt : string.Empty).ToLowerInvariant() switch
        {
            "" or "binary" => BackupFormat.Binary,
            "sql" => BackupFormat.Sql,
            _ => throw new BadRequestException(ProtocolMessages.UnsupportedBackupFormat(fmt!)),
        };
        if (query.ContainsKey("vacuum"))
        {
            throw new BadRequestException(ProtocolMessages.VacuumNotSupported);
        }

        var tables = query.TryGetValue("tables", out var list)
            ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : [];
        return new BackupRequest(flags.Database, format, query.ContainsKey("compress"), tables, flags.At);
    }
}
