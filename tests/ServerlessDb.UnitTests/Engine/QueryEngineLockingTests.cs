using Moq;
using ServerlessDb.Domain;
using ServerlessDb.Errors;
using ServerlessDb.Locking;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Engine;

public sealed class QueryEngineLockingTests
{
    private static readonly LockLease Lease = new("default", "test-request", "sg-123", DateTimeOffset.UnixEpoch);

    private static Mock<IDatabaseLock> GrantingLock()
    {
        var databaseLock = new Mock<IDatabaseLock>(MockBehavior.Strict);
        databaseLock.Setup(l => l.AcquireAsync("default", "test-request", It.IsAny<CancellationToken>())).ReturnsAsync(Lease);
        databaseLock.Setup(l => l.ReleaseAsync(Lease, It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);
        return databaseLock;
    }

    [Fact]
    public async Task A_write_holds_the_lock_around_its_commit_and_releases_it()
    {
        var databaseLock = GrantingLock();
        using var harness = new EngineHarness(databaseLock: databaseLock.Object);
        var heldDuringCommit = false;
        harness.Store.BeforeCommit = _ => heldDuringCommit = databaseLock.Invocations.Count == 1;

        await harness.RunAsync(RequestKind.Execute, "CREATE TABLE t(a)");

        Assert.True(heldDuringCommit);
        databaseLock.Verify(l => l.AcquireAsync("default", "test-request", It.IsAny<CancellationToken>()), Times.Once);
        databaseLock.Verify(l => l.ReleaseAsync(Lease, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_read_never_takes_the_lock()
    {
        var databaseLock = new Mock<IDatabaseLock>(MockBehavior.Strict);
        using var harness = new EngineHarness(databaseLock: databaseLock.Object);
        await harness.RunAsync(RequestKind.Request, "SELECT 1");
        databaseLock.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task The_lock_is_released_when_the_write_fails()
    {
        var databaseLock = GrantingLock();
        using var harness = new EngineHarness(writeAttempts: 1, databaseLock: databaseLock.Object);
        harness.Store.BeforeCommit = _ => throw new StorageUnavailableException("S3 is down");

        await Assert.ThrowsAsync<StorageUnavailableException>(() => harness.RunAsync(RequestKind.Execute, "CREATE TABLE t(a)"));
        databaseLock.Verify(l => l.ReleaseAsync(Lease, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_failed_release_after_a_commit_is_logged_and_the_commit_stands()
    {
        var databaseLock = GrantingLock();
        databaseLock.Setup(l => l.ReleaseAsync(Lease, It.IsAny<CancellationToken>()))
            .ThrowsAsync(new LockUnavailableException("EC2 throttled", TimeSpan.FromSeconds(5)));
        using var harness = new EngineHarness(databaseLock: databaseLock.Object);

        var outcome = await harness.RunAsync(RequestKind.Execute, "CREATE TABLE t(a)");

        Assert.True(outcome.Committed);
        var warning = Assert.Single(harness.Log.Lines);
        Assert.Contains("\"level\":\"warn\"", warning);
        Assert.Contains("sg-123", warning);
        Assert.Contains("EC2 throttled", warning);
    }

    [Fact]
    public async Task When_the_lock_is_not_acquired_nothing_runs()
    {
        var databaseLock = new Mock<IDatabaseLock>(MockBehavior.Strict);
        databaseLock.Setup(l => l.AcquireAsync("default", "test-request", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new LockUnavailableException("held", TimeSpan.FromSeconds(1)));
        using var harness = new EngineHarness(databaseLock: databaseLock.Object);

        await Assert.ThrowsAsync<LockUnavailableException>(() => harness.RunAsync(RequestKind.Execute, "CREATE TABLE t(a)"));
        Assert.Equal(0, harness.Store.Commits);
        Assert.Equal(0, harness.LastTrace.Attempts);
    }
}
