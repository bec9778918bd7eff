using Amazon.EC2;
using Amazon.Runtime;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using Moq;
using ServerlessDb.Errors;
using ServerlessDb.Locking;
using ServerlessDb.Locking.Ec2;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Locking;

public sealed class SecurityGroupDatabaseLockTests
{
    private const string VpcId = "vpc-1a2b3c4d";
    private const string Prefix = "serverlessdb-lock-";
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    private readonly Mock<IEc2Client> _ec2 = new(MockBehavior.Strict);
    private readonly RecordingLogSink _log = new();

    // Made as the client makes it from the SDK's exception, so each code gets the kind the real mapping gives it.
    private static Ec2Exception Error(string code, HttpStatusCode status = HttpStatusCode.BadRequest) =>
        Ec2Client.Classify("CreateSecurityGroup", new AmazonEC2Exception($"EC2 says {code}", ErrorType.Sender, code, "req-id", status), CancellationToken.None)!;

    private SecurityGroupDatabaseLock Lock(TimeProvider? timeProvider = null, TimeSpan? lockWait = null) =>
        new(_ec2.Object, VpcId, Prefix, lockWait ?? LockWait, cleanupWait: TimeSpan.FromSeconds(1), timeProvider ?? TimeProvider.System, _log);

    private void SetupCreate(params Func<string>[] attempts)
    {
        var sequence = _ec2.SetupSequence(e => e.CreateSecurityGroupAsync(
            Prefix + "orders", VpcId, It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string>>(), It.IsAny<CancellationToken>()));
        foreach (var attempt in attempts)
        {
            sequence = sequence.Returns(() => Task.FromResult(attempt()));
        }
    }

    [Fact]
    public async Task Acquire_creates_the_group_named_after_the_database_tagged_with_CreateTime_and_Holder()
    {
        var now = new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);
        IReadOnlyDictionary<string, string>? tags = null;
        string? description = null;
        _ec2.Setup(e => e.CreateSecurityGroupAsync(Prefix + "orders", VpcId, It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string>>(), It.IsAny<CancellationToken>()))
            .Callback((string _, string _, string d, IReadOnlyDictionary<string, string> t, CancellationToken _) => (description, tags) = (d, t))
            .ReturnsAsync("sg-0123");

        var lease = await Lock(new FakeTimeProvider(now)).AcquireAsync("orders", "req-1", CancellationToken.None);

