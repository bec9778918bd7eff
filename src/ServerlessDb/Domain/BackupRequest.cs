namespace ServerlessDb.Domain;

/// <summary>What <c>GET /db/backup</c> answers: the SQLite file itself, or rqlite's SQL text dump.</summary>
internal enum BackupFormat
{
    Binary,
    Sql,
}

/// <summary>
/// One backup to take: of which database, in which format, gzipped or not, (for a dump) which tables (none: all),
/// and of which old version (null: the current one).
/// </summary>
internal sealed record BackupRequest(string Database, BackupFormat Format, bool Compress, IReadOnlyList<string> Tables, PointInTime? At = null);
