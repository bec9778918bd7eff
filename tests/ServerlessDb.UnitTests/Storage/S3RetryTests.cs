using System.Net;
using Amazon.S3;
using ServerlessDb.Storage.S3;

namespace ServerlessDb.UnitTests.Storage;

public sealed class S3RetryTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(1);

    private static AmazonS3Exception Error(HttpStatusCode status, string code) => new($"S3 says {code}") { StatusCode = status, ErrorCode = code };

    [Fact]
    public async Task A_transient_failure_is_retried_until_the_call_succeeds()
    {
        var retry = new S3Retry(TimeProvider.System, Short, Short, TimeSpan.FromSeconds(30), deadlineEndsAttempt: true);
        var attempts = 0;

        var answer = await retry.RunAsync(_ => ++attempts < 3 ? throw Error(HttpStatusCode.ServiceUnavailable, "SlowDown") : Task.FromResult("ok"), CancellationToken.None);

        Assert.Equal("ok", answer);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task A_failure_not_worth_retrying_is_thrown_at_once_as_it_is()
    {
        var retry = new S3Retry(TimeProvider.System, Short, Short, TimeSpan.FromSeconds(30), deadlineEndsAttempt: true);
        var attempts = 0;

        var error = await Assert.ThrowsAsync<AmazonS3Exception>(() => retry.RunAsync<string>(_ => { attempts++; throw Error(HttpStatusCode.Forbidden, "AccessDenied"); }, CancellationToken.None));

        Assert.Equal("AccessDenied", error.ErrorCode);
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task A_failure_the_caller_adds_is_retried_too()
    {
        var retry = new S3Retry(TimeProvider.System, Short, Short, TimeSpan.FromSeconds(30), deadlineEndsAttempt: false, alsoRetry: e => e is ArgumentException);
        var attempts = 0;

        await retry.RunAsync(_ => ++attempts < 2 ? throw new ArgumentException("not yet") : Task.FromResult(true), CancellationToken.None);

        Assert.Equal(2, attempts);
    }

    [Fact]
    public async Task The_deadline_ends_the_retries_with_the_last_failure()
    {
        var retry = new S3Retry(TimeProvider.System, Short, Short, TimeSpan.FromMilliseconds(200), deadlineEndsAttempt: false);

        var error = await Assert.ThrowsAsync<S3RetryExpiredException>(() => retry.RunAsync<string>(_ => throw Error(HttpStatusCode.ServiceUnavailable, "SlowDown"), CancellationToken.None));

        Assert.Equal("SlowDown", Assert.IsType<AmazonS3Exception>(error.LastError).ErrorCode);
        Assert.StartsWith("S3 did not answer within 0.2 s: SlowDown (503)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_a_deadline_that_ends_attempts_cuts_one_in_flight()
    {
        var cutting = new S3Retry(TimeProvider.System, Short, Short, TimeSpan.FromMilliseconds(100), deadlineEndsAttempt: true);
        var waiting = new S3Retry(TimeProvider.System, Short, Short, TimeSpan.FromMilliseconds(100), deadlineEndsAttempt: false);

        var cut = await Assert.ThrowsAsync<S3RetryExpiredException>(() => cutting.RunAsync(async token => { await Task.Delay(TimeSpan.FromSeconds(30), token); return true; }, CancellationToken.None));
        var finished = await waiting.RunAsync(async token => { await Task.Delay(TimeSpan.FromMilliseconds(300), token); return true; }, CancellationToken.None);

        Assert.Null(cut.LastError);
        Assert.True(finished);
    }

    [Fact]
    public async Task Without_a_deadline_of_its_own_the_callers_token_ends_the_retries_as_a_deadline()
    {
        var retry = new S3Retry(TimeProvider.System, Short, Short, deadline: null, deadlineEndsAttempt: false);
        using var callerDeadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        var error = await Assert.ThrowsAsync<S3RetryExpiredException>(() => retry.RunAsync<string>(_ => throw Error(HttpStatusCode.InternalServerError, "InternalError"), callerDeadline.Token));

        Assert.Null(error.Deadline);
        Assert.Equal("InternalError", Assert.IsType<AmazonS3Exception>(error.LastError).ErrorCode);
    }
}
