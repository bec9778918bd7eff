namespace ServerlessDb.Errors;

/// <summary>
/// A write's upload may or may not have landed and checking could not tell (HTTP 503). The message
/// says so, so that a client reads before it retries, or retries with the same Idempotency-Key.
/// </summary>
public sealed class CommitOutcomeUnknownException(string message, Exception? innerException = null)
    : ServerlessDbException(message, innerException);
