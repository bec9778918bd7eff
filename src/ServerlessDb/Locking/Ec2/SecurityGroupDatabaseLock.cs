using Polly;
using ServerlessDb.Errors;
using ServerlessDb.Logging;

namespace ServerlessDb.Locking.Ec2;

/// <summary>
/// The write lock as an EC2 security group (DESIGN.md, "The lock"): creating the group named after
/// the database takes the lock, because EC2 refuses a second group of the same name in the VPC
/// (<c>InvalidGroup.Duplicate</c>); deleting it releases the lock. The group carries CreateTime
/// and Holder tags from its creation, so the reaper can remove locks whose holder died.
/// </summary>
internal sealed class SecurityGroupDatabaseLock : IDatabaseLock
{
    private readonly IEc2Client _ec2;
    private readonly string _vpcId;
    private readonly string _namePrefix;
    private readonly TimeSpan _lockWait;
    private readonly TimeSpan _cleanupWait;
    private readonly TimeProvider _timeProvider;
    private readonly ILogSink _log;
    private readonly ResiliencePipeline _acquirePipeline;
    private readonly ResiliencePipeline _releasePipeline;

    /// <param name="log">receives warnings (a lease found reaped, a create abandoned), as every component's log lines.</param>
    public SecurityGroupDatabaseLock(IEc2Client ec2, SecurityGroupLockOptions options, TimeProvider timeProvider, ILogSink log)
        : this(
            ec2,
            (options ?? throw new ArgumentNullException(nameof(options))).VpcId,
            options.NamePrefix,
            options.Wait,
            LockWaits.DefaultCleanupWait,
            timeProvider,
            log)
    {
    }

