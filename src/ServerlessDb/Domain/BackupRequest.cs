namespace ServerlessDb.Domain;

/// <summary>What <c>GET /db/backup</c> answers: the SQLite file itself, or rqlite's SQL text dump.</summary>
internal enum BackupFormat
{
    Binary,
    Sql,
}

/// <summary>One backup to take: of which database, in which format, gzipped or not, and (for a dump) which tables (none: all).</summary>
internal sealed record BackupRequest(string Database, BackupFormat Format, bool Compress, IReadOnlyList<string> Tables);
