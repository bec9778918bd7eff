namespace ServerlessDb.Locking;

/// <summary>
/// The waits and the answer every lock backend shares, so a writer sees the same behaviour whichever
/// backend makes writers take turns: the backoff between attempts, and the 503's Retry-After and message.
/// </summary>
internal static class LockWaits
{
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>A held lock is usually released within a write's time.</summary>
    public static readonly TimeSpan RetryAfterHeld = TimeSpan.FromSeconds(1);

    /// <summary>The lock's service (EC2, S3) throttling, refusing or down takes longer.</summary>
    public static readonly TimeSpan RetryAfterServiceTrouble = TimeSpan.FromSeconds(5);

    /// <summary>How long the removal of a lock whose create the request abandoned may take.</summary>
    public static readonly TimeSpan DefaultCleanupWait = TimeSpan.FromSeconds(5);

    public static string HeldMessage(string database, TimeSpan wait) =>
        $"The write lock of database '{database}' is held by another writer; not acquired within {wait.TotalSeconds:0.###} s (LOCK_WAIT_SECONDS).";
}
