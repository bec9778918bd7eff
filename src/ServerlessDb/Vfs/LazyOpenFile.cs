namespace ServerlessDb.Vfs;

/// <summary>
/// One main database file SQLite opened on a lease: serves its reads from the lease's pinned version through the
/// block cache, one piece at a time, keeping the last piece it used in memory (SQLite reads a page at a time, and
/// consecutive pages mostly share a piece). Every failure becomes an SQLite result code here and is kept on the lease.
/// </summary>
internal sealed class LazyOpenFile
{
    private readonly LazyFileLease _lease;
    private readonly BlockCache _cache;
    private readonly FetchPolicy _policy;
    private readonly byte[] _piece;
    private string? _pieceKey;
    private int _pieceIndex;
    private int _pieceLength;

    public LazyOpenFile(LazyFileLease lease, BlockCache cache, FetchPolicy policy)
    {
        _lease = lease;
        _cache = cache;
        _policy = policy;
        _piece = new byte[cache.PieceBytes];
    }

    /// <summary>The pinned length: the file's size as SQLite sees it.</summary>
    public long Length => _lease.Version.Length;

    /// <summary>
    /// Fills <paramref name="into"/> with the file's bytes from <paramref name="offset"/>: <c>SQLITE_OK</c>; past the
    /// end, the rest zero-filled and <c>SQLITE_IOERR_SHORT_READ</c> (SQLite's contract); on any failure
    /// <c>SQLITE_IOERR_READ</c>, the failure kept on the lease, and nothing of the page served.
    /// </summary>
    public int Read(Span<byte> into, long offset)
    {
        try
        {
            var available = (int)Math.Clamp(Length - offset, 0, into.Length);
            ReadAt(into[..available], offset);
            if (available < into.Length)
            {
                into[available..].Clear();
                return SqliteCodes.IoErrorShortRead;
            }

            return SqliteCodes.Ok;
        }
        catch (Exception e)
        {
            into.Clear();
            _lease.Fail(e);
            return SqliteCodes.IoErrorRead;
        }
    }

    private void ReadAt(Span<byte> into, long offset)
    {
        var blocks = _lease.Version.Blocks;
        var blockIndex = -1;
        while (!into.IsEmpty)
        {
            blockIndex = blockIndex >= 0 && offset < blocks[blockIndex].Offset + blocks[blockIndex].Length ? blockIndex : BlockAt(blocks, offset);
            var block = blocks[blockIndex];
            var offsetInBlock = (int)(offset - block.Offset);
            var pieceIndex = offsetInBlock / _cache.PieceBytes;
            var piece = LoadPiece(blocks, blockIndex, pieceIndex);
            var fromPiece = offsetInBlock - pieceIndex * _cache.PieceBytes;
            var count = Math.Min(into.Length, piece.Length - fromPiece);
            piece.Slice(fromPiece, count).CopyTo(into);
            into = into[count..];
            offset += count;
        }
    }

    private ReadOnlySpan<byte> LoadPiece(IReadOnlyList<IPinnedBlock> blocks, int blockIndex, int pieceIndex)
    {
        var block = blocks[blockIndex];
        if (_pieceKey == block.ContentKey && _pieceIndex == pieceIndex)
        {
            return _piece.AsSpan(0, _pieceLength);
        }

        _pieceKey = null;
        var length = _cache.PieceLength(block.Length, pieceIndex);
        if (_cache.TryRead(block.ContentKey, pieceIndex, _piece.AsSpan(0, length)))
        {
            _lease.CountPieceHit();
        }
        else
        {
            var range = _policy.OnMiss(block.Offset + pieceIndex * (long)_cache.PieceBytes, block.Offset, block.Length, Length);
            var fetch = _cache.FetchAsync(block, pieceIndex, SpanOf(block, range), _lease.Deadline);
            for (var next = blockIndex + 1; next < blocks.Count && blocks[next].Offset < range.End; next++)
            {
                _cache.Prefetch(blocks[next], SpanOf(blocks[next], range), _lease.Deadline);
            }

            // SQLite calls us synchronously; the wait is bounded by the lease's deadline (FetchAsync returns when
            // it fires, whatever the source does), and the cache's awaits need no synchronization context.
            fetch.GetAwaiter().GetResult().Span.CopyTo(_piece);
        }

        _pieceKey = block.ContentKey;
        _pieceIndex = pieceIndex;
        _pieceLength = length;
        return _piece.AsSpan(0, length);
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
