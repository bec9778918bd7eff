using Polly;
using ServerlessDb.Resilience;

namespace ServerlessDb.Storage;

/// <summary>
/// The one runner of <see cref="IObjectBackend"/> calls, for the store, the chunk collector, the lease lock and its
/// reaper: a call is retried through the backend's transient failures (<see cref="ObjectBackendFailure.Unavailable"/>,
/// a body broken while it was read) and those its caller adds, with exponential backoff and jitter
/// (<see cref="Backoff"/>), until a deadline; any other failure is thrown at once, as it is. When the deadline ends the
/// retries, the one thing thrown is a <see cref="BackendRetryExpiredException"/> carrying the last failure, so every
/// caller can say what kept failing.
/// </summary>
internal sealed class BackendRetry
{
    private static readonly ResiliencePropertyKey<Exception> LastErrorKey = new("ServerlessDb.BackendRetry.LastError");

    // A background pass has time: it waits longer between attempts than a request does.
    private static readonly TimeSpan PassFirstDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan PassMaxDelay = TimeSpan.FromSeconds(4);

    private readonly TimeProvider _time;
    private readonly TimeSpan? _deadline;
    private readonly bool _deadlineEndsAttempt;
    private readonly Func<Exception, bool> _retryable;
    private readonly ResiliencePipeline _pipeline;

    /// <param name="firstDelay">the first wait between attempts; each next one doubles, with jitter, up to <paramref name="maxDelay"/>.</param>
    /// <param name="deadline">
    /// how long the retries of one call may go on; null when the caller's token is the deadline (a release given the time
    /// its request has left), whose cancellation then ends the retries as an expired deadline does.
    /// </param>
    /// <param name="deadlineEndsAttempt">
    /// whether the deadline also cancels an attempt in flight (a read or a commit, whose caller is waiting), or only the
    /// waits between attempts (a lease create, which could land while no one listens; a pass, whose client's own
    /// timeout ends a hung attempt). The caller's own token reaches every attempt.
    /// </param>
    /// <param name="alsoRetry">failures retried besides S3's transient ones (a commit not yet visible, a lease held by another writer, ...).</param>
    public BackendRetry(TimeProvider time, TimeSpan firstDelay, TimeSpan maxDelay, TimeSpan? deadline, bool deadlineEndsAttempt, Func<Exception, bool>? alsoRetry = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _deadline = deadline;
        _deadlineEndsAttempt = deadlineEndsAttempt;

        // The pipeline asks only while the context's token is not cancelled, so an OperationCanceledException it sees
        // is an HTTP timeout, worth another attempt, never our deadline or the caller giving up.
        _retryable = e => IsTransient(e) || alsoRetry?.Invoke(e) == true;
        _pipeline = Backoff.UntilDeadline(time, _retryable, firstDelay, maxDelay, LastErrorKey);
    }

    /// <summary>
    /// The retry of a background pass (the chunk collector, the lease reaper): each call for <paramref name="window"/>,
    /// whose end cuts only the waits (the client's own timeout, the same window, ends a hung attempt).
    /// </summary>
    public static BackendRetry ForPass(TimeProvider time, TimeSpan window, Func<Exception, bool>? alsoRetry = null) =>
        new(time, PassFirstDelay, PassMaxDelay, window, deadlineEndsAttempt: false, alsoRetry);

    /// <summary>
    /// Runs <paramref name="call"/> until it succeeds, fails in a way not worth retrying (thrown as it is), or the
    /// deadline passes: this runner's, or <paramref name="deadline"/> when given (a check with a budget of its own).
    /// </summary>
    /// <exception cref="BackendRetryExpiredException">the deadline passed before an attempt succeeded.</exception>
    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(call);
        var budget = deadline ?? _deadline;
        using var expiry = budget is { } window ? new CancellationTokenSource(window, _time) : null;
        using var waits = expiry is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, expiry.Token);
        var waitToken = waits?.Token ?? cancellationToken;
        var attemptToken = _deadlineEndsAttempt ? waitToken : cancellationToken;
        var context = ResilienceContextPool.Shared.Get(waitToken);
        try
        {
            return await _pipeline.ExecuteAsync(async _ => await call(attemptToken), context);
        }
        catch (Exception e) when (Expired() && (e is OperationCanceledException || _retryable(e)))
        {
            // The deadline cut a wait or an attempt short, or an attempt failed as it passed: either way, give up here.
            var last = e is OperationCanceledException ? Backoff.LastError(context, LastErrorKey) : e;
            throw new BackendRetryExpiredException(budget, last, e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        bool Expired() => expiry is null ? cancellationToken.IsCancellationRequested : expiry.IsCancellationRequested && !cancellationToken.IsCancellationRequested;
    }

    /// <summary>
    /// Worth another attempt: the backend was unavailable (throttled, a server error, no answer), an HTTP timeout (the
    /// pipeline asks only while its own token is not cancelled), or a body that broke while it was read.
    /// </summary>
    private static bool IsTransient(Exception exception) =>
        exception is ObjectBackendException { Failure: ObjectBackendFailure.Unavailable } or OperationCanceledException
        || (exception is not ObjectBackendException && NetworkFailures.HasNetworkCause(exception));
}
