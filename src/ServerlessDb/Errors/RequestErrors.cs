namespace ServerlessDb.Errors;

/// <summary>
/// An expected failure with a message meant for the user. <c>Api/ErrorResponses</c> turns each subtype
/// into one HTTP status; anything else that escapes is a bug (500). The failures a client fixes (4xx)
/// are in this file, the ones it retries (503) in <c>AvailabilityErrors.cs</c>.
/// </summary>
public abstract class ServerlessDbException : Exception
{
    protected ServerlessDbException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The request is malformed or refused before anything ran (HTTP 400).</summary>
public sealed class BadRequestException(string message) : ServerlessDbException(message);

/// <summary>The sandbox refused a statement (HTTP 400); the request changes nothing.</summary>
internal sealed class StatementRefusedException(string message) : ServerlessDbException(message);

/// <summary>
/// An entry point's input is not an event it can take (HTTP 400 where there is an HTTP answer): not JSON,
/// or not an API Gateway proxy event (QueryRunner) or a scheduled event (LockReaper).
/// </summary>
public sealed class InvalidEventException(string message, Exception? innerException = null)
    : ServerlessDbException(message, innerException);

/// <summary>Someone else committed a new version first; nothing was uploaded (HTTP 409 once retries are spent).</summary>
internal sealed class WriteConflictException(string message, Exception? innerException = null)
    : ServerlessDbException(message, innerException);

/// <summary>The request or its result is larger than the configured limit (HTTP 413).</summary>
public sealed class PayloadTooLargeException(string message) : ServerlessDbException(message);

/// <summary>
/// An Idempotency-Key was sent again with a different request within its retention window (HTTP 422):
/// the first request's answer cannot stand for another request, and running it would break the promise.
/// </summary>
internal sealed class IdempotencyKeyReusedException(string message) : ServerlessDbException(message);

/// <summary>A time-travel request names a version the store does not keep (HTTP 404): never stored, expired, or of another database.</summary>
internal sealed class VersionNotFoundException(string message, Exception? innerException = null)
    : ServerlessDbException(message, innerException);