        Assert.Equal(new LockLease("orders", "req-1", "sg-0123", now), lease);
        Assert.Equal(new Dictionary<string, string> { ["CreateTime"] = "1704164645", ["Holder"] = "req-1" }, tags);
        Assert.Contains("orders", description, StringComparison.Ordinal);
        Assert.True(LockGroupNaming.TryParseCreateTime(tags!, out var createdAt));
        Assert.Equal(now, createdAt);
    }

    [Fact]
    public async Task Acquire_waits_while_the_group_exists_and_takes_it_once_created()
    {
        SetupCreate(
            () => throw Error("InvalidGroup.Duplicate"),
            () => throw Error("InvalidGroup.Duplicate"),
            () => "sg-after-contention");

        // On fake time: two jittered waits on a busy machine could outlast a short real lock wait, and this test is about waiting, not its length.
        var time = new FakeTimeProvider();
        var lease = await time.RunAsync(Lock(time, lockWait: TimeSpan.FromSeconds(20)).AcquireAsync("orders", "req-1", CancellationToken.None), Step);

        Assert.Equal("sg-after-contention", lease.Token);
        _ec2.Verify(e => e.CreateSecurityGroupAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string>>(), It.IsAny<CancellationToken>()), Times.Exactly(3));
    }

    [Fact]
    public async Task Acquire_retries_throttling_and_transient_failures()
    {
        SetupCreate(
            () => throw Error("RequestLimitExceeded", HttpStatusCode.ServiceUnavailable),
            () => throw new Ec2Exception("CreateSecurityGroup", Ec2Exception.TransportErrorCode, "connection reset", Ec2ErrorKind.Transient),
            () => throw Error("InternalError", HttpStatusCode.InternalServerError),
            () => "sg-after-throttling");

        // Three jittered backoffs may not fit a second; this test is about retrying, not the wait.
        var time = new FakeTimeProvider();
        var lease = await time.RunAsync(Lock(time, lockWait: TimeSpan.FromSeconds(20)).AcquireAsync("orders", "req-1", CancellationToken.None), Step);

        Assert.Equal("sg-after-throttling", lease.Token);
    }

    [Fact]
    public async Task Acquire_gives_up_with_LockUnavailable_about_when_the_wait_ends()
    {
        _ec2.Setup(e => e.CreateSecurityGroupAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string>>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(Error("InvalidGroup.Duplicate"));
        var time = new FakeTimeProvider();

        var acquiring = Lock(time).AcquireAsync("orders", "req-1", CancellationToken.None);
        await time.AdvanceAsync(LockWait - Tick, Step);
        Assert.False(acquiring.IsCompleted, "gave up before the wait ended");
        time.Advance(Tick);
        var error = await Assert.ThrowsAsync<LockUnavailableException>(() => acquiring.WaitAsync(Bounded.DefaultBound));

        Assert.True(error.RetryAfter > TimeSpan.Zero);
        Assert.Contains("held by another writer", error.Message, StringComparison.Ordinal);
        Assert.Contains("orders", error.Message, StringComparison.Ordinal);
        _ec2.Verify(e => e.CreateSecurityGroupAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string>>(), It.IsAny<CancellationToken>()), Times.AtLeast(2));
    }

    [Fact]
    public async Task Acquire_that_keeps_being_throttled_names_the_code_when_it_gives_up()
    {
        _ec2.Setup(e => e.CreateSecurityGroupAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string>>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(Error("RequestLimitExceeded", HttpStatusCode.ServiceUnavailable));

        var error = await Assert.ThrowsAsync<LockUnavailableException>(() => Lock().AcquireAsync("orders", "req-1", CancellationToken.None));

        Assert.Contains("RequestLimitExceeded", error.Message, StringComparison.Ordinal);
        Assert.Contains("CreateSecurityGroup", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("UnauthorizedOperation", HttpStatusCode.Forbidden)]
    [InlineData("AuthFailure", HttpStatusCode.Unauthorized)]
    [InlineData("InvalidVpcID.NotFound", HttpStatusCode.BadRequest)]
    public async Task Acquire_surfaces_a_non_retryable_error_at_once(string code, HttpStatusCode status)
    {
        SetupCreate(() => throw Error(code, status));

        // The fake clock stands still: a backoff would wait on it for ever, and the bound turns that into a failure.
        var error = await Assert.ThrowsAsync<LockUnavailableException>(
            () => Lock(new FakeTimeProvider()).AcquireAsync("orders", "req-1", CancellationToken.None).WaitAsync(Bounded.DefaultBound));

        Assert.Contains("CreateSecurityGroup", error.Message, StringComparison.Ordinal);
        Assert.Contains(code, error.Message, StringComparison.Ordinal);
        Assert.Equal(code, Assert.IsType<Ec2Exception>(error.InnerException).Code);
        _ec2.Verify(e => e.CreateSecurityGroupAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string>>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Acquire_takes_its_own_group_when_the_answer_to_its_create_was_lost()
    {
        SetupCreate(
            () => throw new Ec2Exception("CreateSecurityGroup", Ec2Exception.TransportErrorCode, "timed out", Ec2ErrorKind.Transient),
            () => throw Error("InvalidGroup.Duplicate"));
        _ec2.Setup(e => e.DescribeSecurityGroupsAsync(It.IsAny<IReadOnlyList<Ec2Filter>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync([new SecurityGroupInfo("sg-mine", Prefix + "orders", new Dictionary<string, string> { ["CreateTime"] = "1704164645", ["Holder"] = "req-1" })]);

        var lease = await Lock().AcquireAsync("orders", "req-1", CancellationToken.None);

        Assert.Equal("sg-mine", lease.Token);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1704164645), lease.AcquiredAt);
        _ec2.Verify(e => e.DescribeSecurityGroupsAsync(
            It.Is<IReadOnlyList<Ec2Filter>>(f => f.Any(x => x.Name == "group-name" && x.Values.SequenceEqual(new[] { Prefix + "orders" })) && f.Any(x => x.Name == "vpc-id" && x.Values.SequenceEqual(new[] { VpcId }))),
            It.IsAny<CancellationToken>()));
    }

    [Fact]
    public async Task Acquire_does_not_take_someone_elses_group_after_a_lost_answer()
    {
        SetupCreate(
            () => throw new Ec2Exception("CreateSecurityGroup", Ec2Exception.TransportErrorCode, "timed out", Ec2ErrorKind.Transient),
            () => throw Error("InvalidGroup.Duplicate"),
            () => "sg-later");
        _ec2.Setup(e => e.DescribeSecurityGroupsAsync(It.IsAny<IReadOnlyList<Ec2Filter>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync([new SecurityGroupInfo("sg-theirs", Prefix + "orders", new Dictionary<string, string> { ["Holder"] = "req-2" })]);

        var lease = await Lock().AcquireAsync("orders", "req-1", CancellationToken.None);

        Assert.Equal("sg-later", lease.Token);
    }

    [Fact]
    public async Task Acquire_stops_when_the_caller_cancels()
    {
        _ec2.Setup(e => e.CreateSecurityGroupAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string>>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(Error("InvalidGroup.Duplicate"));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        // A lock wait far longer than the cancellation, so that on a busy machine only the caller can end the wait.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Lock(lockWait: TimeSpan.FromMinutes(5)).AcquireAsync("orders", "req-1", cancel.Token));
    }

    [Fact]
    public async Task Release_deletes_the_group_of_the_lease()
    {
        _ec2.Setup(e => e.DeleteSecurityGroupAsync("sg-0123", It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);

        await Lock().ReleaseAsync(new LockLease("orders", "req-1", "sg-0123", DateTimeOffset.UtcNow), CancellationToken.None);

        _ec2.Verify(e => e.DeleteSecurityGroupAsync("sg-0123", It.IsAny<CancellationToken>()), Times.Once);
        Assert.Empty(_log.Lines);
    }

    [Fact]
    public async Task Release_of_a_reaped_lock_is_a_warning_not_an_error()
    {
        _ec2.Setup(e => e.DeleteSecurityGroupAsync("sg-0123", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new Ec2Exception("DeleteSecurityGroup", "InvalidGroup.NotFound", "The security group 'sg-0123' does not exist", Ec2ErrorKind.GroupNotFound, HttpStatusCode.BadRequest));

        await Lock().ReleaseAsync(new LockLease("orders", "req-1", "sg-0123", DateTimeOffset.UtcNow), CancellationToken.None);

        using var warning = System.Text.Json.JsonDocument.Parse(Assert.Single(_log.Lines));
        var line = warning.RootElement;
        Assert.Equal("warn", line.GetProperty("level").GetString());
        Assert.True(line.TryGetProperty("time", out _));
        Assert.Equal("orders", line.GetProperty("database").GetString());
        Assert.Equal("sg-0123", line.GetProperty("lockToken").GetString());
        Assert.Contains("reaper", line.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Release_retries_transient_failures()
    {
        _ec2.SetupSequence(e => e.DeleteSecurityGroupAsync("sg-0123", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new Ec2Exception("DeleteSecurityGroup", "RequestLimitExceeded", "slow down", Ec2ErrorKind.Throttling, HttpStatusCode.ServiceUnavailable))
            .ThrowsAsync(new Ec2Exception("DeleteSecurityGroup", Ec2Exception.TransportErrorCode, "connection reset", Ec2ErrorKind.Transient))
            .Returns(Task.CompletedTask);

        await Lock().ReleaseAsync(new LockLease("orders", "req-1", "sg-0123", DateTimeOffset.UtcNow), CancellationToken.None);

        _ec2.Verify(e => e.DeleteSecurityGroupAsync("sg-0123", It.IsAny<CancellationToken>()), Times.Exactly(3));
    }

    [Fact]
    public async Task Release_that_keeps_failing_transiently_gives_up_when_the_callers_window_closes()
    {
        _ec2.Setup(e => e.DeleteSecurityGroupAsync("sg-0123", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new Ec2Exception("DeleteSecurityGroup", "Unavailable", "try later", Ec2ErrorKind.Transient, HttpStatusCode.ServiceUnavailable));
        var time = new FakeTimeProvider();
        using var window = new CancellationTokenSource(TimeSpan.FromSeconds(1), time);

        var releasing = Lock(time).ReleaseAsync(new LockLease("orders", "req-1", "sg-0123", DateTimeOffset.UtcNow), window.Token);
        await time.AdvanceAsync(TimeSpan.FromSeconds(1) - Tick, Step);
        Assert.False(releasing.IsCompleted, "gave up before the caller's window closed");
        time.Advance(Tick);
        var error = await Assert.ThrowsAsync<LockUnavailableException>(() => releasing.WaitAsync(Bounded.DefaultBound));

        Assert.Contains("DeleteSecurityGroup", error.Message, StringComparison.Ordinal);
        Assert.Contains("Unavailable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Release_keeps_retrying_throttling_for_as_long_as_the_caller_allows()
    {
        // Five seconds of throttling, then EC2 lets the delete through: a release that gave up after a
        // fixed few seconds would leave the group blocking every writer until the reaper.
        var time = new FakeTimeProvider();
        var start = time.GetUtcNow();
        _ec2.Setup(e => e.DeleteSecurityGroupAsync("sg-0123", It.IsAny<CancellationToken>()))
            .Returns(() => time.GetUtcNow() - start < TimeSpan.FromSeconds(5)
                ? Task.FromException(new Ec2Exception("DeleteSecurityGroup", "RequestLimitExceeded", "Request limit exceeded.", Ec2ErrorKind.Throttling, HttpStatusCode.ServiceUnavailable))
                : Task.CompletedTask);
        using var window = new CancellationTokenSource(TimeSpan.FromSeconds(20), time);

        await time.RunAsync(Lock(time).ReleaseAsync(new LockLease("orders", "req-1", "sg-0123", DateTimeOffset.UtcNow), window.Token), Step);

        Assert.True(time.GetUtcNow() - start >= TimeSpan.FromSeconds(5), $"released after {time.GetUtcNow() - start}");
        Assert.Empty(_log.Lines);
    }

    [Fact]
    public async Task Release_surfaces_a_non_retryable_error()
    {
        _ec2.Setup(e => e.DeleteSecurityGroupAsync("sg-0123", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new Ec2Exception("DeleteSecurityGroup", "UnauthorizedOperation", "not allowed", Ec2ErrorKind.Other, HttpStatusCode.Forbidden));

        var error = await Assert.ThrowsAsync<LockUnavailableException>(
            () => Lock().ReleaseAsync(new LockLease("orders", "req-1", "sg-0123", DateTimeOffset.UtcNow), CancellationToken.None));

        Assert.Contains("UnauthorizedOperation", error.Message, StringComparison.Ordinal);
        Assert.Empty(_log.Lines);
        _ec2.Verify(e => e.DeleteSecurityGroupAsync("sg-0123", It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task The_options_constructor_uses_the_prefix_and_vpc_of_the_options()
    {
        var options = new SecurityGroupLockOptions("vpc-opt", "custom-", TimeSpan.FromSeconds(20));
        _ec2.Setup(e => e.CreateSecurityGroupAsync("custom-orders", "vpc-opt", It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync("sg-opt");

        var lease = await new SecurityGroupDatabaseLock(_ec2.Object, options, TimeProvider.System, _log).AcquireAsync("orders", "req-1", CancellationToken.None);

        Assert.Equal("sg-opt", lease.Token);
    }

    // The create is in flight when the request's deadline passes; EC2 may still carry it out.
    private void SetupCreateThatTheRequestAbandons(CancellationTokenSource request) =>
        _ec2.Setup(e => e.CreateSecurityGroupAsync(Prefix + "orders", VpcId, It.IsAny<string>(), It.IsAny<IReadOnlyDictionary<string, string>>(), It.IsAny<CancellationToken>()))
            .Returns(async (string _, string _, string _, IReadOnlyDictionary<string, string> _, CancellationToken token) =>
            {
                await request.CancelAsync();
                token.ThrowIfCancellationRequested();
                return "never seen";
            });

    [Fact]
    public async Task A_create_the_request_abandons_is_deleted_if_it_landed_anyway()
    {
        using var request = new CancellationTokenSource();
        SetupCreateThatTheRequestAbandons(request);
        _ec2.Setup(e => e.DescribeSecurityGroupsAsync(It.IsAny<IReadOnlyList<Ec2Filter>>(), It.Is<CancellationToken>(t => !t.IsCancellationRequested)))
            .ReturnsAsync([new SecurityGroupInfo("sg-orphan", Prefix + "orders", new Dictionary<string, string> { ["CreateTime"] = "1", ["Holder"] = "req-1" })]);
        _ec2.Setup(e => e.DeleteSecurityGroupAsync("sg-orphan", It.Is<CancellationToken>(t => !t.IsCancellationRequested))).Returns(Task.CompletedTask);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Lock().AcquireAsync("orders", "req-1", request.Token));

        _ec2.Verify(e => e.DeleteSecurityGroupAsync("sg-orphan", It.IsAny<CancellationToken>()), Times.Once);
        Assert.Contains(_log.Lines, w => w.Contains("sg-orphan", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_create_the_request_abandons_deletes_nothing_when_it_did_not_land_or_another_holder_has_the_group()
    {
        using var request = new CancellationTokenSource();
        SetupCreateThatTheRequestAbandons(request);
        _ec2.Setup(e => e.DescribeSecurityGroupsAsync(It.IsAny<IReadOnlyList<Ec2Filter>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync([new SecurityGroupInfo("sg-other", Prefix + "orders", new Dictionary<string, string> { ["CreateTime"] = "1", ["Holder"] = "someone-else" })]);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Lock().AcquireAsync("orders", "req-1", request.Token));

        // Strict mock: any DeleteSecurityGroupAsync call would have thrown.
        _ec2.Verify(e => e.DescribeSecurityGroupsAsync(It.IsAny<IReadOnlyList<Ec2Filter>>(), It.IsAny<CancellationToken>()), Times.Once);
    }
}
