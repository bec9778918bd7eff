using SQLitePCL;
using ServerlessDb.Domain;

namespace ServerlessDb.Engine;

/// <summary>
/// Asks SQLite, never keywords, whether statements are read-only: each is prepared on the current
/// database and sqlite3_stmt_readonly decides. A refused statement throws
/// <see cref="Errors.StatementRefusedException"/>.
/// </summary>
internal static class StatementClassifier
{
    public static Classification Classify(SqliteSession session, Statement statement)
    {
        var cursor = new PreparedStatementCursor(session, statement.Sql);
        var kind = StatementKind.Empty;
        while (cursor.TryPrepareNext(out var prepared, out var error))
        {
            if (error is not null)
            {
                return new Classification(StatementKind.Unprepared, error);
            }

            using (prepared)
            {
                if (raw.sqlite3_stmt_readonly(prepared) == 0)
                {
                    kind = StatementKind.Write;
                }
                else if (kind == StatementKind.Empty)
                {
                    kind = StatementKind.ReadOnly;
                }
            }
        }

        return new Classification(kind, null);
    }

    /// <summary>
    /// How long classifying one request may take. Preparing reads the schema and can be made slow on
    /// purpose (a huge schema, a pathological statement); past this the prepare is interrupted, the
    /// statement counts as unprepared, and execution, with its own deadline, reports the error.
    /// </summary>
    public static readonly TimeSpan DefaultTimeLimit = TimeSpan.FromSeconds(10);

    public static IReadOnlyList<Classification> ClassifyAll(SqliteSession session, IReadOnlyList<Statement> statements, TimeSpan? timeLimit = null)
    {
        session.SetDeadline(timeLimit ?? DefaultTimeLimit);
        try
        {
            return statements.Select(statement => Classify(session, statement)).ToList();
        }
        finally
        {
            session.SetDeadline(null);
        }
    }
}

/// <summary>The kind of one statement, and the prepare error when it is <see cref="StatementKind.Unprepared"/>.</summary>
internal readonly record struct Classification(StatementKind Kind, string? PrepareError);

/// <summary>What SQLite says a statement is, prepared against the current database.</summary>
internal enum StatementKind
{
    /// <summary>No SQL at all: whitespace or comments.</summary>
    Empty,

    /// <summary>Every SQL statement in it prepared and sqlite3_stmt_readonly is true for each.</summary>
    ReadOnly,

    /// <summary>It prepared, and at least one of its statements may write.</summary>
    Write,

    /// <summary>It did not prepare here (bad SQL, or a table an earlier statement creates): a write, whose error, if any, comes from execution.</summary>
    Unprepared,
}
