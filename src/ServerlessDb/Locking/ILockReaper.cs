namespace ServerlessDb.Locking;

/// <summary>
/// Removes the locks whose holder died, for one lock backend. The LockReaper runs one pass a minute; a
/// pass never takes a lock a live writer may hold, and even a wrongly reaped lock cannot lose data,
/// because every commit is conditional on the version read.
/// </summary>
public interface ILockReaper
{
    /// <summary>
    /// One pass: deletes every stale lock, keeps fresh and unreadable ones, logs the summary as one line.
    /// A lock that cannot be deleted is logged and counted as failed, and the pass goes on.
    /// </summary>
    /// <param name="trigger">what started the pass (the scheduled event's id), logged with the summary; null when unknown.</param>
    /// <exception cref="Exception">listing the locks failed: nothing was judged, the invocation should fail.</exception>
    Task<ReapSummary> ReapOnceAsync(string? trigger, CancellationToken cancellationToken);
}
