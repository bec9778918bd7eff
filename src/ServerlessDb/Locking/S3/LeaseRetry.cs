using Polly;
using ServerlessDb.Resilience;
using ServerlessDb.Storage.S3;

namespace ServerlessDb.Locking.S3;

/// <summary>
/// The retry of lease calls shared by the lock and the reaper: exponential backoff with jitter, no
/// attempt limit (the caller's deadline, through the context's token, ends the retries), and the last
/// error kept in the context so a caller that gives up can say what kept failing. S3's transient
/// failures and its 409 ConditionalRequestConflict are always retried; the caller adds its own.
/// </summary>
internal static class LeaseRetry
{
    private static readonly ResiliencePropertyKey<Exception> LastErrorKey = new("ServerlessDb.S3Lease.LastError");

    // The pipeline asks only while the context's token is not cancelled, so no token need reach IsTransient.
    public static ResiliencePipeline Pipeline(TimeProvider timeProvider, Func<Exception, bool> alsoRetry, TimeSpan firstDelay, TimeSpan maxDelay) =>
        Backoff.UntilDeadline<Exception>(timeProvider, e => IsRetryable(e, CancellationToken.None) || alsoRetry(e), firstDelay, maxDelay, LastErrorKey);

    /// <summary>Throttling, 5xx, timeouts, network errors and 409 ConditionalRequestConflict.</summary>
    public static bool IsRetryable(Exception exception, CancellationToken attemptToken) =>
        S3Errors.IsTransient(exception, attemptToken) || LeaseObjects.IsConflict(exception);

    /// <summary>The last error a retry saw, or null when the first attempt was cut short.</summary>
    public static Exception? LastError(ResilienceContext context) => Backoff.LastError(context, LastErrorKey);
}
