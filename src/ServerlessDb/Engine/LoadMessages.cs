namespace ServerlessDb.Engine;

/// <summary>Why a load was refused, in words a user can act on. Every one is a 400 that changed nothing.</summary>
internal static class LoadMessages
{
    public const string EmptyBody =
        "the load body is empty: send a SQLite file or an SQL dump (to empty a database, load the empty dump \"PRAGMA foreign_keys=OFF; BEGIN TRANSACTION; COMMIT;\")";

    public const string StagedDump =
        "a staged upload must be a SQLite file; send an SQL dump in the body of POST /db/load, or build the file first (sqlite3 new.sqlite < dump.sql)";

    public const string NoStagingArea =
        "this server has no staging area for uploads (it keeps databases in a local folder): POST the file to /db/load, or copy it into the data folder while the server is stopped";

    public const string DumpRollsBack = "the dump rolls back (ROLLBACK): it is incomplete, so nothing was loaded";

    public static string NotSqlite(string problem) => $"not a valid SQLite database file: {problem}; nothing was loaded";

    public static string NotSqliteData(string message) => $"not a valid SQLite database file: SQLite refused it ({message}); nothing was loaded";

    public static string IntegrityCheckFailed(IReadOnlyList<string> problems) =>
        $"not a valid SQLite database file: PRAGMA integrity_check found {string.Join("; ", problems)}; nothing was loaded";

    public static string IntegrityCheckTimedOut => "PRAGMA integrity_check did not finish within the request's deadline; load a smaller file";

    public static string DumpStatementFailed(int index, string error) => $"the dump's statement {index} failed: {error}; nothing was loaded";

    public static string StagedUploadNotFound(string database, string id) =>
        $"no staged upload '{id}' for database '{database}': it was never uploaded, its link expired before the upload, it was already loaded (a load deletes it), or it expired (after a day)";
}
