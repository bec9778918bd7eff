using System.Buffers;

using Microsoft.Win32.SafeHandles;

namespace ServerlessDb.Vfs;

/// <summary>
/// The process's cache of fetched block pieces, on disk under a byte budget, shared by every pinned version and
/// connection. A piece is a <see cref="LazyReadOptions.PieceBytes"/>-aligned part of a block, keyed by the block's
/// content key and its index. Least recently used pieces go first, but never one being read; a fetch in flight is
/// shared by everyone who needs one of its pieces (single flight); a failed, short or long fetch caches nothing.
/// </summary>
/// <remarks>
/// The pieces live in one file of piece-sized slots (at most the budget's worth), written and read at their slot's
/// offset, as CloudSQLite keeps its blocks: a file a piece cost a scan three system calls a piece and most of its CPU
/// (docs/benchmarks.md, "Why the scan was slow"). A freed slot is reused by the next piece kept. A fetch lands in a
/// buffer from the cache's own pool, returned once the fetch and every reader who joined it are done with it: a new
/// array a fetch (2 MiB, on the large object heap) cost a scan a full garbage collection every few fetches.
/// </remarks>
internal sealed class BlockCache
{
    private const string PieceFolderName = "vfs-pieces";
    private const string SlotFileName = "pieces.slots";

    private readonly object _gate = new();
    private readonly Dictionary<PieceKey, CachedPiece> _pieces = [];
    private readonly LinkedList<CachedPiece> _leastRecentlyUsedFirst = new();
    private readonly Dictionary<PieceKey, Flight> _inFlight = [];
    private readonly ArrayPool<byte> _buffers = ArrayPool<byte>.Create(LazyReadOptions.MaxBlockBytes, maxArraysPerBucket: 16);

    private readonly string _folder;
    private readonly int _slotCount;
    private readonly Stack<int> _freeSlots = new();
    private int _slotsEverUsed;
    private SafeFileHandle? _slots;
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
        _slotCount = (int)Math.Min(int.MaxValue, maxBytes / pieceBytes);
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

