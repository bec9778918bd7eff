namespace ServerlessDb.Storage.Collection;

/// <summary>
/// Removes the chunks of chunked databases (STORAGE_LAYOUT=chunked) that no stored manifest version names any
/// more. The LockReaper runs one pass after each lock pass. A pass never deletes a chunk a commit in progress may
/// still name (see <see cref="ChunkCollector"/>), and never deletes anything for a database whose manifests it
/// could not all read.
/// </summary>
public interface IChunkCollector
{
    /// <summary>
    /// One pass over every database with a chunk folder: deletes the unreferenced chunk versions older than the
    /// grace period, skips (and names, with the reason) each database it could not judge, logs the summary as one
    /// line.
    /// </summary>
    /// <param name="trigger">what started the pass (the scheduled event's id), logged with the summary; null when unknown.</param>
    /// <exception cref="ObjectBackendException">the backend refused to show its versioning or its chunk folders: nothing was judged.</exception>
    /// <exception cref="BackendRetryExpiredException">the backend kept failing to show them for the retry window: the same.</exception>
    Task<ChunkCollectionSummary> CollectOnceAsync(string? trigger, CancellationToken cancellationToken);
}
