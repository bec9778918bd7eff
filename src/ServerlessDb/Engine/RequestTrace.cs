using System.Diagnostics;
using ServerlessDb.Storage;

namespace ServerlessDb.Engine;

/// <summary>
/// What one request did and how long each phase took (classify, fetch, lock, execute, upload), and what
/// it moved and how its snapshots were got; the API writes it as the request's log line and its metrics.
/// </summary>
internal sealed class RequestTrace
{
    private readonly Dictionary<string, double> _phaseMilliseconds = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, double> PhaseMilliseconds => _phaseMilliseconds;

    /// <summary>"read" or "write", once decided.</summary>
    public string? Path { get; set; }

    /// <summary>How many times the write ran (more than one after conflicting commits).</summary>
    public int Attempts { get; set; }

    public bool Committed { get; set; }

    public string? VersionRead { get; set; }

    public string? VersionWritten { get; set; }

    /// <summary>How many of the write's commits were refused because someone else committed first.</summary>
    public int Conflicts { get; set; }

    public long BytesDownloaded { get; private set; }

    public long BytesUploaded { get; set; }

    /// <summary>Snapshots served from the cache without asking the store.</summary>
    public int CacheHits { get; private set; }

    /// <summary>Snapshots the store confirmed were current (no bytes moved).</summary>
    public int Revalidations { get; private set; }

    /// <summary>Snapshots downloaded (or waited for while another request downloaded them).</summary>
    public int Downloads { get; private set; }

    /// <summary>Ranged GETs a lazy read made for the pages it read.</summary>
    public int RangeReads { get; private set; }

    /// <summary>Pieces a lazy read found in the block cache.</summary>
    public long BlockCacheHits { get; private set; }

    /// <summary>Counts how <paramref name="read"/> was got: a local file, or a lazy read (counted when it is done, by <see cref="ReadLazily"/>).</summary>
    public void Fetched(DatabaseRead read)
    {
        if (read.Snapshot is { } snapshot)
        {
            Fetched(snapshot);
        }
    }

    /// <summary>Adds what a lazy read fetched and found cached, once its statements ran.</summary>
    public void ReadLazily(DatabaseRead read) => AddRangeReads(read.RangeRequests, read.RangeBytes, read.BlockCacheHits);

    /// <summary>Adds what a write in place fetched of its pinned version (running and committing) and found cached.</summary>
    public void FetchedInPlace(FetchCounts fetches, long blockCacheHits) => AddRangeReads(fetches.Requests, fetches.Bytes, blockCacheHits);

    private void AddRangeReads(int requests, long bytes, long blockCacheHits)
    {
        RangeReads += requests;
        BytesDownloaded += bytes;
        BlockCacheHits += blockCacheHits;
    }

    /// <summary>Counts how <paramref name="snapshot"/> was got.</summary>
    public void Fetched(DatabaseSnapshot snapshot)
    {
        _ = snapshot.Fetch.Source switch
        {
            SnapshotSource.Cache => ++CacheHits,
            SnapshotSource.Revalidated => ++Revalidations,
            _ => ++Downloads,
        };
        BytesDownloaded += snapshot.Fetch.BytesDownloaded;
    }

    public PhaseTimer Phase(string name) => new(this, name);

    private void Add(string phase, double milliseconds) =>
        _phaseMilliseconds[phase] = _phaseMilliseconds.GetValueOrDefault(phase) + milliseconds;

    /// <summary>Adds the time until it is disposed to its phase.</summary>
    public readonly struct PhaseTimer(RequestTrace trace, string phase) : IDisposable
    {
        private readonly long _started = Stopwatch.GetTimestamp();

        public void Dispose() => trace.Add(phase, Stopwatch.GetElapsedTime(_started).TotalMilliseconds);
    }
}
