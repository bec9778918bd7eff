using ServerlessDb.Errors;
using ServerlessDb.Logging;
using ServerlessDb.Storage;

namespace ServerlessDb.Locking.S3;

/// <summary>
/// The write lock as a lease object per database, <c>{prefix}_locks/{NAME}.lease</c> (LOCK_BACKEND=s3):
/// creating it with <c>If-None-Match: *</c> takes the lock, because S3 refuses the second create (412);
/// deleting it with <c>If-Match: &lt;its ETag&gt;</c> releases it. A lease past its expiry (its holder
/// died) is taken over only by overwriting exactly the expired version (<c>If-Match</c>), so of two
/// writers taking it over at once one wins. It costs S3 requests, which have no account-wide budget
/// like EC2's mutating calls. The waits, deadlines and 503s are the security-group lock's.
/// </summary>
internal sealed class S3LeaseDatabaseLock : IDatabaseLock
{
    private readonly LeaseObjects _leases;
    private readonly S3LeaseLockOptions _options;
    private readonly ObjectKeys _keys;
    private readonly TimeSpan _cleanupWait;
    private readonly TimeProvider _time;
    private readonly ILogSink _log;
    private readonly BackendRetry _acquireRetry;
    private readonly BackendRetry _releaseRetry;

    public S3LeaseDatabaseLock(IObjectBackend objects, S3LeaseLockOptions options, TimeProvider timeProvider, ILogSink log)
        : this(objects, options, LockWaits.DefaultCleanupWait, timeProvider, log)
    {
    }

