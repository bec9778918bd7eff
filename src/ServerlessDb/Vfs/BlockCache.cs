using System.Security.Cryptography;
using System.Text;

namespace ServerlessDb.Vfs;

/// <summary>
/// The process's cache of fetched block pieces, on disk under a byte budget, shared by every pinned version and
/// connection. A piece is a <see cref="LazyReadOptions.PieceBytes"/>-aligned part of a block, keyed by the block's
/// content key and its index. Least recently used pieces go first, but never one being read; a fetch in flight is
/// shared by everyone who needs one of its pieces (single flight); a failed, short or long fetch caches nothing.
/// </summary>
internal sealed class BlockCache
{
    private const string PieceFolderName = "vfs-pieces";

    // Two of the widest fetches (LazyReadOptions.DefaultMaxFetchBytes): the window a scan reads and the one after it.
    private const long RecentMaxBytes = 32L * 1024 * 1024;

    private readonly object _gate = new();
    private readonly Dictionary<PieceKey, CachedPiece> _pieces = [];
    private readonly LinkedList<CachedPiece> _leastRecentlyUsedFirst = new();
    private readonly Dictionary<PieceKey, Flight> _inFlight = [];

    // The last fetches' bytes, kept in memory too within a small budget: a sequential reader reads each piece right
    // after its fetch lands, and finds it here instead of opening the piece's file.
    private readonly Dictionary<PieceKey, Flight> _recentPieces = [];
    private readonly Queue<Flight> _recentOldestFirst = new();
    private readonly long _recentMaxBytes;
    private long _recentBytes;
    private readonly string _folder;
    private readonly long _maxBytes;
    private long _bytes;
    private long _evictions;
    private long _unwritablePieces;

    /// <param name="cacheDirectory">The process's own cache folder; the pieces live in a subfolder emptied here.</param>
    /// <param name="maxBytes">The bound on the bytes of all the pieces on disk.</param>
    /// <param name="pieceBytes">The size of a piece (the last piece of a block may be shorter).</param>
    public BlockCache(string cacheDirectory, long maxBytes, int pieceBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pieceBytes, 1);
        _maxBytes = maxBytes;
        _recentMaxBytes = Math.Min(maxBytes / 8, RecentMaxBytes);
        PieceBytes = pieceBytes;
        _folder = Path.Combine(cacheDirectory, PieceFolderName);