    public SecurityGroupDatabaseLock(
        IEc2Client ec2,
        string vpcId,
        string namePrefix,
        TimeSpan lockWait,
        TimeSpan cleanupWait,
        TimeProvider timeProvider,
        ILogSink log)
    {
        ArgumentNullException.ThrowIfNull(ec2);
        ArgumentException.ThrowIfNullOrWhiteSpace(vpcId);
        ArgumentException.ThrowIfNullOrEmpty(namePrefix);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lockWait, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(cleanupWait, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _ec2 = ec2;
        _vpcId = vpcId;
        _namePrefix = namePrefix;
        _lockWait = lockWait;
        _cleanupWait = cleanupWait;
        _timeProvider = timeProvider;
        ArgumentNullException.ThrowIfNull(log);
        _log = log;
        _acquirePipeline = RetryPipeline(e => e.Kind == Ec2ErrorKind.GroupDuplicate || e.IsTransient);
        _releasePipeline = RetryPipeline(e => e.IsTransient);
    }

    public async Task<LockLease> AcquireAsync(string database, string holder, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(database);
        ArgumentNullException.ThrowIfNull(holder);
        var groupName = LockGroupNaming.GroupName(_namePrefix, database);
        var description = LockGroupNaming.Description(database);

        // The deadline cancels the waits between attempts, never an attempt in flight: a create that
        // succeeded at EC2 while we stopped listening would hold the lock, for no one, until the reaper.
        using var deadline = new CancellationTokenSource(_lockWait, _timeProvider);
        using var waits = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var context = ResilienceContextPool.Shared.Get(waits.Token);
        var answerLost = false;
        try
        {
            return await _acquirePipeline.ExecuteAsync(
                async _ =>
                {
                    var createdAt = _timeProvider.GetUtcNow();
                    try
                    {
                        var groupId = await _ec2.CreateSecurityGroupAsync(
                            groupName, _vpcId, description, LockGroupNaming.Tags(createdAt, holder), cancellationToken);
                        return new LockLease(database, holder, groupId, createdAt);
                    }
                    catch (Ec2Exception e) when (e.Kind == Ec2ErrorKind.Transient)
                    {
                        answerLost = true;
                        throw;
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        await RemoveAbandonedCreateAsync(groupName, database, holder);
                        throw;
                    }
                    catch (Ec2Exception e) when (e.Kind == Ec2ErrorKind.GroupDuplicate && answerLost)
                    {
                        // An earlier attempt may have created the group and lost only its answer.
                        var own = await FindOwnLeaseAsync(groupName, database, holder, cancellationToken);
                        if (own is null)
                        {
                            throw;
                        }

                        return own;
                    }
                },
                context);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var last = Ec2Retry.LastError(context);
            throw NotAcquired(database, last, e);
        }
        catch (Ec2Exception e) when (e.Kind == Ec2ErrorKind.GroupDuplicate || e.IsTransient)
        {
            // The strategy stopped retrying because the deadline passed.
            throw NotAcquired(database, e, e);
        }
        catch (Ec2Exception e)
        {
            throw new LockUnavailableException(
                $"Could not take the write lock of database '{database}': EC2 CreateSecurityGroup failed with {e.Code}: {e.ErrorMessage}",
                LockWaits.RetryAfterServiceTrouble,
                e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// Deletes the lease's group, retrying throttling and lost answers until
    /// <paramref name="cancellationToken"/> is cancelled: the caller gives it the time its request has
    /// left, because a group left behind blocks every writer of the database until the reaper.
    /// </summary>
    public async Task ReleaseAsync(LockLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentException.ThrowIfNullOrEmpty(lease.Token, nameof(lease));
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            await _releasePipeline.ExecuteAsync(
                async attempt => await _ec2.DeleteSecurityGroupAsync(lease.Token, attempt.CancellationToken),
                context);
        }
        catch (Ec2Exception e) when (e.Kind == Ec2ErrorKind.GroupNotFound)
        {
            Warn(
                $"The write lock of database '{lease.Database}' held by '{lease.Holder}' (security group {lease.Token}) was already gone at release: " +
                "the reaper took it (or an earlier attempt of this release succeeded). The conditional commit protected the data.",
                lease.Database,
                lease.Token);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            var last = Ec2Retry.LastError(context);
            throw NotReleased(lease, last?.Code ?? "no answer", last ?? (Exception)e);
        }
        catch (Ec2Exception e)
        {
            throw NotReleased(lease, e.Code, e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    // The request gave up while a create was in flight. EC2 may still carry it out, and that group would
    // lock the database for no one until the reaper; so look for it under our holder tag and delete it.
    private async Task RemoveAbandonedCreateAsync(string groupName, string database, string holder)
    {
        using var cleanup = new CancellationTokenSource(_cleanupWait, _timeProvider);
        try
        {
            if (await FindOwnLeaseAsync(groupName, database, holder, cleanup.Token) is { } abandoned)
            {
                await _ec2.DeleteSecurityGroupAsync(abandoned.Token, cleanup.Token);
                Warn($"The request gave up while creating the write lock of database '{database}'; the group {abandoned.Token} it created anyway was deleted.", database, abandoned.Token);
            }
        }
        catch (Exception e) when (e is Ec2Exception or OperationCanceledException)
        {
            Warn(
                $"The request gave up while creating the write lock of database '{database}', and checking whether that create landed failed ({e.Message}); " +
                "if it did, the LockReaper removes the group once it is stale.",
                database,
                lockToken: null);
        }
    }

    private async Task<LockLease?> FindOwnLeaseAsync(string groupName, string database, string holder, CancellationToken cancellationToken)
    {
        var groups = await _ec2.DescribeSecurityGroupsAsync(
            [new Ec2Filter("group-name", groupName), new Ec2Filter("vpc-id", _vpcId)],
            cancellationToken);
        var own = groups.FirstOrDefault(g =>
            g.GroupName == groupName
            && g.Tags.TryGetValue(LockGroupNaming.HolderTagKey, out var h) && h == holder);
        if (own is null)
        {
            return null;
        }

        var createdAt = LockGroupNaming.TryParseCreateTime(own.Tags, out var t) ? t : _timeProvider.GetUtcNow();
        return new LockLease(database, holder, own.GroupId, createdAt);
    }

    private void Warn(string message, string database, string? lockToken)
    {
        using var line = new LogLine(_timeProvider, "warn", message);
        line.Add("database", database).Add("lockToken", lockToken).WriteTo(_log);
    }

    private ResiliencePipeline RetryPipeline(Func<Ec2Exception, bool> retryable) =>
        Ec2Retry.Pipeline(_timeProvider, retryable, LockWaits.FirstRetryDelay, LockWaits.MaxRetryDelay);

    private LockUnavailableException NotAcquired(string database, Ec2Exception? last, Exception inner)
    {
        var seconds = (int)_lockWait.TotalSeconds;
        return last is null || last.Kind == Ec2ErrorKind.GroupDuplicate
            ? new LockUnavailableException(LockWaits.HeldMessage(database, _lockWait), LockWaits.RetryAfterHeld, inner)
            : new LockUnavailableException(
                $"Could not take the write lock of database '{database}' within {seconds} s: EC2 CreateSecurityGroup kept failing with {last.Code}: {last.ErrorMessage}",
                LockWaits.RetryAfterServiceTrouble,
                inner);
    }

    private static LockUnavailableException NotReleased(LockLease lease, string code, Exception inner) =>
        new(
            $"Could not release the write lock of database '{lease.Database}' (security group {lease.Token}): EC2 DeleteSecurityGroup failed with {code}. " +
            "The lock stays held until the reaper removes it (LOCK_STALE_SECONDS).",
            LockWaits.RetryAfterServiceTrouble,
            inner);
}

/// <summary>What <see cref="SecurityGroupDatabaseLock"/> is configured with.</summary>
/// <param name="VpcId">the VPC in which the lock groups are created.</param>
/// <param name="NamePrefix">a database's lock group is named <c>{NamePrefix}{NAME}</c>.</param>
/// <param name="Wait">how long a writer waits for the lock before it is refused.</param>
internal sealed record SecurityGroupLockOptions(string VpcId, string NamePrefix, TimeSpan Wait);
