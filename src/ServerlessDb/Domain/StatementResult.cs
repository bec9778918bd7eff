namespace ServerlessDb.Domain;

/// <summary>The outcome of one statement of a request, in the shape rqlite reports it.</summary>
internal abstract record StatementResult
{
    /// <summary>Seconds the statement took; reported only with the timings flag.</summary>
    public double Seconds { get; init; }
}

/// <summary>A statement that produced columns (a query, or a write with RETURNING).</summary>
/// <param name="Types">Declared column types in lower case; for expressions, the storage class of the first row's value.</param>
/// <param name="Rows">Values are null, long, double, string, byte[] or bool (an INTEGER in a column declared BOOLEAN, as rqlite reads it).</param>
internal sealed record RowsResult(IReadOnlyList<string> Columns, IReadOnlyList<string> Types, IReadOnlyList<object?[]> Rows) : StatementResult;

/// <summary>A statement that produced no columns.</summary>
internal sealed record ExecResult(long LastInsertId, long RowsAffected) : StatementResult;

/// <summary>A statement that failed; the request may go on (see the transaction flag).</summary>
internal sealed record ErrorResult(string Error) : StatementResult;