    /// <param name="cleanupWait">how long removing a lease whose create the request abandoned may take.</param>
    /// <param name="objects">the bucket the options name, one request per call: the retries are the lock's, around it.</param>
    public S3LeaseDatabaseLock(IObjectBackend objects, S3LeaseLockOptions options, TimeSpan cleanupWait, TimeProvider timeProvider, ILogSink log)
    {
        ArgumentNullException.ThrowIfNull(objects);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Bucket, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Wait, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.StaleAfter, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(cleanupWait, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(log);
        _leases = new LeaseObjects(objects);
        _options = options;
        _keys = new ObjectKeys(options.Prefix);
        _cleanupWait = cleanupWait;
        _time = timeProvider;
        _log = log;

        // Both retry S3's 409 ConditionalRequestConflict (another conditional write on the lease is under way) too.
        // The acquire's deadline cancels the waits between attempts, never an attempt in flight: a create that
        // landed while we stopped listening would hold the lock, for no one, until it expires. The release's deadline
        // is its caller's token: the time its request has left.
        _acquireRetry = new BackendRetry(
            timeProvider, LockWaits.FirstRetryDelay, LockWaits.MaxRetryDelay, options.Wait, deadlineEndsAttempt: false,
            alsoRetry: e => e is LeaseHeldException || LeaseObjects.IsConflict(e));
        _releaseRetry = new BackendRetry(
            timeProvider, LockWaits.FirstRetryDelay, LockWaits.MaxRetryDelay, deadline: null, deadlineEndsAttempt: false, alsoRetry: LeaseObjects.IsConflict);
    }

    /// <summary>The lease's <see cref="LockLease.Token"/> is the ETag of the lease object this writer wrote.</summary>
    public async Task<LockLease> AcquireAsync(string database, string holder, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(database);
        ArgumentNullException.ThrowIfNull(holder);
        var key = _keys.Lease(database);

        // One id for every attempt of this acquisition: a create or takeover that landed with its answer
        // lost is recognised by it at the next attempt, and never taken for another writer's lease.
        var leaseId = Guid.NewGuid().ToString("N");

        try
        {
            return await _acquireRetry.RunAsync(
                async token =>
                {
                    try
                    {
                        return await TakeAsync(database, key, holder, leaseId, token);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        await RemoveAbandonedAsync(database, key, leaseId);
                        throw;
                    }
                },
                cancellationToken);
        }
        catch (BackendRetryExpiredException e)
        {
            throw NotAcquired(database, key, e.LastError, e.InnerException!);
        }
        catch (ObjectBackendException e)
        {
            throw new LockUnavailableException(
                $"Could not take the write lock of database '{database}': S3 refused the lease {_leases.Describe(key)}: {ObjectBackendException.Describe(e)}",
                LockWaits.RetryAfterServiceTrouble,
                e);
        }
    }

    /// <summary>
    /// Deletes the lease object if it is still the one this writer wrote, retrying S3's failures and lost
    /// answers until <paramref name="cancellationToken"/> is cancelled: the caller gives it the time its
    /// request has left, because a lease left behind blocks every writer of the database until it expires.
    /// </summary>
    public async Task ReleaseAsync(LockLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentException.ThrowIfNullOrEmpty(lease.Token, nameof(lease));
        var key = _keys.Lease(lease.Database);
        try
        {
            await _releaseRetry.RunAsync(
                async token =>
                {
                    await _leases.DeleteAsync(key, lease.Token, token);
                    return true;
                },
                cancellationToken);
        }
        catch (Exception e) when (LeaseObjects.IsConditionFailed(e))
        {
            Warn(
                $"The write lock of database '{lease.Database}' held by '{lease.Holder}' (lease {_leases.Describe(key)}, ETag {lease.Token}) was no longer this writer's at release: " +
                "it expired and another writer took it over, the reaper deleted it, or an earlier attempt of this release succeeded. The conditional commit protected the data.",
                lease.Database,
                lease.Token);
        }
        catch (BackendRetryExpiredException e)
        {
            throw NotReleased(lease, key, ObjectBackendException.Describe(e.LastError), e.InnerException!);
        }
        catch (ObjectBackendException e)
        {
            throw NotReleased(lease, key, ObjectBackendException.Describe(e), e);
        }
    }

    private async Task<LockLease> TakeAsync(string database, string key, string holder, string leaseId, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var lease = new Lease(holder, leaseId, now, now + _options.StaleAfter);
        try
        {
            return new LockLease(database, holder, await _leases.CreateAsync(key, lease, cancellationToken), now);
        }
        catch (Exception e) when (LeaseObjects.IsConditionFailed(e))
        {
            // A lease is there: another writer's, or ours from an attempt whose answer was lost.
        }

        var current = await _leases.ReadAsync(key, cancellationToken);
        if (current is null)
        {
            // Released between our create and our read: the next attempt may get it.
            throw new LeaseHeldException(database);
        }

        if (current.Lease?.LeaseId == leaseId)
        {
            return new LockLease(database, holder, current.ETag, current.Lease.AcquiredAt);
        }

        if (_time.GetUtcNow() <= current.ExpiresAt(_options.StaleAfter))
        {
            throw new LeaseHeldException(database);
        }

        try
        {
            var etag = await _leases.ReplaceAsync(key, lease, current.ETag, cancellationToken);
            Warn(
                $"The write lock of database '{database}' was taken over from '{current.Lease?.Holder ?? "an unreadable lease"}', whose lease expired at {current.ExpiresAt(_options.StaleAfter):O}: its holder died or stalled.",
                database,
                etag);
            return new LockLease(database, holder, etag, now);
        }
        catch (Exception e) when (LeaseObjects.IsConditionFailed(e))
        {
            // Another writer took the expired lease over first, or its holder released it after all.
            throw new LeaseHeldException(database);
        }
    }

    // The request gave up while a create was in flight. S3 may still carry it out, and that lease would
    // lock the database for no one until it expires; so look for it under our lease id and delete it.
    private async Task RemoveAbandonedAsync(string database, string key, string leaseId)
    {
        using var cleanup = new CancellationTokenSource(_cleanupWait, _time);
        try
        {
            if (await _leases.ReadAsync(key, cleanup.Token) is { } current && current.Lease?.LeaseId == leaseId)
            {
                await _leases.DeleteAsync(key, current.ETag, cleanup.Token);
                Warn($"The request gave up while taking the write lock of database '{database}'; the lease {_leases.Describe(key)} it wrote anyway was deleted.", database, current.ETag);
            }
        }
        catch (Exception e) when (e is ObjectBackendException or OperationCanceledException)
        {
            Warn(
                $"The request gave up while taking the write lock of database '{database}', and checking whether that lease landed failed ({e.Message}); " +
                "if it did, it expires after LOCK_STALE_SECONDS and the next writer or the LockReaper removes it.",
                database,
                lockToken: null);
        }
    }

    private void Warn(string message, string database, string? lockToken)
    {
        using var line = new LogLine(_time, "warn", message);
        line.Add("database", database).Add("lockToken", lockToken).WriteTo(_log);
    }

    private LockUnavailableException NotAcquired(string database, string key, Exception? last, Exception inner)
    {
        var seconds = (int)_options.Wait.TotalSeconds;
        return last is null or LeaseHeldException
            ? new LockUnavailableException(LockWaits.HeldMessage(database, _options.Wait), LockWaits.RetryAfterHeld, inner)
            : new LockUnavailableException(
                $"Could not take the write lock of database '{database}' within {seconds} s: S3 kept failing on the lease {_leases.Describe(key)}: {ObjectBackendException.Describe(last)}",
                LockWaits.RetryAfterServiceTrouble,
                inner);
    }

    private LockUnavailableException NotReleased(LockLease lease, string key, string why, Exception inner) =>
        new(
            $"Could not release the write lock of database '{lease.Database}' (lease {_leases.Describe(key)}): S3 DeleteObject failed with {why}. " +
            "The lock stays held until the lease expires (LOCK_STALE_SECONDS).",
            LockWaits.RetryAfterServiceTrouble,
            inner);

    /// <summary>A live lease of another writer is in the way: wait and try again, until the deadline.</summary>
    private sealed class LeaseHeldException(string database)
        : Exception($"the write lock of database '{database}' is held by another writer");
}

/// <summary>What <see cref="S3LeaseDatabaseLock"/> is configured with.</summary>
/// <param name="Bucket">the bucket holding the databases and their leases.</param>
/// <param name="Prefix">the databases' key prefix; the lease of NAME is <c>{Prefix}_locks/{NAME}.lease</c>.</param>
/// <param name="Wait">how long a writer waits for the lock before it is refused.</param>
/// <param name="StaleAfter">
/// how long a lease lasts (LOCK_STALE_SECONDS): longer than any request may hold it, so that only a
/// dead writer's lease is ever taken over.
/// </param>
internal sealed record S3LeaseLockOptions(string Bucket, string Prefix, TimeSpan Wait, TimeSpan StaleAfter);
