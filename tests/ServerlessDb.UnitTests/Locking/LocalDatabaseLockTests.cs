using ServerlessDb.Errors;
using ServerlessDb.Locking.Local;

namespace ServerlessDb.UnitTests.Locking;

public sealed class LocalDatabaseLockTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task Writers_of_one_database_take_turns()
    {
        var databaseLock = new LocalDatabaseLock(TimeSpan.FromSeconds(10));
        var first = await databaseLock.AcquireAsync("db", "first", CancellationToken.None);

        var second = databaseLock.AcquireAsync("db", "second", CancellationToken.None);
        await Task.Delay(Settle);
        Assert.False(second.IsCompleted);

        await databaseLock.ReleaseAsync(first, CancellationToken.None);
        var lease = await second.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("second", lease.Holder);
        Assert.Equal("db", lease.Database);
        Assert.NotEqual(first.Token, lease.Token);
    }

    [Fact]
    public async Task Many_writers_never_overlap()
    {
        var databaseLock = new LocalDatabaseLock(TimeSpan.FromSeconds(30));
        var inside = 0;
        var maxInside = 0;

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            var lease = await databaseLock.AcquireAsync("db", $"writer-{i}", CancellationToken.None);
            var now = Interlocked.Increment(ref inside);
            InterlockedMax(ref maxInside, now);
            await Task.Delay(5);
            Interlocked.Decrement(ref inside);
            await databaseLock.ReleaseAsync(lease, CancellationToken.None);
        })));

        Assert.Equal(1, maxInside);

        static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }

    [Fact]
    public async Task Different_databases_do_not_wait_for_each_other()
    {
        var databaseLock = new LocalDatabaseLock(TimeSpan.FromMilliseconds(200));
        await databaseLock.AcquireAsync("one", "a", CancellationToken.None);

        var other = await databaseLock.AcquireAsync("two", "b", CancellationToken.None);

        Assert.Equal("two", other.Database);
    }

    [Fact]
    public async Task A_writer_that_waits_past_the_lock_wait_gets_LockUnavailableException()
    {
        var databaseLock = new LocalDatabaseLock(TimeSpan.FromMilliseconds(200));
        await databaseLock.AcquireAsync("db", "holder", CancellationToken.None);

        var error = await Assert.ThrowsAsync<LockUnavailableException>(
            () => databaseLock.AcquireAsync("db", "late", CancellationToken.None));

        Assert.Equal("The write lock of database 'db' is held by another writer; not acquired within 0.2 s (LOCK_WAIT_SECONDS).", error.Message);
        Assert.True(error.RetryAfter > TimeSpan.Zero);
    }

    [Fact]
    public async Task A_writer_that_gave_up_does_not_keep_the_lock_from_the_next_one()
    {
        var databaseLock = new LocalDatabaseLock(TimeSpan.FromSeconds(10));
        var holder = await databaseLock.AcquireAsync("db", "holder", CancellationToken.None);
        using (var giveUp = new CancellationTokenSource(Settle))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => databaseLock.AcquireAsync("db", "impatient", giveUp.Token));
        }

        await databaseLock.ReleaseAsync(holder, CancellationToken.None);

        var next = await databaseLock.AcquireAsync("db", "next", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(1));
        Assert.Equal("next", next.Holder);
    }

    [Fact]
    public async Task Releasing_a_lease_twice_does_not_let_two_writers_in()
    {
        var databaseLock = new LocalDatabaseLock(TimeSpan.FromSeconds(10));
        var first = await databaseLock.AcquireAsync("db", "first", CancellationToken.None);
        await databaseLock.ReleaseAsync(first, CancellationToken.None);
        var second = await databaseLock.AcquireAsync("db", "second", CancellationToken.None);

        await databaseLock.ReleaseAsync(first, CancellationToken.None);
        var third = databaseLock.AcquireAsync("db", "third", CancellationToken.None);
        await Task.Delay(Settle);

        Assert.False(third.IsCompleted);
        await databaseLock.ReleaseAsync(second, CancellationToken.None);
        await third.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
