using System.Text.Json;
using ServerlessDb.Locking;
using ServerlessDb.Locking.S3;
using ServerlessDb.Storage;
using ServerlessDb.Storage.S3;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Locking.S3;

public sealed class ExpiredLeaseReaperTests
{
    private const string Folder = "databases/_locks/";
    private static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(150);

    private readonly InMemoryObjectBackend _bucket = new();
    private readonly RecordingLogSink _log = new();

    private ExpiredLeaseReaper Reaper() =>
        new(_bucket, new ExpiredLeaseReaperOptions(InMemoryObjectBackend.Bucket, "databases/", StaleAfter) { RetryWindow = TimeSpan.FromSeconds(1) }, TimeProvider.System, _log);

    private static string LeaseJson(string holder, DateTimeOffset acquiredAt, TimeSpan? duration = null) =>
        new Lease(holder, Guid.NewGuid().ToString("N"), acquiredAt, acquiredAt + (duration ?? StaleAfter)).ToString();

    private static string[] Names(IReadOnlyList<string> keys) => [.. keys];

    [Fact]
    public async Task A_pass_deletes_expired_leases_by_their_ETag_and_keeps_live_ones_and_what_is_not_a_lease()
    {
        var now = DateTimeOffset.UtcNow;
        var crashedETag = _bucket.Store(Folder + "orders.lease", LeaseJson("crashed", now.AddMinutes(-10)));
        _bucket.Store(Folder + "inventory.lease", LeaseJson("live", now.AddSeconds(-5)));
        _bucket.Store(Folder + "notes.txt", "not a lease");
        _bucket.Store("databases/orders.sqlite", "a database");

        var summary = await Reaper().ReapOnceAsync("event-1", CancellationToken.None);

        Assert.Equal([Folder + "orders.lease"], Names(summary.DeletedGroups));
        Assert.Equal([Folder + "inventory.lease"], Names(summary.KeptGroups));
        Assert.Equal((2, 0, 0), (summary.Found, summary.AlreadyGone, summary.Failed));
        Assert.Contains($"DELETE {Folder}orders.lease If-Match={crashedETag}", _bucket.Requests);
        Assert.Equal([Folder + "inventory.lease", Folder + "notes.txt", "databases/orders.sqlite"], _bucket.Keys);
        var line = JsonDocument.Parse(_log.Lines[^1]).RootElement;
        Assert.Equal("lock reaper pass", line.GetProperty("message").GetString());
        Assert.Equal("event-1", line.GetProperty("trigger").GetString());
        Assert.Equal(1, line.GetProperty("deleted").GetInt32());
        var metrics = line.GetProperty("_aws").GetProperty("CloudWatchMetrics")[0].GetProperty("Metrics").EnumerateArray().Select(m => m.GetProperty("Name").GetString());
        Assert.Contains("LocksDeleted", metrics);
    }

    [Fact]
    public async Task A_lease_past_its_own_expiry_but_younger_than_the_stale_threshold_is_kept()
    {
        var now = DateTimeOffset.UtcNow;
        _bucket.Store(Folder + "orders.lease", LeaseJson("short-lease", now.AddSeconds(-60), duration: TimeSpan.FromSeconds(10)));

        var summary = await Reaper().ReapOnceAsync(null, CancellationToken.None);

        Assert.Equal([Folder + "orders.lease"], Names(summary.KeptGroups));
        Assert.Equal([Folder + "orders.lease"], _bucket.Keys);
    }

    [Fact]
    public async Task An_unreadable_lease_is_judged_by_when_S3_stored_it_and_its_deletion_is_a_warning()
    {
        _bucket.Store(Folder + "garbled.lease", "{\"holder\":", lastModified: DateTime.UtcNow.AddMinutes(-10));
        _bucket.Store(Folder + "fresh-garbled.lease", "yesterday", lastModified: DateTime.UtcNow);

        var summary = await Reaper().ReapOnceAsync(null, CancellationToken.None);

        Assert.Equal([Folder + "garbled.lease"], Names(summary.DeletedGroups));
        Assert.Equal([Folder + "fresh-garbled.lease"], Names(summary.KeptGroups));
        Assert.Contains(_log.Lines, l => l.Contains("unreadable stale lease deleted", StringComparison.Ordinal) && l.Contains("\"warn\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_lease_retaken_between_the_read_and_the_delete_is_not_deleted()
    {
        var key = Folder + "orders.lease";
        _bucket.Store(key, LeaseJson("crashed", DateTimeOffset.UtcNow.AddMinutes(-10)));
        _bucket.BeforeEach("DELETE", (_, _) => _bucket.Store(key, LeaseJson("next-writer", DateTimeOffset.UtcNow)));

        var summary = await Reaper().ReapOnceAsync(null, CancellationToken.None);

        Assert.Equal([key], Names(summary.AlreadyGoneGroups));
        Assert.Contains("next-writer", _bucket.BodyOf(key), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_delete_S3_keeps_failing_counts_as_failed_and_the_pass_goes_on()
    {
        _bucket.Store(Folder + "a.lease", LeaseJson("crashed", DateTimeOffset.UtcNow.AddMinutes(-10)));
        _bucket.Store(Folder + "b.lease", LeaseJson("crashed", DateTimeOffset.UtcNow.AddMinutes(-10)));
        _bucket.Fail("DELETE", InMemoryObjectBackend.Error(ObjectBackendFailure.Refused, "AccessDenied (403): S3 says AccessDenied"));

        var summary = await Reaper().ReapOnceAsync(null, CancellationToken.None);

        Assert.Equal([Folder + "a.lease"], Names(summary.FailedGroups));
        Assert.Equal([Folder + "b.lease"], Names(summary.DeletedGroups));
        Assert.Equal([Folder + "a.lease"], _bucket.Keys);
        Assert.Equal("warn", JsonDocument.Parse(_log.Lines[^1]).RootElement.GetProperty("level").GetString());
    }

    [Fact]
    public async Task A_listing_that_keeps_failing_fails_the_pass()
    {
        for (var i = 0; i < 100; i++)
        {
            _bucket.Fail("LIST", InMemoryObjectBackend.Error(ObjectBackendFailure.Unavailable, "SlowDown (503): S3 says SlowDown"));
        }

        // The retry window's end says so, with S3's last answer.
        var error = await Assert.ThrowsAsync<BackendRetryExpiredException>(() => Reaper().ReapOnceAsync(null, CancellationToken.None));
        Assert.StartsWith("SlowDown (503)", Assert.IsType<ObjectBackendException>(error.LastError).Detail, StringComparison.Ordinal);
        Assert.StartsWith("S3 did not answer within 1 s: SlowDown (503)", error.Message, StringComparison.Ordinal);
    }
}
