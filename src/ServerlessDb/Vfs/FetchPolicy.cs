namespace ServerlessDb.Vfs;

/// <summary>
/// Decides how much of a block one cache miss fetches, for one open file. On S3 a request costs a round trip
/// whatever its size up to a few MiB, so: a first miss in a block brings the aligned piece around it; a second miss
/// in the same block brings the whole block (the query is working there); a miss right where the previous fetch
/// ended is a sequential read, and brings a window twice as wide as the last one, up to the widest fetch.
/// </summary>
/// <remarks>Not thread-safe: one open file has one policy, and SQLite calls a file from one thread at a time.</remarks>
internal sealed class FetchPolicy
{
    private readonly int _pieceBytes;
    private readonly int _maxFetchBytes;
    private readonly HashSet<long> _blocksMissed = [];
    private long _sequentialFrom = -1;
    private int _window;

    public FetchPolicy(int pieceBytes, int maxFetchBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pieceBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFetchBytes, pieceBytes);
        _pieceBytes = pieceBytes;
        _maxFetchBytes = maxFetchBytes;
        _window = pieceBytes;
    }

    /// <summary>
    /// The span to fetch for a miss at <paramref name="missOffsetInBlock"/> in the block that starts at
    /// <paramref name="blockOffset"/> in the file and is <paramref name="blockLength"/> bytes long.
    /// </summary>
    public FetchRange OnMiss(long blockOffset, int blockLength, int missOffsetInBlock)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(missOffsetInBlock);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(missOffsetInBlock, blockLength);

        var pieceStart = missOffsetInBlock / _pieceBytes * _pieceBytes;
        var sequential = blockOffset + pieceStart == _sequentialFrom;
        FetchRange range;
        if (!_blocksMissed.Add(blockOffset))
        {
            // The whole block, unless it is wider than one fetch may be: then the widest fetch from the miss.
            range = blockLength <= _maxFetchBytes ? new FetchRange(0, blockLength) : Clip(pieceStart, _maxFetchBytes, blockLength);
            _window = Math.Max(_window, range.Length);
        }
        else if (sequential)
        {
            _window = (int)Math.Min((long)_window * 2, _maxFetchBytes);
            range = Clip(pieceStart, _window, blockLength);
        }
        else
        {
            _window = _pieceBytes;
            range = Clip(pieceStart, _pieceBytes, blockLength);
        }

        _sequentialFrom = blockOffset + range.End;
        return range;
    }

    private static FetchRange Clip(int start, int length, int blockLength) => new(start, Math.Min(length, blockLength - start));
}
