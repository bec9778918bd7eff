namespace ServerlessDb.Domain;

/// <summary>What <c>POST /db/load</c> was sent: a SQLite database file, or an SQL dump to build one from.</summary>
internal enum LoadFormat
{
    SqliteFile,
    SqlDump,
}

/// <summary>
/// One load: which database it replaces, the format the request declared (null: decided by the content, as
/// rqlite does), and the id of a staged upload to take the file from instead of the body (null: the body).
/// </summary>
internal sealed record LoadRequest(string Database, LoadFormat? Format, string? StagedId);
