namespace ServerlessDb.Locking;

/// <summary>
/// Makes writers of one database take turns. Correctness does not rest on it: every commit is
/// conditional on the version read, so a writer whose lease was lost cannot overwrite anyone.
/// </summary>
internal interface IDatabaseLock
{
    /// <summary>Waits until <paramref name="holder"/> holds the write lock of <paramref name="database"/>.</summary>
    /// <exception cref="Errors.LockUnavailableException">the lock was not acquired within the configured wait.</exception>
    Task<LockLease> AcquireAsync(string database, string holder, CancellationToken cancellationToken);

    /// <summary>Releases a lease. A lease already taken away (reaped) is logged, not thrown.</summary>
    Task ReleaseAsync(LockLease lease, CancellationToken cancellationToken);
}

/// <summary>
/// Proof that a writer holds the write lock of one database. <paramref name="Token"/> is what the
/// lock needs to release it (for the security-group lock, the group id).
/// </summary>
internal sealed record LockLease(string Database, string Holder, string Token, DateTimeOffset AcquiredAt);
