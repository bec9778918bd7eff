using Polly;
using ServerlessDb.Logging;

namespace ServerlessDb.Locking.Ec2;

/// <summary>
/// Removes write locks whose holder died (DESIGN.md, "The lock", Reap): lists the lock groups of
/// the VPC and deletes those whose CreateTime tag is older than <see cref="StaleLockReaperOptions.StaleAfter"/>,
/// which the configuration keeps longer than the QueryRunner's timeout, so a live lock is never taken.
/// Even a wrongly reaped lock cannot lose data: the commit is conditional on the version read.
/// </summary>
public sealed class StaleLockReaper : ILockReaper
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(4);

    private readonly IEc2Client _ec2;
    private readonly StaleLockReaperOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogSink _log;
    private readonly ResiliencePipeline _deletePipeline;

    internal StaleLockReaper(IEc2Client ec2, StaleLockReaperOptions options, TimeProvider timeProvider, ILogSink log)
    {
        ArgumentNullException.ThrowIfNull(ec2);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(log);
        _ec2 = ec2;
        _options = options;
        _time = timeProvider;
        _log = log;
        _deletePipeline = Ec2Retry.Pipeline(timeProvider, e => e.IsTransient, FirstRetryDelay, MaxRetryDelay);
    }

    /// <summary>
    /// One pass: deletes every stale lock group, keeps fresh ones and ones without a readable
    /// CreateTime (each logged as a warning), and logs the summary as one JSON line. A group that
    /// cannot be deleted is logged and counted as failed, and the pass goes on.
    /// </summary>
    /// <param name="trigger">what started the pass (the scheduled event's id), logged with the summary; null when unknown.</param>
    /// <exception cref="Ec2Exception">listing the groups failed: nothing was judged, the invocation should fail.</exception>
    public async Task<ReapSummary> ReapOnceAsync(string? trigger, CancellationToken cancellationToken)
    {
        var groups = await _ec2.DescribeSecurityGroupsAsync(
            [
                new Ec2Filter("group-name", LockGroupNaming.GroupNameFilter(_options.NamePrefix)),
                new Ec2Filter("vpc-id", _options.VpcId),
            ],
            cancellationToken);

        // One "now" for the whole pass: groups only get older while it runs, so judging them all
        // against its start never reaps a group earlier than the threshold allows.
        var now = _time.GetUtcNow();
        List<string> deleted = [], gone = [], kept = [], failed = [];
        long? lastDeleteAt = null;
        foreach (var group in groups
                     .Where(g => LockGroupNaming.DatabaseOf(_options.NamePrefix, g.GroupName) is not null)
                     .OrderBy(g => g.GroupName, StringComparer.Ordinal))
        {
            if (!LockGroupNaming.TryParseCreateTime(group.Tags, out var createdAt))
            {
                LogGroup("warn", "lock group without a readable CreateTime tag left alone: a human must look, and delete it by hand if its holder is gone", group);
                kept.Add(group.GroupName);
                continue;
            }

            if (now - createdAt <= _options.StaleAfter)
            {
                kept.Add(group.GroupName);
                continue;
            }

            if (lastDeleteAt is { } last && _options.DeleteInterval - _time.GetElapsedTime(last) is { Ticks: > 0 } pause)
            {
                await Task.Delay(pause, _time, cancellationToken);
            }

            lastDeleteAt = _time.GetTimestamp();
            var outcome = await DeleteAsync(group, now - createdAt, cancellationToken);
            (outcome switch
            {
                DeleteOutcome.Deleted => deleted,
                DeleteOutcome.AlreadyGone => gone,
                _ => failed,
            }).Add(group.GroupName);
        }

        var summary = new ReapSummary { DeletedGroups = deleted, AlreadyGoneGroups = gone, KeptGroups = kept, FailedGroups = failed };
        using (var line = new LogLine(_time, summary.Failed > 0 ? "warn" : "info", "lock reaper pass"))
        {
            line.Add("trigger", trigger)
                .Add("vpcId", _options.VpcId)
                .Add("lockNamePrefix", _options.NamePrefix)
                .Add("staleSeconds", (long)_options.StaleAfter.TotalSeconds);
            summary.AddTo(line).WriteTo(_log);
        }

        return summary;
    }

    // Deletes by id, never by name: if the holder released the lock and another writer took it
    // since the listing, the new group has a new id and this delete finds nothing to delete.
    private async Task<DeleteOutcome> DeleteAsync(SecurityGroupInfo group, TimeSpan age, CancellationToken cancellationToken)
    {
        using var window = new CancellationTokenSource(_options.DeleteRetryWindow, _time);
        using var waits = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, window.Token);
        var context = ResilienceContextPool.Shared.Get(waits.Token);
        try
        {
            await _deletePipeline.ExecuteAsync(
                async _ => await _ec2.DeleteSecurityGroupAsync(group.GroupId, cancellationToken),
                context);
            LogGroup("info", "stale lock deleted", group, age);
            return DeleteOutcome.Deleted;
        }
        catch (Ec2Exception e) when (e.Kind == Ec2ErrorKind.GroupNotFound)
        {
            LogGroup("info", "stale lock already gone: its holder released it or another pass deleted it", group, age);
            return DeleteOutcome.AlreadyGone;
        }
        catch (Ec2Exception e)
        {
            var why = e.Kind switch
            {
                Ec2ErrorKind.DependencyViolation => "stale lock not deleted: something references its security group; remove the reference, the next pass deletes it",
                _ when e.IsTransient => $"stale lock not deleted: EC2 kept failing for {_options.DeleteRetryWindow.TotalSeconds:0.###} s; the next pass tries again",
                _ => "stale lock not deleted; the next pass tries again",
            };
            LogGroup("error", why, group, age, e);
            return DeleteOutcome.Failed;
        }
        catch (OperationCanceledException e) when (window.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var last = Ec2Retry.LastError(context);
            LogGroup("error", $"stale lock not deleted: EC2 kept failing for {_options.DeleteRetryWindow.TotalSeconds:0.###} s; the next pass tries again", group, age, last ?? (Exception)e);
            return DeleteOutcome.Failed;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private void LogGroup(string level, string message, SecurityGroupInfo group, TimeSpan? age = null, Exception? exception = null)
    {
        using var line = new LogLine(_time, level, message);
        line.Add("group", group.GroupName)
            .Add("groupId", group.GroupId)
            .Add("vpcId", _options.VpcId)
            .Add("createTime", group.Tags.TryGetValue(LockGroupNaming.CreateTimeTagKey, out var createTime) ? createTime : null)
            .Add("holder", group.Tags.TryGetValue(LockGroupNaming.HolderTagKey, out var holder) ? holder : null);
        if (age is { } known)
        {
            line.Add("ageSeconds", (long)known.TotalSeconds);
        }

        if (exception is Ec2Exception ec2)
        {
            line.Add("errorCode", ec2.Code);
        }

        line.Add("exception", exception).WriteTo(_log);
    }

    private enum DeleteOutcome
    {
        Deleted,
        AlreadyGone,
        Failed,
    }
}

/// <summary>What <see cref="StaleLockReaper"/> is configured with.</summary>
/// <param name="VpcId">the VPC in which the writers create their lock groups.</param>
/// <param name="NamePrefix">the writers' lock group name prefix, so the reaper looks exactly where they lock.</param>
/// <param name="StaleAfter">
/// a lock group whose CreateTime is older than this is stale; the configuration keeps it longer than
/// the QueryRunner's timeout, so a live lock is never taken.
/// </param>
internal sealed record StaleLockReaperOptions(string VpcId, string NamePrefix, TimeSpan StaleAfter)
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
