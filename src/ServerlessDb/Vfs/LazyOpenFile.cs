namespace ServerlessDb.Vfs;

/// <summary>
/// Reads a lease's pinned version through the block cache, one piece at a time, keeping the last piece it used in
/// memory (SQLite reads a page at a time, and consecutive pages mostly share a piece): the file SQLite opens on a
/// read lease, and the base under a write lease's overlay.
/// </summary>
internal sealed class LazyOpenFile : LazySqliteFile
{
    private readonly BlockCache _cache;
    private readonly FetchPolicy _policy;
    private readonly byte[] _piece;
    private string? _pieceKey;
    private int _pieceIndex;
    private int _pieceLength;

    public LazyOpenFile(LazyLease lease, BlockCache cache, FetchPolicy policy)
        : base(lease)
    {
        _cache = cache;
        _policy = policy;
        _piece = new byte[cache.PieceBytes];
    }

    /// <summary>The pinned length: the file's size as SQLite sees it.</summary>
    public override long Length => Lease.Version.Length;

    /// <summary>
    /// Fills <paramref name="into"/> with the pinned bytes from <paramref name="offset"/> (all within
    /// <see cref="Length"/>), waiting for fetches until <paramref name="cancellationToken"/> fires; throws on any failure.
    /// </summary>
    public void ReadPinned(Span<byte> into, long offset, CancellationToken cancellationToken)
    {
        var blocks = Lease.Version.Blocks;
        var blockIndex = -1;
        while (!into.IsEmpty)
        {
            blockIndex = blockIndex >= 0 && offset < blocks[blockIndex].Offset + blocks[blockIndex].Length ? blockIndex : BlockAt(blocks, offset);
            var block = blocks[blockIndex];
            var offsetInBlock = (int)(offset - block.Offset);
            var pieceIndex = offsetInBlock / _cache.PieceBytes;
            var piece = LoadPiece(blocks, blockIndex, pieceIndex, cancellationToken);
            var fromPiece = offsetInBlock - pieceIndex * _cache.PieceBytes;
            var count = Math.Min(into.Length, piece.Length - fromPiece);
            piece.Slice(fromPiece, count).CopyTo(into);
            into = into[count..];
            offset += count;
        }
    }

    protected override void ReadWithin(Span<byte> into, long offset) => ReadPinned(into, offset, Lease.Deadline);

    private ReadOnlySpan<byte> LoadPiece(IReadOnlyList<IPinnedBlock> blocks, int blockIndex, int pieceIndex, CancellationToken cancellationToken)
    {
        var block = blocks[blockIndex];
        if (_pieceKey == block.ContentKey && _pieceIndex == pieceIndex)
        {
            return _piece.AsSpan(0, _pieceLength);
        }

        _pieceKey = null;
        var length = _cache.PieceLength(block.Length, pieceIndex);
        var pieceOffset = block.Offset + pieceIndex * (long)_cache.PieceBytes;
        if (_cache.TryRead(block.ContentKey, pieceIndex, _piece.AsSpan(0, length)))
        {
            Lease.CountPieceHit();
            ReadAhead(blocks, pieceOffset, cancellationToken);
        }
        else if (_cache.IsInFlight(block.ContentKey, pieceIndex))
        {
            // On its way (read-ahead, or another reader's fetch): not a miss. A miss here would start the stream
            // again from one piece, while the windows ahead of it are already in flight.
            ReadAhead(blocks, pieceOffset, cancellationToken);
            Wait(_cache.FetchAsync(block, pieceIndex, new BlockSpan(pieceIndex * _cache.PieceBytes, length), _piece.AsMemory(0, length), cancellationToken));
        }
        else
        {
            var range = _policy.OnMiss(pieceOffset, block.Offset, block.Length, Length);
            var fetch = _cache.FetchAsync(block, pieceIndex, SpanOf(block, range), _piece.AsMemory(0, length), cancellationToken);
            PrefetchFrom(blocks, blockIndex + 1, range, cancellationToken);
            Wait(fetch);
        }

        _pieceKey = block.ContentKey;
        _pieceIndex = pieceIndex;
        _pieceLength = length;
        return _piece.AsSpan(0, length);
    }

    /// <summary>Starts the stream's next window when the policy says the read at <paramref name="pieceOffset"/> calls for it.</summary>
    private void ReadAhead(IReadOnlyList<IPinnedBlock> blocks, long pieceOffset, CancellationToken cancellationToken)
    {
        if (_policy.OnHit(pieceOffset, Length) is { } ahead)
        {
            PrefetchFrom(blocks, BlockAt(blocks, ahead.Offset), ahead, cancellationToken);
        }
    }

    /// <summary>Waits for <paramref name="fetch"/> to fill the piece buffer, throwing its failure.</summary>
    private static void Wait(Task fetch) =>
        // SQLite calls us synchronously; the wait is bounded by the token, the lease's deadline for SQLite's reads
        // (FetchAsync returns when it fires, whatever the source does), and the cache's awaits need no
        // synchronization context.
        fetch.GetAwaiter().GetResult();

    /// <summary>Starts fetching the parts of <paramref name="range"/> in the blocks from <paramref name="first"/> on, without waiting.</summary>
    private void PrefetchFrom(IReadOnlyList<IPinnedBlock> blocks, int first, FetchRange range, CancellationToken cancellationToken)
    {
        for (var next = first; next < blocks.Count && blocks[next].Offset < range.End; next++)
        {
            _cache.Prefetch(blocks[next], SpanOf(blocks[next], range), cancellationToken);
        }
    }

    /// <summary>The part of <paramref name="range"/> that lies in <paramref name="block"/>.</summary>
    private static BlockSpan SpanOf(IPinnedBlock block, FetchRange range)
    {
        var start = Math.Max(range.Offset, block.Offset) - block.Offset;
        var end = Math.Min(range.End, block.Offset + block.Length) - block.Offset;
        return new BlockSpan((int)start, (int)(end - start));
    }

    /// <summary>The index of the block holding <paramref name="offset"/>: blocks tile the file in order (checked when the lease opened).</summary>
    private static int BlockAt(IReadOnlyList<IPinnedBlock> blocks, long offset)
    {
        int low = 0, high = blocks.Count - 1;
        while (low < high)
        {
            var middle = low + (high - low + 1) / 2;
            if (blocks[middle].Offset <= offset)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return low;
    }
}