        // The index lives in memory, so pieces a previous process left (a Lambda container keeps /tmp across a
        // restart of its runtime) are known to no one and would sit outside the budget: start empty.
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }

        Directory.CreateDirectory(_folder);
    }

    /// <summary>The size of a piece; a piece's index in its block is its offset divided by it.</summary>
    public int PieceBytes { get; }

    /// <summary>Where the pieces are stored.</summary>
    public string Folder => _folder;

    /// <summary>The bytes the cache holds or has reserved on disk; never above the budget.</summary>
    public long CachedBytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>How many pieces fetches under way are bringing (read-ahead included).</summary>
    public int PiecesInFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>How many pieces were evicted to make room, since the cache started.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>
    /// How many fetched pieces could not be kept (no room beside the pieces being read, or the disk refused the
    /// write); they were served from memory to the reads that fetched them and will be fetched again.
    /// </summary>
    public long UnwritablePieces => Interlocked.Read(ref _unwritablePieces);

    /// <summary>The length of piece <paramref name="pieceIndex"/> of a block of <paramref name="blockLength"/> bytes.</summary>
    public int PieceLength(int blockLength, int pieceIndex) => Math.Min(PieceBytes, blockLength - pieceIndex * PieceBytes);

    /// <summary>
    /// Copies the cached piece into <paramref name="into"/> (exactly the piece's length) and returns true, or returns
    /// false when the piece is not cached. The piece cannot be evicted while it is being copied.
    /// </summary>
    public bool TryRead(string contentKey, int pieceIndex, Span<byte> into)
    {
        var key = new PieceKey(contentKey, pieceIndex);
        CachedPiece? piece;
        lock (_gate)
        {
            if (_recentPieces.TryGetValue(key, out var recent) && recent.Bytes.Task.IsCompletedSuccessfully)
            {
                var offset = pieceIndex * PieceBytes - recent.OffsetInBlock;
                var bytes = recent.Bytes.Task.Result;
                if (offset + into.Length <= bytes.Length)
                {
                    bytes.AsSpan(offset, into.Length).CopyTo(into);
                    return true;
                }
            }

            if (!_pieces.TryGetValue(key, out piece) || piece.Length != into.Length)
            {
                return false;
            }

            piece.Readers++;
            _leastRecentlyUsedFirst.Remove(piece.Node);
            _leastRecentlyUsedFirst.AddLast(piece.Node);
        }

        var complete = false;
        try
        {
            using var handle = File.OpenHandle(piece.Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
            complete = RandomAccess.Read(handle, into, 0) == into.Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A piece file gone or unreadable is a miss: the piece is fetched again and replaces it.
        }
        finally
        {
            lock (_gate)
            {
                piece.Readers--;
                if (!complete && _pieces.TryGetValue(key, out var current) && current == piece)
                {
                    Forget(piece);
                }
            }
        }

        return complete;
    }

    /// <summary>
    /// The bytes of piece <paramref name="pieceIndex"/> of <paramref name="block"/>, fetched: joins a fetch in flight
    /// that brings it, or starts one for the run of pieces around it, within <paramref name="span"/>, that are neither
    /// cached nor in flight. The fetch runs apart from the caller, which waits for it only until
    /// <paramref name="cancellationToken"/> fires, so a source that hangs cannot hold a reader past its deadline.
    /// </summary>
    /// <exception cref="BlockFetchException">the source brought a different number of bytes than asked for.</exception>
    public async Task<ReadOnlyMemory<byte>> FetchAsync(IPinnedBlock block, int pieceIndex, BlockSpan span, CancellationToken cancellationToken)
    {
        var pieceOffset = pieceIndex * PieceBytes;
        if (pieceOffset < span.OffsetInBlock || pieceOffset >= span.End || span.End > block.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(span), span, $"The fetch does not cover piece {pieceIndex} of a {block.Length}-byte block.");
        }

        var key = new PieceKey(block.ContentKey, pieceIndex);
        var pieceLength = PieceLength(block.Length, pieceIndex);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var buffer = new byte[pieceLength];
            if (TryRead(block.ContentKey, pieceIndex, buffer))
            {
                return buffer; // another fetch landed since the caller's miss
            }

            Flight? flight;
            bool started;
            lock (_gate)
            {
                if (_pieces.TryGetValue(key, out var kept) && kept.Length == pieceLength)
                {
                    continue; // kept between our look and this lock: read it
                }

                started = !_inFlight.TryGetValue(key, out flight);
                flight ??= StartFlight(block, pieceIndex, span, cancellationToken);
            }

            try
            {
                var bytes = await flight.Bytes.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                return bytes.AsMemory(pieceOffset - flight.OffsetInBlock, pieceLength);
            }
            catch (OperationCanceledException) when (!started && !cancellationToken.IsCancellationRequested)
            {
                // The fetch we joined was cancelled by the reader that started it, not by us: fetch it ourselves.
            }
        }
    }

    /// <summary>
    /// Starts fetching, without waiting, every piece of <paramref name="span"/> that is neither cached nor in flight
    /// (read-ahead): a reader that needs one of them later joins the fetch or finds it cached. A failure caches
    /// nothing and reaches only the readers who joined.
    /// </summary>
    public void Prefetch(IPinnedBlock block, BlockSpan span, CancellationToken cancellationToken)
    {
        if (span.Length <= 0 || span.End > block.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(span), span, $"Not a span of a {block.Length}-byte block.");
        }

        lock (_gate)
        {
            for (var index = span.OffsetInBlock / PieceBytes; index * PieceBytes < span.End; index++)
            {
                if (IsAbsent(new PieceKey(block.ContentKey, index)))
                {
                    index = StartFlight(block, index, span, cancellationToken).LastPiece;
                }
            }
        }
    }

    /// <summary>
    /// Registers and starts a fetch of the run of absent pieces around <paramref name="pieceIndex"/> (absent itself)
    /// within <paramref name="span"/>; called under the gate.
    /// </summary>
    private Flight StartFlight(IPinnedBlock block, int pieceIndex, BlockSpan span, CancellationToken cancellationToken)
    {
        var first = pieceIndex;
        var last = pieceIndex;
        var spanFirst = span.OffsetInBlock / PieceBytes;
        var spanLast = (span.End - 1) / PieceBytes;
        while (first > spanFirst && IsAbsent(new PieceKey(block.ContentKey, first - 1)))
        {
            first--;
        }

        while (last < spanLast && IsAbsent(new PieceKey(block.ContentKey, last + 1)))
        {
            last++;
        }

        var offset = first * PieceBytes;
        var flight = new Flight(block.ContentKey, first, last, offset, Math.Min(block.Length, (last + 1) * PieceBytes) - offset);
        for (var index = first; index <= last; index++)
        {
            _inFlight.Add(new PieceKey(block.ContentKey, index), flight);
        }

        // Not awaited: the fetch belongs to everyone who joins it, and ends on its own.
        _ = Task.Run(() => RunAsync(block, flight, cancellationToken), CancellationToken.None);
        return flight;
    }

    private bool IsAbsent(PieceKey key) => !_pieces.ContainsKey(key) && !_inFlight.ContainsKey(key);

    private async Task RunAsync(IPinnedBlock block, Flight flight, CancellationToken cancellationToken)
    {
        // A source that ignores cancellation must not keep its pieces in flight past the deadline of the reader that
        // started the fetch: at the deadline the flight is abandoned, and what the source brings after is dropped.
        using var abandon = cancellationToken.Register(() => Abandon(flight, cancellationToken));
        byte[] bytes;
        try
        {
            bytes = new byte[flight.Length];
            var fetched = await block.FetchAsync(flight.OffsetInBlock, bytes, cancellationToken).ConfigureAwait(false);
            if (fetched != flight.Length)
            {
                throw new BlockFetchException(
                    $"A fetch of {flight.Length} bytes at offset {flight.OffsetInBlock} of block {block.ContentKey} brought {fetched}.");
            }
        }
        catch (Exception e)
        {
            lock (_gate)
            {
                RemoveFlight(flight);
            }

            flight.Bytes.TrySetException(e);
            return;
        }

        // The readers first, the disk after: they need not wait for the pieces to be written.
        if (!flight.Bytes.TrySetResult(bytes))
        {
            return;
        }

        KeepRecent(flight);

        for (var index = flight.FirstPiece; index <= flight.LastPiece; index++)
        {
            var offset = (index - flight.FirstPiece) * PieceBytes;
            Keep(new PieceKey(flight.ContentKey, index), bytes.AsSpan(offset, Math.Min(PieceBytes, bytes.Length - offset)));
        }

        lock (_gate)
        {
            RemoveFlight(flight);
        }
    }

    /// <summary>Keeps a landed fetch's bytes in memory too, forgetting the oldest beyond the memory budget.</summary>
    private void KeepRecent(Flight flight)
    {
        if (flight.Length > _recentMaxBytes)
        {
            return;
        }

        lock (_gate)
        {
            while (_recentBytes + flight.Length > _recentMaxBytes && _recentOldestFirst.TryDequeue(out var oldest))
            {
                _recentBytes -= oldest.Length;
                for (var index = oldest.FirstPiece; index <= oldest.LastPiece; index++)
                {
                    var key = new PieceKey(oldest.ContentKey, index);
                    if (_recentPieces.TryGetValue(key, out var current) && current == oldest)
                    {
                        _recentPieces.Remove(key);
                    }
                }
            }

            _recentOldestFirst.Enqueue(flight);
            _recentBytes += flight.Length;
            for (var index = flight.FirstPiece; index <= flight.LastPiece; index++)
            {
                _recentPieces[new PieceKey(flight.ContentKey, index)] = flight;
            }
        }
    }

    private void Abandon(Flight flight, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            RemoveFlight(flight);
        }

        flight.Bytes.TrySetCanceled(cancellationToken);
    }

    /// <summary>Forgets the pieces <paramref name="flight"/> was bringing, unless a later fetch brings them now; called under the gate.</summary>
    private void RemoveFlight(Flight flight)
    {
        for (var index = flight.FirstPiece; index <= flight.LastPiece; index++)
        {
            var key = new PieceKey(flight.ContentKey, index);
            if (_inFlight.TryGetValue(key, out var current) && current == flight)
            {
                _inFlight.Remove(key);
            }
        }
    }

    /// <summary>Writes a fetched piece to disk and indexes it, evicting the least recently used pieces no one is reading to make room.</summary>
    private void Keep(PieceKey key, ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            var node = _leastRecentlyUsedFirst.First;
            while (_bytes + bytes.Length > _maxBytes && node is not null)
            {
                var next = node.Next;
                if (node.Value.Readers == 0)
                {
                    Forget(node.Value);
                    _evictions++;
                }

                node = next;
            }

            if (_bytes + bytes.Length > _maxBytes)
            {
                _unwritablePieces++;
                return;
            }

            // Reserved before the write, so the folder never holds more than the budget, even mid-write.
            _bytes += bytes.Length;
        }

        var path = Path.Combine(_folder, FileNameOf(key));
        try
        {
            File.WriteAllBytes(path, bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full or broken /tmp costs this piece its place in the cache, not the query its answer: the reads
            // that fetched it have it already, and the next miss fetches it again. Counted, so that it is seen.
            TryDelete(path);
            lock (_gate)
            {
                _bytes -= bytes.Length;
                _unwritablePieces++;
            }

            return;
        }

        lock (_gate)
        {
            if (_pieces.ContainsKey(key))
            {
                _bytes -= bytes.Length; // kept meanwhile by a fetch that replaced an unreadable copy: same bytes, same file
                return;
            }

            var piece = new CachedPiece(key, path, bytes.Length);
            piece.Node = _leastRecentlyUsedFirst.AddLast(piece);
            _pieces.Add(key, piece);
        }
    }

    /// <summary>Drops a piece from the index and the disk; called under the gate.</summary>
    private void Forget(CachedPiece piece)
    {
        _pieces.Remove(piece.Key);
        _leastRecentlyUsedFirst.Remove(piece.Node);
        _bytes -= piece.Length;
        TryDelete(piece.Path);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next process's start to clear; the index no longer counts it.
        }
    }

    // Content keys are the store's (an ETag holds quotes): a file is named by the key's hash, never by the key.
    private static string FileNameOf(PieceKey key) =>
        $"{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.ContentKey)))}-{key.Index}.piece";

    private readonly record struct PieceKey(string ContentKey, int Index);

    private sealed class CachedPiece(PieceKey key, string path, int length)
    {
        public PieceKey Key { get; } = key;

        public string Path { get; } = path;

        public int Length { get; } = length;

        public LinkedListNode<CachedPiece> Node { get; set; } = null!;

        /// <summary>Reads copying the piece right now; a piece with readers is never evicted.</summary>
        public int Readers { get; set; }
    }

    /// <summary>One fetch under way: the pieces it brings, and their bytes once it lands.</summary>
    private sealed class Flight(string contentKey, int firstPiece, int lastPiece, int offsetInBlock, int length)
    {
        public string ContentKey { get; } = contentKey;

        public int FirstPiece { get; } = firstPiece;

        public int LastPiece { get; } = lastPiece;

        public int OffsetInBlock { get; } = offsetInBlock;

        public int Length { get; } = length;

        public TaskCompletionSource<byte[]> Bytes { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
