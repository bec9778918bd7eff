namespace ServerlessDb.Locking.Ec2;

/// <summary>What <see cref="StaleLockReaper"/> is configured with.</summary>
/// <param name="VpcId">the VPC in which the writers create their lock groups.</param>
/// <param name="NamePrefix">the writers' lock group name prefix, so the reaper looks exactly where they lock.</param>
/// <param name="StaleAfter">
/// a lock group whose CreateTime is older than this is stale; the configuration keeps it longer than
/// the QueryRunner's timeout, so a live lock is never taken.
/// </param>
public sealed record StaleLockReaperOptions(string VpcId, string NamePrefix, TimeSpan StaleAfter)
{
    /// <summary>
    /// The least time between two deletes of one pass. EC2 refills the mutating-call budget of an
    /// account and Region at about 5 calls per second, shared with the writers (each write costs a
    /// create and a delete): the reaper takes 2 per second at most and leaves the rest to them.
    /// </summary>
    public TimeSpan DeleteInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long one delete is retried while EC2 throttles it or does not answer.</summary>
    public TimeSpan DeleteRetryWindow { get; init; } = TimeSpan.FromSeconds(10);
}