    /// <summary>Where the pieces are stored: one file of slots, made when the first piece is kept.</summary>
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
            complete = RandomAccess.Read(_slots!, into, SlotOffset(piece.Slot)) == into.Length;
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
                else if (piece.Forgotten && piece.Readers == 0)
                {
                    _freeSlots.Push(piece.Slot); // forgotten while we read it: the last reader frees its slot
                }
            }
        }

        return complete;
    }

    /// <summary>Whether a fetch under way brings piece <paramref name="pieceIndex"/> of the block with <paramref name="contentKey"/>.</summary>
    public bool IsInFlight(string contentKey, int pieceIndex)
    {
        lock (_gate)
        {
            return _inFlight.ContainsKey(new PieceKey(contentKey, pieceIndex));
        }
    }

    /// <summary>
    /// Fills <paramref name="into"/> (exactly the piece's length) with piece <paramref name="pieceIndex"/> of
    /// <paramref name="block"/>, fetched: joins a fetch in flight that brings it, or starts one for the run of pieces
    /// around it, within <paramref name="span"/>, that are neither cached nor in flight. The fetch runs apart from the
    /// caller, which waits for it only until <paramref name="cancellationToken"/> fires, so a source that hangs cannot
    /// hold a reader past its deadline.
    /// </summary>
    /// <exception cref="BlockFetchException">the source brought a different number of bytes than asked for.</exception>
    public async Task FetchAsync(IPinnedBlock block, int pieceIndex, BlockSpan span, Memory<byte> into, CancellationToken cancellationToken)
    {
        var pieceOffset = pieceIndex * PieceBytes;
        if (pieceOffset < span.OffsetInBlock || pieceOffset >= span.End || span.End > block.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(span), span, $"The fetch does not cover piece {pieceIndex} of a {block.Length}-byte block.");
        }

        var key = new PieceKey(block.ContentKey, pieceIndex);
        var pieceLength = PieceLength(block.Length, pieceIndex);
        if (into.Length != pieceLength)
        {
            throw new ArgumentException($"Piece {pieceIndex} of a {block.Length}-byte block is {pieceLength} bytes, not {into.Length}.", nameof(into));
        }

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryRead(block.ContentKey, pieceIndex, into.Span))
            {
                return; // another fetch landed since the caller's miss
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
                flight.Holds++; // its buffer stays ours until we have copied the piece
            }

            try
            {
                var bytes = await flight.Bytes.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                bytes.AsSpan(pieceOffset - flight.OffsetInBlock, pieceLength).CopyTo(into.Span);
                return;
            }
            catch (OperationCanceledException) when (!started && !cancellationToken.IsCancellationRequested)
            {
                // The fetch we joined was cancelled by the reader that started it, not by us: fetch it ourselves.
            }
            finally
            {
                Release(flight);
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
        var bytes = _buffers.Rent(flight.Length);
        flight.Buffer = bytes;
        try
        {
            var fetched = await block.FetchAsync(flight.OffsetInBlock, bytes.AsMemory(0, flight.Length), cancellationToken).ConfigureAwait(false);
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
            Release(flight);
            return;
        }

        // The readers first, the disk after: they need not wait for the pieces to be written.
        if (flight.Bytes.TrySetResult(bytes))
        {
            for (var index = flight.FirstPiece; index <= flight.LastPiece; index++)
            {
                var offset = (index - flight.FirstPiece) * PieceBytes;
                Keep(new PieceKey(flight.ContentKey, index), bytes.AsSpan(offset, Math.Min(PieceBytes, flight.Length - offset)));
            }

            lock (_gate)
            {
                RemoveFlight(flight);
            }
        }

        Release(flight);
    }

    /// <summary>Lets go of a hold on <paramref name="flight"/>'s buffer; the last one returns it to the pool.</summary>
    private void Release(Flight flight)
    {
        byte[]? buffer = null;
        lock (_gate)
        {
            if (--flight.Holds == 0)
            {
                (buffer, flight.Buffer) = (flight.Buffer, null);
            }
        }

        if (buffer is not null)
        {
            _buffers.Return(buffer);
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

    /// <summary>Writes a fetched piece to a free slot and indexes it, evicting the least recently used pieces no one is reading to free one.</summary>
    private void Keep(PieceKey key, ReadOnlySpan<byte> bytes)
    {
        int slot;
        SafeFileHandle slots;
        lock (_gate)
        {
            if (_pieces.ContainsKey(key))
            {
                return;
            }

            var node = _leastRecentlyUsedFirst.First;
            while (_freeSlots.Count == 0 && _slotsEverUsed == _slotCount && node is not null)
            {
                var next = node.Next;
                if (node.Value.Readers == 0)
                {
                    Forget(node.Value);
                    _evictions++;
                }

                node = next;
            }

            if (!TryTakeSlot(out slot, out slots))
            {
                _unwritablePieces++;
                return;
            }

            // Reserved before the write, so the file never holds more than the budget, even mid-write.
            _bytes += bytes.Length;
        }

        try
        {
            RandomAccess.Write(slots, bytes, SlotOffset(slot));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full or broken /tmp costs this piece its place in the cache, not the query its answer: the reads
            // that fetched it have it already, and the next miss fetches it again. Counted, so that it is seen.
            lock (_gate)
            {
                _freeSlots.Push(slot);
                _bytes -= bytes.Length;
                _unwritablePieces++;
            }

            return;
        }

        lock (_gate)
        {
            if (_pieces.ContainsKey(key))
            {
                _freeSlots.Push(slot); // kept meanwhile by a fetch that replaced an unreadable copy
                _bytes -= bytes.Length;
                return;
            }

            var piece = new CachedPiece(key, slot, bytes.Length);
            piece.Node = _leastRecentlyUsedFirst.AddLast(piece);
            _pieces.Add(key, piece);
        }
    }

    /// <summary>A free slot, or a new one while the budget allows, in the slot file (opened on first use); called under the gate.</summary>
    private bool TryTakeSlot(out int slot, out SafeFileHandle slots)
    {
        slots = null!;
        slot = -1;
        if (_freeSlots.TryPop(out slot))
        {
            slots = _slots!;
            return true;
        }

        if (_slotsEverUsed == _slotCount)
        {
            return false;
        }

        try
        {
            _slots ??= File.OpenHandle(Path.Combine(_folder, SlotFileName), FileMode.Create, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // no cache file: nothing is kept, and reads fetch again
        }

        slot = _slotsEverUsed++;
        slots = _slots;
        return true;
    }

    private long SlotOffset(int slot) => (long)slot * PieceBytes;

    /// <summary>
    /// Drops a piece from the index, and frees its slot unless someone is reading it (then the last reader does: a slot
    /// reused under a reader would hand it another piece's bytes); called under the gate.
    /// </summary>
    private void Forget(CachedPiece piece)
    {
        _pieces.Remove(piece.Key);
        _leastRecentlyUsedFirst.Remove(piece.Node);
        _bytes -= piece.Length;
        piece.Forgotten = true;
        if (piece.Readers == 0)
        {
            _freeSlots.Push(piece.Slot);
        }
    }

    private readonly record struct PieceKey(string ContentKey, int Index);

    private sealed class CachedPiece(PieceKey key, int slot, int length)
    {
        public PieceKey Key { get; } = key;

        public int Slot { get; } = slot;

        public int Length { get; } = length;

        public LinkedListNode<CachedPiece> Node { get; set; } = null!;

        /// <summary>Reads copying the piece right now; a piece with readers is never evicted.</summary>
        public int Readers { get; set; }

        /// <summary>No longer in the index; its slot is free once <see cref="Readers"/> is 0.</summary>
        public bool Forgotten { get; set; }
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

        /// <summary>The pooled buffer the fetch lands in, until the last hold is released.</summary>
        public byte[]? Buffer { get; set; }

        /// <summary>Who still uses <see cref="Buffer"/>: the fetch itself (from the start) and each reader who joined it; changed under the gate.</summary>
        public int Holds { get; set; } = 1;
    }
}
