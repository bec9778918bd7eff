using System.Collections.Concurrent;
using System.Diagnostics;

namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>Collects the operations of one history from many clients at once, timed on one monotonic clock.</summary>
public sealed class HistoryRecorder
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<HistoryOperation> _operations = new();
    private int _lastId;

    public TimeSpan Now => _clock.Elapsed;

    public int NextId() => Interlocked.Increment(ref _lastId);

    public void Add(HistoryOperation operation) => _operations.Enqueue(operation);

    /// <summary>Every operation recorded, in the order they were started.</summary>
    public IReadOnlyList<HistoryOperation> Operations => _operations.OrderBy(o => o.Id).ToList();
}
