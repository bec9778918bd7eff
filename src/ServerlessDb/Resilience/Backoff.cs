using Polly;
using Polly.Retry;

namespace ServerlessDb.Resilience;

/// <summary>
/// The one retry shape ServerlessDb uses, for S3, for EC2 and for conflicting commits: exponential
/// backoff with jitter, ended by an attempt limit or, where the limit is left open, by the caller's
/// deadline.
/// </summary>
internal static class Backoff
{
    public static RetryStrategyOptions Retry(
        Func<RetryPredicateArguments<object>, bool> shouldRetry,
        TimeSpan firstDelay,
        TimeSpan maxDelay,
        int maxRetryAttempts = int.MaxValue) => new()
    {
        ShouldHandle = args => ValueTask.FromResult(shouldRetry(args)),
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        Delay = firstDelay,
        MaxDelay = maxDelay,
        MaxRetryAttempts = maxRetryAttempts,
    };
}
