using System.Collections.Concurrent;
using ServerlessDb.Errors;

namespace ServerlessDb.Locking.Local;

/// <summary>
/// The local server's write lock: one async lock per database in this process, taken in turn by
/// its writers. A writer that does not get it within the wait gets <see cref="LockUnavailableException"/>.
/// Other processes sharing the data folder are not coordinated by it; the conditional commit keeps them safe.
/// </summary>
internal sealed class LocalDatabaseLock : IDatabaseLock
{
    private readonly ConcurrentDictionary<string, Turn> _turns = new(StringComparer.Ordinal);
    private readonly TimeSpan _lockWait;
    private readonly TimeProvider _time;

    public LocalDatabaseLock(TimeSpan lockWait, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lockWait, TimeSpan.Zero);
        _lockWait = lockWait;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <exception cref="LockUnavailableException">another writer held the lock for the whole wait.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public async Task<LockLease> AcquireAsync(string database, string holder, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(database);
        ArgumentNullException.ThrowIfNull(holder);
        var turn = _turns.GetOrAdd(database, _ => new Turn());

        // A cancelled wait never takes the semaphore, so a writer that gave up cannot hold it for no one.
        using var deadline = new CancellationTokenSource(_lockWait, _time);
        using var waits = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await turn.Semaphore.WaitAsync(waits.Token);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new LockUnavailableException(LockWaits.HeldMessage(database, _lockWait), LockWaits.RetryAfterHeld, e);
        }

        var token = Guid.NewGuid().ToString("N");
        turn.Token = token;
        return new LockLease(database, holder, token, _time.GetUtcNow());
    }

    /// <summary>Releases the lease; a lease that no longer holds the lock (released already) is ignored.</summary>
    public Task ReleaseAsync(LockLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (_turns.TryGetValue(lease.Database, out var turn)
            && Interlocked.CompareExchange(ref turn.Token, null, lease.Token) == lease.Token)
        {
            turn.Semaphore.Release();
        }

        return Task.CompletedTask;
    }

    private sealed class Turn
    {
        public readonly SemaphoreSlim Semaphore = new(1, 1);

        // The token of the lease that holds the semaphore, or null when it is free.
        public string? Token;
    }
}

/// <summary>
/// A lock that never waits: writers are coordinated by the conditional commit alone.
/// Used when no lock is configured.
/// </summary>
internal sealed class NoOpDatabaseLock(TimeProvider timeProvider) : IDatabaseLock
{
    public Task<LockLease> AcquireAsync(string database, string holder, CancellationToken cancellationToken) =>
        Task.FromResult(new LockLease(database, holder, Token: string.Empty, timeProvider.GetUtcNow()));

    public Task ReleaseAsync(LockLease lease, CancellationToken cancellationToken) => Task.CompletedTask;
}
