using Polly;
using ServerlessDb.Resilience;

namespace ServerlessDb.Locking.Ec2;

/// <summary>
/// The retry of EC2 calls shared by the lock and the reaper: exponential backoff with jitter, no
/// attempt limit (the caller's deadline, through the context's token, ends the retries), and the
/// last error kept in the context so a caller that gives up can say what kept failing.
/// </summary>
internal static class Ec2Retry
{
    private static readonly ResiliencePropertyKey<Ec2Exception> LastErrorKey = new("ServerlessDb.Ec2.LastError");

    public static ResiliencePipeline Pipeline(TimeProvider timeProvider, Func<Ec2Exception, bool> retryable, TimeSpan firstDelay, TimeSpan maxDelay) =>
        Backoff.UntilDeadline(timeProvider, retryable, firstDelay, maxDelay, LastErrorKey);

    /// <summary>The last error a retry saw, or null when the first attempt was cut short.</summary>
    public static Ec2Exception? LastError(ResilienceContext context) => Backoff.LastError(context, LastErrorKey);
}
