using ServerlessDb.Vfs;

namespace ServerlessDb.UnitTests.Vfs;

/// <summary>A block held in memory that records every fetch asked of it and can be held back or made to fail.</summary>
internal sealed class MemoryBlock(string contentKey, byte[] content) : IPinnedBlock
{
    private readonly List<(int Offset, int Length)> _fetches = [];

    public long Offset => 0;

    public int Length => content.Length;

    public string ContentKey => contentKey;

    /// <summary>Every fetch waits for this before answering: a test's way to keep fetches in flight.</summary>
    public Task Gate { get; set; } = Task.CompletedTask;

    /// <summary>False: a fetch waits for the gate whatever its token says, as a source that ignores cancellation would.</summary>
    public bool HonorsCancellation { get; set; } = true;

    /// <summary>Thrown by every fetch once the gate opens, when set.</summary>
    public Exception? Failure { get; set; }

    public IReadOnlyList<(int Offset, int Length)> Fetches
    {
        get
        {
            lock (_fetches)
            {
                return [.. _fetches];
            }
        }
    }

    public static MemoryBlock Numbered(string contentKey, int length) =>
        new(contentKey, [.. Enumerable.Range(0, length).Select(i => (byte)(i * 7 + i / 251))]);

    public byte[] Bytes(int offset, int length) => content.AsSpan(offset, length).ToArray();

    public async ValueTask<int> FetchAsync(int offsetInBlock, Memory<byte> into, CancellationToken cancellationToken)
    {
        lock (_fetches)
        {
            _fetches.Add((offsetInBlock, into.Length));
        }

        await (HonorsCancellation ? Gate.WaitAsync(cancellationToken) : Gate);
        if (Failure is { } failure)
        {
            throw failure;
        }

        content.AsMemory(offsetInBlock, into.Length).CopyTo(into);
        return into.Length;
    }
}
