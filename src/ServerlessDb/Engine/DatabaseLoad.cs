using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using ServerlessDb.Domain;
using ServerlessDb.Errors;
using ServerlessDb.Storage;

namespace ServerlessDb.Engine;

/// <summary>What a load committed: the new version, the file's size and how many tables it has.</summary>
/// <param name="DumpResult">for a dump, what its last statement did (rqlite answers a SQL load with it, as an execute of the whole text); null for a file.</param>
internal sealed record LoadOutcome(DatabaseETag Version, long Bytes, int Tables, LoadFormat Format, ExecResult? DumpResult = null);

/// <summary>
/// Builds and validates the file a load commits, in the engine's scratch space, before anything is
/// uploaded: a SQLite file must have a valid header and pass <c>PRAGMA integrity_check</c>; a WAL-mode file
/// is turned back into rollback mode (what every stored version is), so no <c>-wal</c> is ever needed
/// beside it. A dump is run into a new empty database, inside the sandbox, with only a dump's own framing
/// statements (<c>PRAGMA foreign_keys=OFF</c>, <c>BEGIN TRANSACTION</c>, <c>COMMIT</c>) let through and skipped.
/// Every refusal is a <see cref="BadRequestException"/>.
/// </summary>
internal static partial class DatabaseLoads
{
    private const int FileBufferSize = 81920;

    // integrity_check stops after this many problems; the first few are what a user can act on.
    private const int MaxReportedProblems = 10;

    // A dump's statements return no rows worth keeping; this bounds what a RETURNING clause may hold.
    private const int DumpResultBudgetBytes = 1 << 20;

    /// <summary>True when <paramref name="bytes"/> start with SQLite's header string: how rqlite tells a file from a dump.</summary>
    public static bool StartsLikeSqliteFile(ReadOnlySpan<byte> bytes) => DatabaseFileHeader.StartsWithMagic(bytes);

