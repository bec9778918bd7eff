namespace ServerlessDb.Errors;

/// <summary>Storage (S3) did not answer successfully within its retry deadline (HTTP 503).</summary>
internal sealed class StorageUnavailableException(string message, Exception? innerException = null)
    : ServerlessDbException(message, innerException);

/// <summary>
/// The write lock was not acquired within the wait, or the lock service failed (HTTP 503 with
/// Retry-After).
/// </summary>
internal sealed class LockUnavailableException(string message, TimeSpan retryAfter, Exception? innerException = null)
    : ServerlessDbException(message, innerException)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>
/// A write's upload may or may not have landed and checking could not tell (HTTP 503). The message
/// says so, so that a client reads before it retries, or retries with the same Idempotency-Key.
/// </summary>
internal sealed class CommitOutcomeUnknownException(string message, Exception? innerException = null)
    : ServerlessDbException(message, innerException);
