using ServerlessDb.Storage;

namespace ServerlessDb.UnitTests.Storage;

public sealed class BackendRetryTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(1);

    private static ObjectBackendException Error(ObjectBackendFailure failure, string detail) => new(failure, "GetObject", "s3://bucket/key", detail);

    [Fact]
    public async Task A_transient_failure_is_retried_until_the_call_succeeds()
    {
        var retry = new BackendRetry(TimeProvider.System, Short, Short, TimeSpan.FromSeconds(30), deadlineEndsAttempt: true);
        var attempts = 0;

        var answer = await retry.RunAsync(_ => ++attempts < 3 ? throw Error(ObjectBackendFailure.Unavailable, "SlowDown (503): Please reduce your request rate.") : Task.FromResult("ok"), CancellationToken.None);

        Assert.Equal("ok", answer);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task A_failure_not_worth_retrying_is_thrown_at_once_as_it_is()
    {
        var retry = new BackendRetry(TimeProvider.System, Short, Short, TimeSpan.FromSeconds(30), deadlineEndsAttempt: true);
        var attempts = 0;

        var error = await Assert.ThrowsAsync<ObjectBackendException>(() => retry.RunAsync<string>(_ => { attempts++; throw Error(ObjectBackendFailure.Refused, "AccessDenied (403): Access Denied"); }, CancellationToken.None));

        Assert.Equal(ObjectBackendFailure.Refused, error.Failure);
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task A_body_that_broke_while_it_was_read_is_retried_but_a_condition_that_failed_is_not()
    {
        var retry = new BackendRetry(TimeProvider.System, Short, Short, TimeSpan.FromSeconds(30), deadlineEndsAttempt: true);
        var attempts = 0;

        await retry.RunAsync(_ => ++attempts < 2 ? throw new IOException("The response ended prematurely.") : Task.FromResult(true), CancellationToken.None);
        var condition = await Assert.ThrowsAsync<ObjectBackendException>(() => retry.RunAsync<bool>(_ => throw Error(ObjectBackendFailure.ConditionFailed, "PreconditionFailed (412)"), CancellationToken.None));

        Assert.Equal(2, attempts);
        Assert.Equal(ObjectBackendFailure.ConditionFailed, condition.Failure);
    }

    [Fact]
    public async Task A_failure_the_caller_adds_is_retried_too()
    {
        var retry = new BackendRetry(TimeProvider.System, Short, Short, TimeSpan.FromSeconds(30), deadlineEndsAttempt: false, alsoRetry: e => e is ArgumentException);
        var attempts = 0;

        await retry.RunAsync(_ => ++attempts < 2 ? throw new ArgumentException("not yet") : Task.FromResult(true), CancellationToken.None);

        Assert.Equal(2, attempts);
    }

    [Fact]
    public async Task The_deadline_ends_the_retries_with_the_last_failure()
    {
        var retry = new BackendRetry(TimeProvider.System, Short, Short, TimeSpan.FromMilliseconds(200), deadlineEndsAttempt: false);

        var error = await Assert.ThrowsAsync<BackendRetryExpiredException>(() => retry.RunAsync<string>(_ => throw Error(ObjectBackendFailure.Unavailable, "SlowDown (503): Please reduce your request rate."), CancellationToken.None));

        Assert.Equal(ObjectBackendFailure.Unavailable, Assert.IsType<ObjectBackendException>(error.LastError).Failure);
        Assert.StartsWith("S3 did not answer within 0.2 s: SlowDown (503)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_a_deadline_that_ends_attempts_cuts_one_in_flight()
    {
        var cutting = new BackendRetry(TimeProvider.System, Short, Short, TimeSpan.FromMilliseconds(100), deadlineEndsAttempt: true);
        var waiting = new BackendRetry(TimeProvider.System, Short, Short, TimeSpan.FromMilliseconds(100), deadlineEndsAttempt: false);

        var cut = await Assert.ThrowsAsync<BackendRetryExpiredException>(() => cutting.RunAsync(async token => { await Task.Delay(TimeSpan.FromSeconds(30), token); return true; }, CancellationToken.None));
        var finished = await waiting.RunAsync(async token => { await Task.Delay(TimeSpan.FromMilliseconds(300), token); return true; }, CancellationToken.None);

        Assert.Null(cut.LastError);
        Assert.True(finished);
    }

    [Fact]
    public async Task Without_a_deadline_of_its_own_the_callers_token_ends_the_retries_as_a_deadline()
    {
        var retry = new BackendRetry(TimeProvider.System, Short, Short, deadline: null, deadlineEndsAttempt: false);
        using var callerDeadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        var error = await Assert.ThrowsAsync<BackendRetryExpiredException>(() => retry.RunAsync<string>(_ => throw Error(ObjectBackendFailure.Unavailable, "InternalError (500): We encountered an internal error."), callerDeadline.Token));

        Assert.Null(error.Deadline);
        Assert.StartsWith("InternalError (500)", Assert.IsType<ObjectBackendException>(error.LastError).Detail, StringComparison.Ordinal);
    }
}
