namespace ServerlessDb.Locking.Local;

/// <summary>
/// A lock that never waits: writers are coordinated by the conditional commit alone.
/// Used when no lock is configured.
/// </summary>
public sealed class NoOpDatabaseLock(TimeProvider timeProvider) : IDatabaseLock
{
    public Task<LockLease> AcquireAsync(string database, string holder, CancellationToken cancellationToken) =>
        Task.FromResult(new LockLease(database, holder, Token: string.Empty, timeProvider.GetUtcNow()));

    public Task ReleaseAsync(LockLease lease, CancellationToken cancellationToken) => Task.CompletedTask;
}
