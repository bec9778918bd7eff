namespace ServerlessDb.Vfs;

/// <summary>
/// Decides how much one open file fetches, and when. On S3 a request costs a round trip whatever its size up to a few
/// MiB, so: a first miss in a block brings the aligned piece around it; a second miss in the same block brings the
/// whole block (the query is working there); a miss right where an earlier fetch ended is a sequential read, and
/// brings a window twice as wide as that fetch, up to the widest fetch, running on into the blocks that follow (their
/// fetches run side by side). A sequential read then keeps its next window in flight while it reads the last one
/// (<see cref="OnHit"/>), as a download keeps its GETs in flight, so a scan waits for the store only when it outruns it.
/// </summary>
/// <remarks>
/// One sequential stream is followed, and a read elsewhere (an interior page, an overflow chain) does not end it: the
/// stream goes on where it was. Not thread-safe: one open file has one policy, and SQLite calls a file from one
/// thread at a time.
/// </remarks>
internal sealed class FetchPolicy
{
    private readonly int _pieceBytes;
    private readonly int _maxFetchBytes;
    private readonly HashSet<long> _blocksMissed = [];

    // The sequential stream: where its fetches end, and how wide its last window was (0: no stream).
    private long _streamEnd = -1;
    private int _streamBytes;
    private int _blockBytes = 1;

    // The last fetch for a miss, from which a new stream starts when the next miss follows it.
    private long _lastMissEnd = -1;
    private int _lastMissBytes;

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
        _blockBytes = Math.Max(_blockBytes, blockLength); // blocks tile the file at one size but the last
        var widthBefore = pieceStart == _streamEnd ? _streamBytes : pieceStart == _lastMissEnd ? _lastMissBytes : 0;
        if (widthBefore > 0)
        {
            // Twice the window before, and at least the rest of the block if the query was here before. A window that runs
            // into the next blocks ends where a block ends, when the widest fetch allows, so the windows after it start on
            // a block and fetch whole blocks (a block cut by a window costs two GETs).
            var end = pieceStart + Math.Min(Math.Max(2L * widthBefore, secondMissInBlock ? blockEnd - pieceStart : 0), _maxFetchBytes);
            var blockAligned = blockOffset + (end - blockOffset + blockLength - 1) / blockLength * blockLength;
            if (end > blockEnd && blockAligned - pieceStart <= _maxFetchBytes)
            {
                end = blockAligned;
            }

            var window = new FetchRange(pieceStart, (int)(Math.Min(end, fileLength) - pieceStart));
            (_streamEnd, _streamBytes) = (window.End, window.Length);
            return RememberMiss(window);
        }

        if (secondMissInBlock)
        {
            // The whole block, unless it is wider than one fetch may be: then the widest fetch from the miss.
            return RememberMiss(blockLength <= _maxFetchBytes
                ? new FetchRange(blockOffset, blockLength)
                : new FetchRange(pieceStart, (int)Math.Min(_maxFetchBytes, blockEnd - pieceStart)));
        }

        return RememberMiss(new FetchRange(pieceStart, (int)(Math.Min(Math.Min(pieceStart + _pieceBytes, blockEnd), fileLength) - pieceStart)));
    }

    /// <summary>
    /// The window to fetch ahead when a read at <paramref name="offset"/> found its piece cached or on its way: when it is in the
    /// stream's newest window, the next window (twice as wide, up to the widest fetch, after it, within the file); else none.
    /// </summary>
    public FetchRange? OnHit(long offset, long fileLength)
    {
        if (_streamBytes == 0 || _streamEnd >= fileLength || offset < _streamEnd - _streamBytes || offset >= _streamEnd)
        {
            return null;
        }

        var length = Math.Min(2L * _streamBytes, _maxFetchBytes);
        var blockAligned = (length + _blockBytes - 1) / _blockBytes * _blockBytes;
        if (_streamEnd % _blockBytes == 0 && blockAligned <= _maxFetchBytes)
        {
            length = blockAligned; // from a block's start to a block's end: whole blocks, a GET each
        }

        var window = new FetchRange(_streamEnd, (int)Math.Min(length, fileLength - _streamEnd));
        (_streamEnd, _streamBytes) = (window.End, window.Length);
        return window;
    }

    private FetchRange RememberMiss(FetchRange range)
    {
        (_lastMissEnd, _lastMissBytes) = (range.End, range.Length);
        return range;
    }
}
