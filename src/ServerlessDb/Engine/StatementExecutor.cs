using System.Diagnostics;
using SQLitePCL;
using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Engine;

/// <summary>
/// Runs request statements on a session and reports each in rqlite's shape. A statement that
/// produces columns (a query, or a write with RETURNING) reports rows; others report the last insert
/// id and the rows they changed. SQL errors become <see cref="ErrorResult"/>s; sandbox refusals and
/// oversized results throw.
/// </summary>
/// <param name="readsReturnNoRows">
/// For /db/execute: rqlite answers a read sent there with an execute result, while a write with
/// RETURNING still returns its rows.
/// </param>
internal sealed class StatementExecutor(
    SqliteSession session,
    ResultBudget budget,
    bool readsReturnNoRows,
    TimeSpan? statementTimeout,
    Func<TimeSpan> requestTimeLeft)
{
    public const string TimedOut = "statement timed out: it ran longer than its time limit (db_timeout or the request deadline)";

    public StatementResult Execute(Statement statement)
    {
        var started = Stopwatch.GetTimestamp();
        var timeLeft = requestTimeLeft();
        session.SetDeadline(statementTimeout is { } limit && limit < timeLeft ? limit : timeLeft);
        try
        {
            var result = Run(statement);
            return result with { Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds };
        }
        finally
        {
            session.SetDeadline(null);
        }
    }

    private StatementResult Run(Statement statement)
    {
        var binder = new ParameterBinder(statement);
        var cursor = new PreparedStatementCursor(session, statement.Sql);
        StatementResult? last = null;
        while (cursor.TryPrepareNext(out var prepared, out var error))
        {
            if (error is not null)
            {
                return new ErrorResult(error);
            }

            using (prepared)
            {
                var bindError = binder.Bind(prepared!);
                if (bindError is not null)
                {
                    return new ErrorResult(bindError);
                }

                last = ReturnsRows(prepared!) ? ReadRows(prepared!) : Step(prepared!);
                if (last is ErrorResult)
                {
                    return last;
                }
            }
        }

        // rqlite reports what go-sqlite3 reads after the last step: sqlite3_changes, which counts the
        // rows of the last INSERT, UPDATE or DELETE alone (no trigger's rows, no earlier statement of
        // the same string) and which DDL leaves as it was, as it leaves the last insert id.
        return last switch
        {
            RowsResult rows => rows,
            _ => new ExecResult(raw.sqlite3_last_insert_rowid(session.Handle), raw.sqlite3_changes(session.Handle)),
        };
    }

    private bool ReturnsRows(sqlite3_stmt prepared) =>
        raw.sqlite3_column_count(prepared) > 0 && !(readsReturnNoRows && raw.sqlite3_stmt_readonly(prepared) != 0);

    private StatementResult Step(sqlite3_stmt prepared)
    {
        int rc;
        while ((rc = StepOnce(prepared)) == raw.SQLITE_ROW)
        {
        }

        return rc == raw.SQLITE_DONE ? new ExecResult(0, 0) : Failure(rc);
    }

    private int StepOnce(sqlite3_stmt prepared)
    {
        session.Sandbox.Stepping = true;
        try
        {
            return raw.sqlite3_step(prepared);
        }
        finally
        {
            session.Sandbox.Stepping = false;
        }
    }

    private StatementResult ReadRows(sqlite3_stmt prepared)
    {
        var columnCount = raw.sqlite3_column_count(prepared);
        var columns = new string[columnCount];
        var types = new string[columnCount];
        var conversions = new DeclaredConversion[columnCount];
        for (var i = 0; i < columnCount; i++)
        {
            columns[i] = raw.sqlite3_column_name(prepared, i).utf8_to_string() ?? string.Empty;
            types[i] = raw.sqlite3_column_decltype(prepared, i).utf8_to_string()?.ToLowerInvariant() ?? string.Empty;
            conversions[i] = DeclaredTypeValues.ConversionFor(types[i]);
            budget.Charge(columns[i]);
            budget.Charge(types[i]);
        }

        var rows = new List<object?[]>();
        int rc;
        while ((rc = StepOnce(prepared)) == raw.SQLITE_ROW)
        {
            var row = new object?[columnCount];
            for (var i = 0; i < columnCount; i++)
            {
                if (!TryReadValue(prepared, i, conversions[i], out row[i]))
                {
                    // rqlite fails the statement when Go cannot write a time value (a year beyond 9999).
                    return new ErrorResult((string)row[i]!);
                }

                budget.Charge(row[i]);
            }

            if (rows.Count == 0)
            {
                InferMissingTypes(types, prepared);
            }

            rows.Add(row);
        }

        return rc == raw.SQLITE_DONE ? new RowsResult(columns, types, rows) : Failure(rc);
    }

    private StatementResult Failure(int rc)
    {
        // Some actions reach the authorizer only when the statement runs (VACUUM INTO attaches its target then).
        var violation = session.Sandbox.TakeViolation();
        if (violation is not null)
        {
            throw new StatementRefusedException(violation);
        }

        if (rc == raw.SQLITE_INTERRUPT && session.DeadlinePassed)
        {
            return new ErrorResult(TimedOut);
        }

        return new ErrorResult(raw.sqlite3_errmsg(session.Handle).utf8_to_string() ?? $"SQLite error {rc}");
    }

    /// <summary>
    /// A column's value as rqlite reads it (<see cref="DeclaredTypeValues"/>); false with the error
    /// message in <paramref name="value"/> when rqlite would fail the statement.
    /// </summary>
    private static bool TryReadValue(sqlite3_stmt prepared, int column, DeclaredConversion conversion, out object? value)
    {
        value = ReadValue(prepared, column);
        string text;
        switch (conversion, value)
        {
            case (DeclaredConversion.Time, long integer):
                var formatted = DeclaredTypeValues.TryTimeFromInteger(integer, out text);
                value = text;
                return formatted;
            case (DeclaredConversion.Time, string stored):
                formatted = DeclaredTypeValues.TryTimeFromText(stored, out text);
                value = text;
                return formatted;
            case (DeclaredConversion.Boolean, long integer):
                value = integer > 0;
                return true;
            default:
                return true;
        }
    }

    private static object? ReadValue(sqlite3_stmt prepared, int column) => raw.sqlite3_column_type(prepared, column) switch
    {
        raw.SQLITE_INTEGER => raw.sqlite3_column_int64(prepared, column),
        raw.SQLITE_FLOAT => raw.sqlite3_column_double(prepared, column),
        raw.SQLITE_TEXT => raw.sqlite3_column_text(prepared, column).utf8_to_string(),
        raw.SQLITE_BLOB => raw.sqlite3_column_blob(prepared, column).ToArray(),
        _ => null,
    };

    // An expression column has no declared type; like rqlite, report the storage class of the first row's value.
    private static void InferMissingTypes(string[] types, sqlite3_stmt prepared)
    {
        for (var i = 0; i < types.Length; i++)
        {
            if (types[i].Length == 0)
            {
                types[i] = raw.sqlite3_column_type(prepared, i) switch
                {
                    raw.SQLITE_INTEGER => "integer",
                    raw.SQLITE_FLOAT => "real",
                    raw.SQLITE_TEXT => "text",
                    raw.SQLITE_BLOB => "blob",
                    _ => string.Empty,
                };
            }
        }
    }
}