    /// <summary>Writes a request body to <paramref name="path"/>.</summary>
    public static void WriteBody(ReadOnlyMemory<byte> body, string path)
    {
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileBufferSize);
        file.Write(body.Span);
    }

    /// <summary>
    /// Checks that <paramref name="path"/> is a whole, consistent SQLite database in rollback mode (converting
    /// a WAL-mode header) and returns how many tables it has.
    /// </summary>
    /// <exception cref="BadRequestException">it is empty (unless <paramref name="emptyIsValid"/>), not SQLite, or fails the integrity check.</exception>
    /// <exception cref="TimeoutException">the integrity check ran past <paramref name="timeLeft"/>.</exception>
    /// <param name="emptyIsValid">true for a database built from a dump: an empty file is the empty database it built.</param>
    public static int Validate(string path, TimeSpan timeLeft, bool emptyIsValid)
    {
        if (new FileInfo(path).Length == 0)
        {
            return emptyIsValid ? 0 : throw new BadRequestException(LoadMessages.EmptyBody);
        }

        if (DatabaseFileHeader.FindProblem(path) is { } problem)
        {
            throw new BadRequestException(LoadMessages.NotSqlite(problem));
        }

        try
        {
            if (DatabaseFileHeader.IsWalMode(path))
            {
                // Opening it as a working copy switches it to an in-memory rollback journal, which rewrites the
                // header (bytes 18-19) and removes the -wal SQLite created beside it.
                SqliteSession.OpenWorkingCopy(path).Dispose();
                File.Delete(path + "-shm");
                WorkingCopies.EnsureComplete(path);
            }

            using var session = SqliteSession.OpenReadOnly(path);
            session.SetDeadline(timeLeft);
            var problems = new List<string>();
            session.Query($"PRAGMA integrity_check({MaxReportedProblems})", problems.Add);
            if (problems is not ["ok"])
            {
                throw new BadRequestException(LoadMessages.IntegrityCheckFailed(problems));
            }

            var tables = session.QueryRow("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
            return Convert.ToInt32(tables![0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (SqliteException e) when ((e.SqliteErrorCode & 0xFF) is raw.SQLITE_CORRUPT or raw.SQLITE_NOTADB)
        {
            throw new BadRequestException(LoadMessages.NotSqliteData(e.Message));
        }
        catch (SqliteException e) when ((e.SqliteErrorCode & 0xFF) is raw.SQLITE_INTERRUPT)
        {
            throw new TimeoutException(LoadMessages.IntegrityCheckTimedOut, e);
        }
    }

    /// <summary>
    /// Runs the SQL dump <paramref name="dump"/> into a new database at <paramref name="path"/>, in one transaction
    /// and inside the sandbox: ATTACH, load_extension, VACUUM INTO and the managed pragmas are refused as in any
    /// request. The service's own tables may be created and filled, as a binary load would carry them.
    /// </summary>
    /// <exception cref="BadRequestException">a statement failed, or the dump rolls back.</exception>
    /// <exception cref="StatementRefusedException">the sandbox refused a statement.</exception>
    /// <returns>what the last statement run did: rqlite's answer to a SQL load.</returns>
    public static ExecResult BuildFromDump(string dump, string path, Func<TimeSpan> timeLeft)
    {
        var statements = SqlScriptSplitter.Split(dump, int.MaxValue);
        File.Create(path).Dispose();
        using var session = SqliteSession.OpenWorkingCopy(path);
        session.Sandbox.ServiceTablesWritable = true;
        var executor = new StatementExecutor(session, new ResultBudget(DumpResultBudgetBytes), readsReturnNoRows: true, statementTimeout: null, timeLeft);
        var deferred = new List<int>();
        var last = new ExecResult(0, 0);
        session.Control("BEGIN");
        for (var i = 0; i < statements.Count; i++)
        {
            switch (FramingOf(statements[i].Sql))
            {
                case Framing.Skipped:
                    continue;
                case Framing.Rollback:
                    throw new BadRequestException(LoadMessages.DumpRollsBack);
                case Framing.Sequence:
                    deferred.Add(i);
                    continue;
            }

            last = Run(executor, statements, i) ?? last;
        }

        foreach (var i in deferred)
        {
            last = Run(executor, statements, i) ?? last;
        }

        session.Control("COMMIT");
        return last;
    }

    private static ExecResult? Run(StatementExecutor executor, IReadOnlyList<Statement> statements, int index) =>
        executor.Execute(statements[index]) switch
        {
            ErrorResult error => throw new BadRequestException(LoadMessages.DumpStatementFailed(index + 1, error.Error)),
            var result => result as ExecResult,
        };

    private enum Framing
    {
        None,
        Skipped,
        Rollback,

        // rqlite's dump lists tables by name, so sqlite_sequence's rows come before the AUTOINCREMENT tables
        // that create it: they run after everything else.
        Sequence,
    }

    // The statements a dump frames its content with (sqlite3's .dump and rqlite's): the load is one
    // transaction of its own, and foreign keys are not enforced while it is built, so they have nothing to do.
    private static Framing FramingOf(string sql)
    {
        var normalized = Whitespace().Replace(sql.Trim().TrimEnd(';').Trim(), " ").Replace(" =", "=", StringComparison.Ordinal).Replace("= ", "=", StringComparison.Ordinal).ToUpperInvariant();
        return normalized switch
        {
            "PRAGMA FOREIGN_KEYS=OFF" or "PRAGMA FOREIGN_KEYS=0" or "PRAGMA FOREIGN_KEYS=FALSE" => Framing.Skipped,
            "BEGIN" or "BEGIN TRANSACTION" or "BEGIN DEFERRED" or "BEGIN DEFERRED TRANSACTION" or "BEGIN IMMEDIATE"
                or "BEGIN IMMEDIATE TRANSACTION" or "BEGIN EXCLUSIVE" or "BEGIN EXCLUSIVE TRANSACTION" => Framing.Skipped,
            "COMMIT" or "COMMIT TRANSACTION" or "END" or "END TRANSACTION" => Framing.Skipped,
            _ when normalized.StartsWith("ROLLBACK", StringComparison.Ordinal) => Framing.Rollback,
            _ when SequenceStatement().IsMatch(normalized) => Framing.Sequence,
            _ => Framing.None,
        };
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"^(DELETE FROM|INSERT INTO) (""SQLITE_SEQUENCE""|SQLITE_SEQUENCE)( |\(|$)")]
    private static partial Regex SequenceStatement();
}
