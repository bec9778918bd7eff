namespace ServerlessDb.Vfs;

/// <summary>
/// Decides how much one cache miss fetches, for one open file. On S3 a request costs a round trip whatever its size
/// up to a few MiB, so: a first miss in a block brings the aligned piece around it; a second miss in the same block
/// brings the whole block (the query is working there); a miss right where the previous fetch ended is a sequential
/// read, and brings a window twice as wide as the last fetch, up to the widest fetch, running on into the blocks that
/// follow (their fetches run side by side, so a scan waits for one round trip per window, not one per block).
/// </summary>
/// <remarks>Not thread-safe: one open file has one policy, and SQLite calls a file from one thread at a time.</remarks>
internal sealed class FetchPolicy
{
    private readonly int _pieceBytes;
    private readonly int _maxFetchBytes;
    private readonly HashSet<long> _blocksMissed = [];
    private long _sequentialFrom = -1;
    private int _lastFetchBytes;

    public FetchPolicy(int pieceBytes, int maxFetchBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pieceBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFetchBytes, pieceBytes);
        _pieceBytes = pieceBytes;
        _maxFetchBytes = maxFetchBytes;
    }

    /// <summary>
    /// The span to fetch for a miss at file offset <paramref name="missOffset"/>, in the block of
    /// <paramref name="blockLength"/> bytes at <paramref name="blockOffset"/> of a file of <paramref name="fileLength"/> bytes.
    /// </summary>
    public FetchRange OnMiss(long missOffset, long blockOffset, int blockLength, long fileLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(missOffset, blockOffset);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(missOffset, blockOffset + blockLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockOffset + blockLength, fileLength);

        var pieceStart = blockOffset + (missOffset - blockOffset) / _pieceBytes * _pieceBytes;
        var blockEnd = blockOffset + blockLength;
        var secondMissInBlock = !_blocksMissed.Add(blockOffset);
        var sequential = pieceStart == _sequentialFrom;
        long end;
        if (sequential)
        {
            // Twice the last fetch, and at least the rest of the block if the query was here before.
            end = pieceStart + Math.Min(Math.Max(2L * _lastFetchBytes, secondMissInBlock ? blockEnd - pieceStart : 0), _maxFetchBytes);
        }
        else if (secondMissInBlock)
        {
            // The whole block, unless it is wider than one fetch may be: then the widest fetch from the miss.
            return Remember(blockLength <= _maxFetchBytes
                ? new FetchRange(blockOffset, blockLength)
                : new FetchRange(pieceStart, (int)Math.Min(_maxFetchBytes, blockEnd - pieceStart)));
        }
        else
        {
            end = Math.Min(pieceStart + _pieceBytes, blockEnd);
        }

        return Remember(new FetchRange(pieceStart, (int)(Math.Min(end, fileLength) - pieceStart)));
    }

    private FetchRange Remember(FetchRange range)
    {
        _sequentialFrom = range.End;
        _lastFetchBytes = range.Length;
        return range;
    }
}
