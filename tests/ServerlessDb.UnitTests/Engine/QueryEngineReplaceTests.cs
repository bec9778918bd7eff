using Microsoft.Data.Sqlite;
using Moq;
using ServerlessDb.Domain;
using ServerlessDb.Engine;
using ServerlessDb.Errors;
using ServerlessDb.Locking;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Engine;

/// <summary>The engine's replacement of a whole database (what a load and a restore commit).</summary>
public sealed class QueryEngineReplaceTests
{
    private static readonly LockLease Lease = new("default", "replace-request", "sg-1", DateTimeOffset.UnixEpoch);

    [Fact]
    public async Task A_replacement_commits_the_file_under_the_lock_as_a_new_version()
    {
        var databaseLock = new Mock<IDatabaseLock>(MockBehavior.Strict);
        databaseLock.Setup(l => l.AcquireAsync("default", It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(Lease);
        databaseLock.Setup(l => l.ReleaseAsync(Lease, It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);
        using var harness = new EngineHarness(databaseLock: databaseLock.Object);
        await harness.RunAsync(RequestKind.Execute, "CREATE TABLE old(a)");
        var before = harness.Store.CurrentETag("default");
        var heldDuringCommit = false;
        harness.Store.BeforeCommit = _ => heldDuringCommit = databaseLock.Invocations.Count == 3;

        var trace = new RequestTrace();
        var outcome = await harness.Engine.ReplaceAsync("default", "replace-request", NewDatabase(harness, "CREATE TABLE replaced(b); INSERT INTO replaced VALUES (7)"), trace, CancellationToken.None);

        Assert.True(heldDuringCommit);
        Assert.True(outcome.Committed);
        Assert.NotEqual(before, harness.Store.CurrentETag("default"));
        Assert.Equal(outcome.Version.ETag, harness.Store.CurrentETag("default"));
        Assert.Equal(before, trace.VersionRead);
        var json = EngineHarness.Json(await harness.RunAsync(RequestKind.Query, "SELECT name FROM sqlite_master"));
        Assert.Contains("replaced", json);
        Assert.DoesNotContain("\"old\"", json);
        databaseLock.Verify(l => l.ReleaseAsync(Lease, It.IsAny<CancellationToken>()), Times.Exactly(2));
    }

    [Fact]
    public async Task A_replacement_that_loses_a_race_to_an_unlocked_writer_commits_on_the_newer_version()
    {
        using var harness = new EngineHarness();
        await harness.RunAsync(RequestKind.Execute, "CREATE TABLE old(a)");
        var competitor = NewDatabase(harness, "CREATE TABLE competitor(c)");
        var raced = false;
        harness.Store.BeforeCommit = database =>
        {
            if (!raced)
            {
                raced = true;
                harness.Store.CommitFrom(database, competitor);
            }
        };

        var trace = new RequestTrace();
        var outcome = await harness.Engine.ReplaceAsync("default", "replace-request", NewDatabase(harness, "CREATE TABLE replaced(b)"), trace, CancellationToken.None);

        Assert.Equal(2, trace.Attempts);
        Assert.Equal(1, trace.Conflicts);
        Assert.Equal(1, harness.Store.ConflictsRaised);
        Assert.Equal(outcome.Version.ETag, harness.Store.CurrentETag("default"));
        Assert.Contains("replaced", EngineHarness.Json(await harness.RunAsync(RequestKind.Query, "SELECT name FROM sqlite_master")));
    }

    [Fact]
    public async Task A_replacement_asks_only_for_the_current_version_and_downloads_nothing()
    {
        using var harness = new EngineHarness();
        await harness.RunAsync(RequestKind.Execute, "CREATE TABLE old(a)");
        harness.Store.CommitFrom("default", NewDatabase(harness, "CREATE TABLE foreign_write(c)")); // this process's cache is now stale
        var readsBefore = harness.Store.ReadStaleness.Count;

        var trace = new RequestTrace();
        await harness.Engine.ReplaceAsync("default", "replace-request", NewDatabase(harness, "CREATE TABLE replaced(b)"), trace, CancellationToken.None);

        Assert.Equal(readsBefore, harness.Store.ReadStaleness.Count);
        Assert.Equal(0, trace.Downloads);
        Assert.Equal(0, trace.BytesDownloaded);
    }

    [Fact]
    public async Task A_replacement_that_keeps_conflicting_reports_the_conflict_and_leaves_the_file_to_the_caller()
    {
        using var harness = new EngineHarness(writeAttempts: 2);
        await harness.RunAsync(RequestKind.Execute, "CREATE TABLE old(a)");
        var competitor = NewDatabase(harness, "CREATE TABLE competitor(c)");
        harness.Store.BeforeCommit = database => harness.Store.CommitFrom(database, competitor);
        var replacement = NewDatabase(harness, "CREATE TABLE replaced(b)");
        var commitsBefore = harness.Store.Commits;

        await Assert.ThrowsAsync<WriteConflictException>(() =>
            harness.Engine.ReplaceAsync("default", "replace-request", replacement, new RequestTrace(), CancellationToken.None));

        Assert.True(File.Exists(replacement));
        Assert.Equal(commitsBefore, harness.Store.Commits);
        Assert.Equal(2, harness.Store.ConflictsRaised);
    }

    private static string NewDatabase(EngineHarness harness, string sql)
    {
        var path = Path.Combine(harness.WorkDirectory, Guid.NewGuid().ToString("N") + ".sqlite");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }

        return path;
    }
}
