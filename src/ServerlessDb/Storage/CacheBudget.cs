namespace ServerlessDb.Storage;

/// <summary>
/// The size bound of one store's cache, shared by all its databases (CACHE_MAX_BYTES). It knows each
/// cached version file, its size and when it was last used; <see cref="Trim"/> evicts the least
/// recently used files until the total is within <see cref="MaxBytes"/>. A file a snapshot holds is
/// never evicted, so the total may stay above the bound while held files alone exceed it.
/// </summary>
/// <remarks>
/// Lock order: a database's gate, then this budget's lock, never the reverse. <see cref="Add"/>,
/// <see cref="Touch"/> and <see cref="Remove"/> are called under a database's gate and take only this
/// lock; <see cref="Trim"/> takes databases' gates (through each file's eviction) and must be called
/// under no lock at all.
/// </remarks>
internal sealed class CacheBudget
{
    private readonly Lock _gate = new();

    // First is the least recently used.
    private readonly LinkedList<Action> _recency = new();
    private readonly Dictionary<CachedVersionFile, LinkedListNode<Action>> _entries = new(ReferenceEqualityComparer.Instance);
    private long _totalBytes;

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBytes"/> is not positive.</exception>
    public CacheBudget(long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        MaxBytes = maxBytes;
    }

    public long MaxBytes { get; }

    /// <summary>The total size of the cached version files.</summary>
    public long TotalBytes
    {
        get
        {
            lock (_gate)
            {
                return _totalBytes;
            }
        }
    }

    /// <summary>
    /// Counts <paramref name="file"/>, as the most recently used. <paramref name="tryEvict"/> deletes it
    /// unless a snapshot holds it (taking its database's gate, then calling <see cref="Remove"/>).
    /// </summary>
    public void Add(CachedVersionFile file, Action tryEvict)
    {
        lock (_gate)
        {
            if (!_entries.ContainsKey(file))
            {
                _entries.Add(file, _recency.AddLast(tryEvict));
                _totalBytes += file.Bytes;
            }
        }
    }

    /// <summary>Marks <paramref name="file"/> as the most recently used.</summary>
    public void Touch(CachedVersionFile file)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(file, out var node))
            {
                _recency.Remove(node);
                _recency.AddLast(node);
            }
        }
    }

    /// <summary>Stops counting <paramref name="file"/>, which its database deleted.</summary>
    public void Remove(CachedVersionFile file)
    {
        lock (_gate)
        {
            if (_entries.Remove(file, out var node))
            {
                _recency.Remove(node);
                _totalBytes -= file.Bytes;
            }
        }
    }

    /// <summary>
    /// While the total exceeds the bound, evicts the least recently used files that no snapshot holds.
    /// Superseded files still held do not count: they go when released. Call it under no lock.
    /// </summary>
    public void Trim()
    {
        Action[] oldestFirst;
        lock (_gate)
        {
            if (StayingBytes() <= MaxBytes)
            {
                return;
            }

            oldestFirst = [.. _recency];
        }

        // Outside this lock: each eviction takes its database's gate, which comes first in the lock order.
        foreach (var tryEvict in oldestFirst)
        {
            lock (_gate)
            {
                if (StayingBytes() <= MaxBytes)
                {
                    return;
                }
            }

            tryEvict();
        }
    }

    // Under this lock: the bytes of the files that stay once their snapshots are released.
    private long StayingBytes()
    {
        var leaving = 0L;
        foreach (var file in _entries.Keys)
        {
            if (file.Role == CachedFileRole.Superseded)
            {
                leaving += file.Bytes;
            }
        }

        return _totalBytes - leaving;
    }
}
