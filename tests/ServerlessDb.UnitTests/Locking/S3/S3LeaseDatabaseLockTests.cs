using System.Text.Json;
using ServerlessDb.Errors;
using ServerlessDb.Locking;
using ServerlessDb.Locking.S3;
using ServerlessDb.Storage;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Locking.S3;

public sealed class S3LeaseDatabaseLockTests
{
    private const string Prefix = "databases/";
    private const string Key = "databases/_locks/orders.lease";
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(150);

    private readonly InMemoryObjectBackend _bucket = new();
    private readonly RecordingLogSink _log = new();

    private S3LeaseDatabaseLock Lock(TimeSpan? lockWait = null) =>
        new(_bucket, new S3LeaseLockOptions(InMemoryObjectBackend.Bucket, Prefix, lockWait ?? LockWait, StaleAfter), TimeSpan.FromSeconds(1), TimeProvider.System, _log);

    private static string LeaseJson(string holder, string leaseId, DateTimeOffset expiresAt) =>
        new Lease(holder, leaseId, expiresAt - StaleAfter, expiresAt).ToString();

    private IEnumerable<string> Messages() => _log.Lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("message").GetString()!);

    private JsonElement StoredLease() => JsonDocument.Parse(_bucket.BodyOf(Key)!).RootElement;

    [Fact]
    public async Task Acquire_creates_the_lease_only_if_none_exists_holding_the_holder_a_lease_id_and_an_expiry_after_the_stale_threshold()
    {
        var before = DateTimeOffset.UtcNow;

        var lease = await Lock().AcquireAsync("orders", "req-1", CancellationToken.None);

        Assert.Equal(["PUT databases/_locks/orders.lease If-None-Match=*"], _bucket.Requests);
        Assert.Equal(new LockLease("orders", "req-1", _bucket.ETagOf(Key)!, lease.AcquiredAt), lease);
        var stored = Lease.TryParse(System.Text.Encoding.UTF8.GetBytes(_bucket.BodyOf(Key)!))!;
        Assert.Equal("req-1", stored.Holder);
        Assert.Equal(32, stored.LeaseId.Length);
        Assert.InRange(stored.AcquiredAt, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(StaleAfter, stored.ExpiresAt - stored.AcquiredAt);
    }

    [Fact]
    public async Task Two_acquisitions_write_leases_with_different_ids_so_their_ETags_differ()
    {
        var sut = Lock();
        var first = await sut.AcquireAsync("orders", "req-1", CancellationToken.None);
        var firstId = StoredLease().GetProperty("leaseId").GetString();
        await sut.ReleaseAsync(first, CancellationToken.None);

        var second = await sut.AcquireAsync("orders", "req-1", CancellationToken.None);

        Assert.NotEqual(firstId, StoredLease().GetProperty("leaseId").GetString());
        Assert.NotEqual(first.Token, second.Token);
    }

    [Fact]
    public async Task Acquire_waits_while_another_writers_live_lease_is_there_and_takes_the_lock_once_it_is_released()
    {
        var othersETag = _bucket.Store(Key, LeaseJson("other", "other-lease", DateTimeOffset.UtcNow.AddMinutes(2)));
        var sut = Lock(TimeSpan.FromSeconds(5));

        var acquiring = sut.AcquireAsync("orders", "req-1", CancellationToken.None);
        await Bounded.WaitUntilAsync(() => _bucket.Requests.Count(r => r.StartsWith("GET", StringComparison.Ordinal)) >= 2, "two looks at the held lease");
        Assert.False(acquiring.IsCompleted, "took a lock another writer holds");
        Assert.Equal(othersETag, _bucket.ETagOf(Key));
        _bucket.Remove(Key);

        var lease = await acquiring;

        Assert.Equal("req-1", StoredLease().GetProperty("holder").GetString());
        Assert.Equal(_bucket.ETagOf(Key), lease.Token);
        Assert.DoesNotContain(_bucket.Requests, r => r.Contains("If-Match", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_live_lease_held_for_the_whole_wait_is_a_503_with_Retry_After_saying_it_is_held()
    {
        var othersETag = _bucket.Store(Key, LeaseJson("other", "other-lease", DateTimeOffset.UtcNow.AddMinutes(2)));

        var error = await Assert.ThrowsAsync<LockUnavailableException>(() => Lock().AcquireAsync("orders", "req-1", CancellationToken.None));

        Assert.Equal("The write lock of database 'orders' is held by another writer; not acquired within 1 s (LOCK_WAIT_SECONDS).", error.Message);
        Assert.Equal(TimeSpan.FromSeconds(1), error.RetryAfter);
        Assert.Equal(othersETag, _bucket.ETagOf(Key));
        Assert.Equal("other", StoredLease().GetProperty("holder").GetString());
    }

    [Fact]
    public async Task An_expired_lease_is_taken_over_only_by_overwriting_exactly_its_ETag()
    {
        var expiredETag = _bucket.Store(Key, LeaseJson("crashed", "dead-lease", DateTimeOffset.UtcNow.AddSeconds(-1)));

        var lease = await Lock().AcquireAsync("orders", "req-1", CancellationToken.None);

        Assert.Equal(
            [$"PUT {Key} If-None-Match=*", $"GET {Key}", $"PUT {Key} If-Match={expiredETag}"],
            _bucket.Requests);
        Assert.Equal("req-1", StoredLease().GetProperty("holder").GetString());
        Assert.Equal(_bucket.ETagOf(Key), lease.Token);
        Assert.Contains(Messages(), m => m.Contains("taken over from 'crashed'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_takeover_that_another_writer_won_first_waits_for_the_winners_lease()
    {
        var expiredETag = _bucket.Store(Key, LeaseJson("crashed", "dead-lease", DateTimeOffset.UtcNow.AddSeconds(-1)));

        // Between our read of the expired lease and our overwrite, another writer overwrites it first.
        var winnersETag = "";
        _bucket.AfterEach("GET", (_, _) =>
        {
            if (_bucket.ETagOf(Key) == expiredETag)
            {
                winnersETag = _bucket.Store(Key, LeaseJson("winner", "winner-lease", DateTimeOffset.UtcNow.AddMinutes(2)));
            }
        });

        var error = await Assert.ThrowsAsync<LockUnavailableException>(() => Lock().AcquireAsync("orders", "req-1", CancellationToken.None));

        Assert.Contains("held by another writer", error.Message, StringComparison.Ordinal);
        Assert.Contains($"PUT {Key} If-Match={expiredETag}", _bucket.Requests);
        Assert.Equal(winnersETag, _bucket.ETagOf(Key));
        Assert.Equal("winner", StoredLease().GetProperty("holder").GetString());
    }

    [Fact]
    public async Task A_create_that_landed_with_its_answer_lost_is_recognised_as_ours_by_its_lease_id()
    {
        _bucket.LoseAnswer("PUT");

        var lease = await Lock().AcquireAsync("orders", "req-1", CancellationToken.None);

        Assert.Equal([$"PUT {Key} If-None-Match=*", $"PUT {Key} If-None-Match=*", $"GET {Key}"], _bucket.Requests);
        Assert.Equal(_bucket.ETagOf(Key), lease.Token);
        Assert.Equal("req-1", StoredLease().GetProperty("holder").GetString());
        Assert.Single(_bucket.Keys);
    }

    [Fact]
    public async Task A_409_ConditionalRequestConflict_is_retried()
    {
        _bucket.Fail("PUT", InMemoryObjectBackend.Error(ObjectBackendFailure.Conflict, "ConditionalRequestConflict (409): S3 says ConditionalRequestConflict"));

        var lease = await Lock().AcquireAsync("orders", "req-1", CancellationToken.None);

        Assert.Equal(2, _bucket.Requests.Count(r => r.StartsWith("PUT", StringComparison.Ordinal)));
        Assert.Equal(_bucket.ETagOf(Key), lease.Token);
    }

    [Fact]
    public async Task S3_failing_for_the_whole_wait_is_a_503_naming_S3_with_a_longer_Retry_After()
    {
        for (var i = 0; i < 100; i++)
        {
            _bucket.Fail("PUT", InMemoryObjectBackend.Error(ObjectBackendFailure.Unavailable, "SlowDown (503): S3 says SlowDown"));
        }

        var error = await Assert.ThrowsAsync<LockUnavailableException>(() => Lock().AcquireAsync("orders", "req-1", CancellationToken.None));

        Assert.StartsWith("Could not take the write lock of database 'orders' within 1 s: S3 kept failing on the lease s3://my-databases/databases/_locks/orders.lease: SlowDown (503)", error.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(5), error.RetryAfter);
        Assert.Empty(_bucket.Keys);
    }

    [Fact]
    public async Task Access_denied_is_a_503_at_once()
    {
        _bucket.Fail("PUT", InMemoryObjectBackend.Error(ObjectBackendFailure.Refused, "AccessDenied (403): S3 says AccessDenied"));

        var error = await Assert.ThrowsAsync<LockUnavailableException>(() => Lock(TimeSpan.FromSeconds(30)).AcquireAsync("orders", "req-1", CancellationToken.None));

        Assert.Contains("AccessDenied (403)", error.Message, StringComparison.Ordinal);
        Assert.Single(_bucket.Requests);
    }

    [Fact]
    public async Task Release_deletes_the_lease_only_if_it_is_still_the_one_written()
    {
        var sut = Lock();
        var lease = await sut.AcquireAsync("orders", "req-1", CancellationToken.None);

        await sut.ReleaseAsync(lease, CancellationToken.None);

        Assert.Equal($"DELETE {Key} If-Match={lease.Token}", _bucket.Requests[^1]);
        Assert.Empty(_bucket.Keys);
        Assert.Empty(_log.Lines);
    }

    [Fact]
    public async Task Release_of_a_lease_taken_over_since_is_a_warning_and_leaves_the_new_holders_lease()
    {
        var sut = Lock();
        var lease = await sut.AcquireAsync("orders", "req-1", CancellationToken.None);
        var takenOver = _bucket.Store(Key, LeaseJson("next", "next-lease", DateTimeOffset.UtcNow.AddMinutes(2)));

        await sut.ReleaseAsync(lease, CancellationToken.None);

        Assert.Equal(takenOver, _bucket.ETagOf(Key));
        var warning = JsonDocument.Parse(Assert.Single(_log.Lines)).RootElement;
        Assert.Equal("warn", warning.GetProperty("level").GetString());
        Assert.Contains("no longer this writer's at release", warning.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Release_of_a_lease_already_gone_is_a_warning()
    {
        var sut = Lock();
        var lease = await sut.AcquireAsync("orders", "req-1", CancellationToken.None);
        _bucket.Remove(Key);

        await sut.ReleaseAsync(lease, CancellationToken.None);

        Assert.Empty(_bucket.Keys);
        Assert.Contains("no longer this writer's at release", Assert.Single(Messages()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_release_whose_answer_was_lost_is_retried_and_the_lease_is_gone()
    {
        var sut = Lock();
        var lease = await sut.AcquireAsync("orders", "req-1", CancellationToken.None);
        _bucket.LoseAnswer("DELETE");

        await sut.ReleaseAsync(lease, CancellationToken.None);

        Assert.Equal(2, _bucket.Requests.Count(r => r.StartsWith("DELETE", StringComparison.Ordinal)));
        Assert.Empty(_bucket.Keys);
    }

    [Fact]
    public async Task A_release_S3_keeps_failing_is_a_503_saying_the_lock_stays_until_the_lease_expires()
    {
        var sut = Lock();
        var lease = await sut.AcquireAsync("orders", "req-1", CancellationToken.None);
        for (var i = 0; i < 100; i++)
        {
            _bucket.Fail("DELETE", InMemoryObjectBackend.Error(ObjectBackendFailure.Unavailable, "InternalError (500): S3 says InternalError"));
        }

        using var window = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var error = await Assert.ThrowsAsync<LockUnavailableException>(() => sut.ReleaseAsync(lease, window.Token));

        Assert.Contains("InternalError (500)", error.Message, StringComparison.Ordinal);
        Assert.Contains("until the lease expires (LOCK_STALE_SECONDS)", error.Message, StringComparison.Ordinal);
        Assert.Equal(lease.Token, _bucket.ETagOf(Key));
    }

    [Fact]
    public async Task A_request_cancelled_while_its_create_is_in_flight_deletes_the_lease_that_landed_anyway()
    {
        using var request = new CancellationTokenSource();
        _bucket.AfterEach("PUT", (_, token) =>
        {
            request.Cancel();
            token.ThrowIfCancellationRequested();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Lock().AcquireAsync("orders", "req-1", request.Token));

        Assert.Empty(_bucket.Keys);
        Assert.Contains(Messages(), m => m.Contains("wrote anyway was deleted", StringComparison.Ordinal));
    }
}
