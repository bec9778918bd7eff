namespace ServerlessDb.Engine;

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
