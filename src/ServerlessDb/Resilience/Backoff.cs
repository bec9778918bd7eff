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

    /// <summary>
    /// A pipeline retrying the <typeparamref name="TException"/> failures <paramref name="retryable"/> accepts,
    /// with no attempt limit (the caller's deadline, through the context's token, ends the retries), that keeps
    /// the last such failure in the context under <paramref name="lastError"/>, so a caller that gives up can
    /// say what kept failing (<see cref="LastError"/>).
    /// </summary>
    public static ResiliencePipeline UntilDeadline<TException>(
        TimeProvider timeProvider, Func<TException, bool> retryable, TimeSpan firstDelay, TimeSpan maxDelay, ResiliencePropertyKey<TException> lastError)
        where TException : Exception
    {
        var retry = Retry(
            args => args.Outcome.Exception is TException e && !args.Context.CancellationToken.IsCancellationRequested && retryable(e),
            firstDelay,
            maxDelay);
        retry.OnRetry = args =>
        {
            if (args.Outcome.Exception is TException e)
            {
                args.Context.Properties.Set(lastError, e);
            }

            return ValueTask.CompletedTask;
        };
        return new ResiliencePipelineBuilder { TimeProvider = timeProvider }.AddRetry(retry).Build();
    }

    /// <summary>The last failure an <see cref="UntilDeadline"/> pipeline retried, or null when the first attempt was cut short.</summary>
    public static TException? LastError<TException>(ResilienceContext context, ResiliencePropertyKey<TException> key)
        where TException : Exception => context.Properties.GetValue(key, null!);
}
