using ServerlessDb.Domain;

namespace ServerlessDb.Engine;

/// <summary>
/// Runs a request's statements on one session with rqlite's semantics: without the transaction flag
/// each statement stands alone and a failure does not stop the rest; with it, the first failure
/// rolls everything back and ends the request (except on /db/query, where rqlite goes on).
/// </summary>
internal static class RequestStatements
{
    /// <param name="classifications">For /db/query, which statements to refuse; null on the write path.</param>
    public static List<StatementResult> Run(
        SqliteSession session,
        QueryRequest request,
        IReadOnlyList<Classification>? classifications,
        StatementExecutor executor)
    {
        var transaction = request.Flags.Transaction && !session.ReadOnly;
        var stopOnError = request.Flags.Transaction && request.Kind != RequestKind.Query;
        var results = new List<StatementResult>(request.Statements.Count);
        if (transaction)
        {
            session.Control("BEGIN IMMEDIATE");
        }

        var failed = false;
        for (var i = 0; i < request.Statements.Count; i++)
        {
            var statement = request.Statements[i];
            if (statement.Sql.Length == 0)
            {
                continue; // rqlite skips empty statements without a result
            }

            var result = (request.Kind == RequestKind.Query && classifications is not null ? RefusedOnQuery(classifications[i]) : null)
                ?? executor.Execute(statement);
            results.Add(result);
            if (result is ErrorResult && stopOnError)
            {
                failed = true;
                break;
            }
        }

        if (transaction && session.InTransaction)
        {
            session.Control(failed ? "ROLLBACK" : "COMMIT");
        }

        return results;
    }

    private static ErrorResult? RefusedOnQuery(Classification classification) => classification.Kind switch
    {
        StatementKind.Write => new ErrorResult(EngineMessages.AttemptToChangeViaQuery),
        StatementKind.Unprepared => new ErrorResult(classification.PrepareError!),
        _ => null,
    };
}
