using System.Text;
using ServerlessDb.Domain;
using ServerlessDb.Errors;
using SQLitePCL;

namespace ServerlessDb.Engine;

/// <summary>
/// Walks the SQL statements of one string with sqlite3_prepare_v2 and its tail, skipping empty ones
/// (whitespace, comments), as Microsoft.Data.Sqlite's PrepareAndEnumerateStatements does.
/// Every step advances or ends the walk. SQL with a NUL character is never handed to SQLite: it would
/// silently compile only what comes before the NUL (a statement hidden after it would vanish, or a
/// half string would fail with a puzzling error), and at the NUL it prepares nothing and leaves the tail
/// where it was, so a walk that retried there would never end. Such SQL is the statement's error, as
/// rqlite reports it, in its place among the results.
/// </summary>
internal sealed class PreparedStatementCursor(SqliteSession session, string sql)
{
    private readonly byte[] _sql = Encoding.UTF8.GetBytes(sql);
    private readonly bool _hasNul = sql.Contains('\0', StringComparison.Ordinal);
    private int _offset;

    /// <summary>
    /// Prepares the next statement. Returns false at the end. A sandbox refusal throws
    /// <see cref="StatementRefusedException"/>; any other prepare error comes back in <paramref name="error"/>.
    /// </summary>
    public bool TryPrepareNext(out sqlite3_stmt? statement, out string? error)
    {
        if (_hasNul && _offset < _sql.Length)
        {
            _offset = _sql.Length;
            statement = null;
            error = RequestMessages.NulInSql;
            return true;
        }

        while (_offset < _sql.Length)
        {
            var rc = raw.sqlite3_prepare_v2(session.Handle, _sql.AsSpan(_offset), out statement, out var tail);

            var violation = session.Sandbox.TakeViolation();
            if (violation is not null)
            {
                statement?.Dispose();
                throw new StatementRefusedException(violation);
            }

            if (rc != raw.SQLITE_OK)
            {
                statement?.Dispose();
                statement = null;
                error = raw.sqlite3_errmsg(session.Handle).utf8_to_string();
                _offset = _sql.Length;
                return true;
            }

            var next = _sql.Length - tail.Length;
            _offset = next > _offset ? next : _sql.Length;
            if (statement is not null && !statement.IsInvalid)
            {
                error = null;
                return true;
            }

            statement?.Dispose();
        }

        statement = null;
        error = null;
        return false;
    }
}
