namespace ServerlessDb.Errors;

/// <summary>
/// The write lock was not acquired within the wait, or the lock service failed (HTTP 503 with
/// Retry-After).
/// </summary>
public sealed class LockUnavailableException(string message, TimeSpan retryAfter, Exception? innerException = null)
    : ServerlessDbException(message, innerException)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
