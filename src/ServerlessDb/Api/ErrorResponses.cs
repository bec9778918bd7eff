using ServerlessDb.Errors;
using ServerlessDb.Logging;

namespace ServerlessDb.Api;

/// <summary>
/// The one builder of error answers, for the API and for the entry points (the Lambda handlers, the local
/// server) alike: the status each failure maps to, the answer (a text/plain message, as rqlite answers, with
/// the headers of every <see cref="ApiResponse"/>), and the log line that goes with it.
/// </summary>
public static class ErrorResponses
{
    public const string InternalError = "internal error";

    /// <summary>Returns the answer to an expected failure, or null when <paramref name="exception"/> is a bug.</summary>
    public static ApiResponse? For(Exception exception) => exception switch
    {
        BadRequestException or StatementRefusedException or InvalidEventException => ApiResponse.Text(400, exception.Message),
        PayloadTooLargeException => ApiResponse.Text(413, exception.Message),
        WriteConflictException => ApiResponse.Text(409, exception.Message),
        VersionNotFoundException => ApiResponse.Text(404, exception.Message),
        IdempotencyKeyReusedException => ApiResponse.Text(422, exception.Message),
        LockUnavailableException locked => ApiResponse.Text(503, locked.Message, [ApiResponse.RetryAfter(locked.RetryAfter)]),
        StorageUnavailableException or CommitOutcomeUnknownException =>
            ApiResponse.Text(503, exception.Message, [ApiResponse.RetryAfter(TimeSpan.FromSeconds(1))]),

        // Not a bug, and no retry helps: the stored object must be restored, so the message says which and why.
        DatabaseCorruptException => ApiResponse.Text(500, exception.Message),
        _ => null,
    };

    /// <summary>The answer to any failure: an expected one's, or <see cref="Bug"/>.</summary>
    public static ApiResponse Answer(Exception exception) => For(exception) ?? Bug();

    public static ApiResponse TimedOut(TimeSpan timeout) => ApiResponse.Text(
        503,
        $"request timed out after {timeout.TotalSeconds:0.#}s; if it was a write, read before retrying: it may have been committed",
        [ApiResponse.RetryAfter(TimeSpan.FromSeconds(1))]);

    public static ApiResponse Bug() => ApiResponse.Text(500, InternalError);

    /// <summary>
    /// Writes the one log line of an answer (or, with no <paramref name="status"/>, of an invocation that fails
    /// instead of answering): <c>time</c>, <c>level</c>, <c>message</c>, the request's <c>requestId</c>,
    /// <c>method</c> and <c>path</c>, the caller's <paramref name="fields"/>, then <c>status</c>, <c>error</c>
    /// and, for a bug, <c>exceptionType</c> and <c>exception</c>. The level is <c>error</c> for a bug or a
    /// database someone must repair, <c>warn</c> for another 5xx or a failed invocation, <c>info</c> otherwise.
    /// An answer's line also carries the request metrics (<see cref="Metrics.Requests"/>, <see cref="Metrics.ServerErrors"/>)
    /// by route (<see cref="Metrics.NoRoute"/> unless the fields name one) and status class.
    /// </summary>
    public static void Log(
        ILogSink sink,
        TimeProvider time,
        string message,
        ApiRequest? request,
        int? status,
        Exception? failure,
        Action<LogLine>? fields = null)
    {
        var bug = IsBug(failure);
        var level = bug || failure is DatabaseCorruptException ? "error"
            : failure is not null && status is null or >= 500 ? "warn"
            : "info";
        using var line = new LogLine(time, level, message);
        line.Add("requestId", request?.RequestId)
            .Add("method", request?.Method)
            .Add("path", request?.Path);
        if (status is { } code)
        {
            // An answer is a request in the metrics, whoever answered it; the API's fields name its route.
            line.Dimension(Metrics.RouteDimension, Metrics.NoRoute)
                .Dimension(Metrics.StatusClassDimension, Metrics.StatusClass(code))
                .Metric(Metrics.Requests, MetricUnit.Count, 1)
                .Metric(Metrics.ServerErrors, MetricUnit.Count, code >= 500 ? 1 : 0);
        }

        fields?.Invoke(line);
        if (status is { } answered)
        {
            line.Add("status", answered);
        }

        line.Add("error", failure?.Message)
            .Add("exceptionType", bug ? failure!.GetType().FullName : null)
            .Add("exception", bug ? failure : null)
            .WriteTo(sink);
    }

    // A timeout or a cancellation is the request's deadline, not a bug, whatever the answer.
    private static bool IsBug(Exception? failure) =>
        failure is not null and not (OperationCanceledException or TimeoutException) && For(failure) is null;
}
