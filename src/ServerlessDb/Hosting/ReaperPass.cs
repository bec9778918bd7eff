using System.Runtime.ExceptionServices;
using ServerlessDb.Locking;
using ServerlessDb.Storage.Collection;
using ServerlessDb.Storage.S3;

namespace ServerlessDb.Hosting;

/// <summary>
/// What the LockReaper does each minute: one pass of the lock reaper LOCK_BACKEND names (none with
/// LOCK_BACKEND=none), then, where DB_BUCKET names the bucket and CHUNK_GC is on, one pass of the chunk collector.
/// Each runs whatever the other did: a lock listing that fails does not stop garbage collection, nor the reverse;
/// the pass then fails with what failed, after both ran.
/// </summary>
public sealed class ReaperPass(ILockReaper? locks, IChunkCollector? chunks)
{
    private static readonly ReapSummary NoLocks = new() { DeletedGroups = [], AlreadyGoneGroups = [], KeptGroups = [], FailedGroups = [] };

    public ILockReaper? Locks { get; } = locks;

    public IChunkCollector? Chunks { get; } = chunks;

    /// <summary>Runs both passes and returns their summaries; the chunks' is null when the collector is off.</summary>
    /// <exception cref="Exception">one pass could not list what it judges (both failures, as an <see cref="AggregateException"/>, when both could not).</exception>
    public async Task<ReaperPassSummary> RunOnceAsync(string? trigger, CancellationToken cancellationToken)
    {
        ReapSummary? reaped = null;
        ChunkCollectionSummary? collected = null;
        Exception? locksFailure = null, chunksFailure = null;
        try
        {
            reaped = Locks is null ? NoLocks : await Locks.ReapOnceAsync(trigger, cancellationToken);
        }
        catch (Exception e) when (Chunks is not null && e is not OperationCanceledException)
        {
            locksFailure = e;
        }

        try
        {
            collected = Chunks is null ? null : await Chunks.CollectOnceAsync(trigger, cancellationToken);
        }
        catch (Exception e) when (locksFailure is not null && e is not OperationCanceledException)
        {
            chunksFailure = e;
        }

        if (locksFailure is not null)
        {
            if (chunksFailure is not null)
            {
                throw new AggregateException("Both the lock pass and the chunk collector failed.", locksFailure, chunksFailure);
            }

            ExceptionDispatchInfo.Throw(locksFailure);
        }

        return new ReaperPassSummary(reaped!, collected);
    }
}

/// <summary>What one <see cref="ReaperPass"/> did: the locks' summary, and the chunks' (null when the collector is off).</summary>
public sealed record ReaperPassSummary(ReapSummary Locks, ChunkCollectionSummary? Chunks);
