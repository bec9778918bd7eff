using ServerlessDb.Logging;

namespace ServerlessDb.Locking;

/// <summary>
/// What one pass of an <see cref="ILockReaper"/> found and did. Every lock the pass found (a security
/// group's name for the EC2 lock, a lease object's key for the S3 lock) is named in exactly one of the
/// lists, so <see cref="Found"/> is the sum of the others. The JSON names say "groups" for every backend:
/// they are the reaper's answer, which schedules and alarms already read.
/// </summary>
public sealed record ReapSummary
{
    public int Found => Deleted + AlreadyGone + Kept + Failed;

    /// <summary>Stale groups this pass deleted.</summary>
    public int Deleted => DeletedGroups.Count;

    /// <summary>Stale groups that were gone when this pass deleted them (their holder released them, or another reaper took them).</summary>
    public int AlreadyGone => AlreadyGoneGroups.Count;

    /// <summary>Groups left alone: fresh ones, and ones without a readable CreateTime (logged: a human must look).</summary>
    public int Kept => KeptGroups.Count;

    /// <summary>Stale groups this pass could not delete (logged with the reason); the next pass tries again.</summary>
    public int Failed => FailedGroups.Count;

    public required IReadOnlyList<string> DeletedGroups { get; init; }

    public required IReadOnlyList<string> AlreadyGoneGroups { get; init; }

    public required IReadOnlyList<string> KeptGroups { get; init; }

    public required IReadOnlyList<string> FailedGroups { get; init; }

    /// <summary>
    /// Adds the counts and names to a reaper pass's log line, with the metrics every backend publishes
    /// under the same names (the template's alarm reads <see cref="Metrics.LocksDeleteFailed"/>).
    /// </summary>
    internal LogLine AddTo(LogLine line) => line
        .Add("found", Found)
        .Add("deleted", Deleted)
        .Add("alreadyGone", AlreadyGone)
        .Add("kept", Kept)
        .Add("failed", Failed)
        .Add("deletedGroups", DeletedGroups)
        .Add("alreadyGoneGroups", AlreadyGoneGroups)
        .Add("keptGroups", KeptGroups)
        .Add("failedGroups", FailedGroups)
        .Metric(Metrics.LocksFound, MetricUnit.Count, Found)
        .Metric(Metrics.LocksDeleted, MetricUnit.Count, Deleted)
        .Metric(Metrics.LocksAlreadyGone, MetricUnit.Count, AlreadyGone)
        .Metric(Metrics.LocksKept, MetricUnit.Count, Kept)
        .Metric(Metrics.LocksDeleteFailed, MetricUnit.Count, Failed);
}
