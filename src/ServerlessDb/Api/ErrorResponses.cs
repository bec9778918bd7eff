using ServerlessDb.Errors;

namespace ServerlessDb.Api;

/// <summary>The one place where expected failures become HTTP statuses.</summary>
public static class ErrorResponses
{
    public const string InternalError = "internal error";

    /// <summary>Returns the response for an expected failure, or null when <paramref name="exception"/> is a bug.</summary>
    public static ApiResponse? For(Exception exception) => exception switch
    {
        BadRequestException or StatementRefusedException => ApiResponses.Text(400, exception.Message),
        PayloadTooLargeException => ApiResponses.Text(413, exception.Message),
        WriteConflictException => ApiResponses.Text(409, exception.Message),
        IdempotencyKeyReusedException => ApiResponses.Text(422, exception.Message),
        LockUnavailableException locked => ApiResponses.Text(503, locked.Message, [ApiResponses.RetryAfter(locked.RetryAfter)]),
        StorageUnavailableException or CommitOutcomeUnknownException =>
            ApiResponses.Text(503, exception.Message, [ApiResponses.RetryAfter(TimeSpan.FromSeconds(1))]),

        // Not a bug, and no retry helps: the stored object must be restored, so the message says which and why.
        DatabaseCorruptException => ApiResponses.Text(500, exception.Message),
        _ => null,
    };

    /// <summary>An expected failure that someone must repair (a corrupt stored database): logged as an error, like a bug.</summary>
    public static bool NeedsRepair(Exception? exception) => exception is DatabaseCorruptException;

    public static ApiResponse TimedOut(TimeSpan timeout) => ApiResponses.Text(
        503,
        $"request timed out after {timeout.TotalSeconds:0.#}s; if it was a write, read before retrying: it may have been committed",
        [ApiResponses.RetryAfter(TimeSpan.FromSeconds(1))]);

    public static ApiResponse Bug() => ApiResponses.Text(500, InternalError);
}
