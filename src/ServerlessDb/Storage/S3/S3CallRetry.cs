using Amazon.Runtime;
using Polly;
using ServerlessDb.Resilience;

namespace ServerlessDb.Storage.S3;

/// <summary>
/// One S3 call of a background pass (the chunk collector, the lease reaper), retried through S3's transient failures
/// (<see cref="S3Errors.IsTransient"/>, and any the caller adds) with <see cref="Backoff.UntilDeadline"/> for a window
/// of its own; when the window ends, the last failure is thrown, so the pass can say what kept failing. Other failures
/// are thrown at once.
/// </summary>
internal sealed class S3CallRetry
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(4);
    private static readonly ResiliencePropertyKey<Exception> LastErrorKey = new("ServerlessDb.S3CallRetry.LastError");

    private readonly TimeProvider _time;
    private readonly TimeSpan _window;
    private readonly ResiliencePipeline _pipeline;

    /// <param name="alsoRetry">failures retried besides S3's transient ones (the lease reaper's 409 ConditionalRequestConflict).</param>
    public S3CallRetry(TimeProvider time, TimeSpan window, Func<Exception, bool>? alsoRetry = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _window = window;
        // The pipeline asks only while the context's token is not cancelled, so no token need reach IsTransient.
        _pipeline = Backoff.UntilDeadline<Exception>(
            time, e => S3Errors.IsTransient(e, CancellationToken.None) || alsoRetry?.Invoke(e) == true, FirstRetryDelay, MaxRetryDelay, LastErrorKey);
    }

    /// <exception cref="AmazonServiceException">S3 refused the call, or kept failing for the whole window.</exception>
    /// <exception cref="AmazonClientException">S3 did not answer within the window.</exception>
    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var window = new CancellationTokenSource(_window, _time);
        using var waits = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, window.Token);
        var context = ResilienceContextPool.Shared.Get(waits.Token);
        try
        {
            // Each attempt gets the caller's token: the client's own timeout (the same window) ends a hung one.
            return await _pipeline.ExecuteAsync(async _ => await call(cancellationToken), context);
        }
        catch (OperationCanceledException) when (window.IsCancellationRequested && !cancellationToken.IsCancellationRequested && Backoff.LastError(context, LastErrorKey) is { } last)
        {
            throw last is AmazonServiceException ? last : new AmazonClientException($"S3 did not answer within {_window.TotalSeconds:0.###} s: {S3Errors.Describe(last)}", last);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
