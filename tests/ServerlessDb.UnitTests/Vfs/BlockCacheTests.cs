using ServerlessDb.UnitTests.Support;
using ServerlessDb.Vfs;

namespace ServerlessDb.UnitTests.Vfs;

public sealed class BlockCacheTests : IDisposable
{
    private const int Piece = 1024;

    private readonly string _folder = Directory.CreateTempSubdirectory("serverlessdb-blockcache-").FullName;
    private readonly List<BlockCache> _caches = [];

    public void Dispose()
    {
        // A reader has its bytes before the cache writes them to disk: the folder is removed once no fetch is under way.
        Bounded.WaitUntilAsync(() => _caches.All(cache => cache.PiecesInFlight == 0), "fetches under way ended").GetAwaiter().GetResult();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Concurrent_readers_of_one_piece_share_one_fetch()
    {
        var cache = NewCache();
        var (block, release) = HeldBlock();

        var readers = Enumerable.Range(0, 8)
            .Select(_ => Task.Run(() => Fetch(cache, block, 3, new BlockSpan(3 * Piece, Piece), CancellationToken.None)))
            .ToArray();
        await Bounded.WaitUntilAsync(() => block.Fetches.Count > 0, "the first fetch started");
        await Task.Delay(50);
        release.SetResult();
        var pieces = await Task.WhenAll(readers);

        Assert.Equal([(3 * Piece, Piece)], block.Fetches);
        Assert.All(pieces, piece => Assert.Equal(block.Bytes(3 * Piece, Piece), piece));
    }

    [Fact]
    public async Task A_fetched_piece_is_read_from_the_cache_after()
    {
        var cache = NewCache();
        var block = MemoryBlock.Numbered("k", 8 * Piece);

        await Fetch(cache, block, 2, new BlockSpan(0, 8 * Piece), CancellationToken.None);
        await Bounded.WaitUntilAsync(() => cache.PiecesInFlight == 0, "the pieces were kept");
        var copy = new byte[Piece];

        Assert.True(cache.TryRead("k", 7, copy));
        Assert.Equal(block.Bytes(7 * Piece, Piece), copy);
        Assert.Single(block.Fetches);
        Assert.Equal(8 * Piece, cache.CachedBytes);
    }

    [Fact]
    public async Task Pieces_live_in_one_file_of_piece_sized_slots_and_an_evicted_pieces_slot_is_reused()
    {
        var cache = NewCache(budget: 4 * Piece);
        var first = MemoryBlock.Numbered("first", 4 * Piece);
        var second = MemoryBlock.Numbered("second", 2 * Piece);
        await Fetch(cache, first, 0, new BlockSpan(0, 4 * Piece), CancellationToken.None);
        await Bounded.WaitUntilAsync(() => cache.PiecesInFlight == 0, "the pieces were kept");

        await Fetch(cache, second, 0, new BlockSpan(0, 2 * Piece), CancellationToken.None);
        await Bounded.WaitUntilAsync(() => cache.PiecesInFlight == 0, "the pieces were kept");

        var file = Assert.Single(Directory.GetFiles(cache.Folder));
        Assert.Equal(4 * Piece, new FileInfo(file).Length); // two pieces evicted, their slots reused: the file did not grow
        Assert.Equal(2, cache.Evictions);
        var copy = new byte[Piece];
        Assert.True(cache.TryRead("second", 1, copy));
        Assert.Equal(second.Bytes(Piece, Piece), copy);
        Assert.True(cache.TryRead("first", 3, copy));
        Assert.Equal(first.Bytes(3 * Piece, Piece), copy);
        Assert.False(cache.TryRead("first", 0, copy));
    }

    [Fact]
    public async Task Readers_always_copy_their_own_pieces_while_fetch_buffers_are_reused_by_later_fetches()
    {
        // Distinct random bytes in every block, so that a buffer handed to a new fetch too early shows as wrong bytes.
        var cache = NewCache(budget: 16 * Piece);
        var random = new Random(19);
        var blocks = Enumerable.Range(0, 32).Select(i =>
        {
            var bytes = new byte[8 * Piece];
            random.NextBytes(bytes);
            return new MemoryBlock($"b{i}", bytes);
        }).ToArray();

        var readers = Enumerable.Range(0, 16).Select(seed => Task.Run(async () =>
        {
            var picks = new Random(seed);
            for (var read = 0; read < 1500; read++)
            {
                var block = blocks[picks.Next(blocks.Length)];
                var index = picks.Next(8);
                var piece = await Fetch(cache, block, index, new BlockSpan(0, 8 * Piece), CancellationToken.None);
                Assert.Equal(block.Bytes(index * Piece, Piece), piece);
            }
        })).ToArray();

        await Task.WhenAll(readers);
        Assert.True(cache.Evictions > 0, "the cache never evicted, so no piece was fetched twice");
    }

    [Fact]
    public async Task A_fetch_brings_only_the_run_of_missing_pieces_around_the_missed_one()
    {
        var cache = NewCache();
        var block = MemoryBlock.Numbered("k", 8 * Piece);
        await Fetch(cache, block, 1, new BlockSpan(Piece, Piece), CancellationToken.None);
        await Fetch(cache, block, 6, new BlockSpan(6 * Piece, Piece), CancellationToken.None);

        await Fetch(cache, block, 3, new BlockSpan(0, 8 * Piece), CancellationToken.None);

        Assert.Equal((2 * Piece, 4 * Piece), block.Fetches[^1]);
    }

    [Fact]
    public async Task A_failed_fetch_caches_nothing_and_the_next_reader_fetches_again()
    {
        var cache = NewCache();
        var block = MemoryBlock.Numbered("k", 4 * Piece);
        var cause = new IOException("no answer");
        block.Failure = cause;

        Assert.Same(cause, await Assert.ThrowsAsync<IOException>(() => Fetch(cache, block, 0, new BlockSpan(0, 4 * Piece), CancellationToken.None)));
        Assert.False(cache.TryRead("k", 0, new byte[Piece]));
        Assert.Equal(0, cache.CachedBytes);

        block.Failure = null;
        var piece = await Fetch(cache, block, 0, new BlockSpan(0, 4 * Piece), CancellationToken.None);
        Assert.Equal(block.Bytes(0, Piece), piece);
        Assert.Equal(2, block.Fetches.Count);
    }

    [Fact]
    public async Task A_fetch_of_the_wrong_length_is_an_error_and_is_not_cached()
    {
        var cache = NewCache();
        var shortBlock = new ShortBlock(MemoryBlock.Numbered("k", 4 * Piece));

        await Assert.ThrowsAsync<BlockFetchException>(() => Fetch(cache, shortBlock, 1, new BlockSpan(0, 4 * Piece), CancellationToken.None));

        Assert.Equal(0, cache.CachedBytes);
        Assert.Equal(0, FolderBytes(cache));
    }

    [Fact]
    public async Task The_cache_never_holds_more_than_its_budget_and_evicts_the_least_recently_used()
    {
        const long budget = 5 * Piece;
        var cache = NewCache(budget);
        var block = MemoryBlock.Numbered("k", 16 * Piece);
        for (var index = 0; index < 16; index++)
        {
            await Fetch(cache, block, index, new BlockSpan(index * Piece, Piece), CancellationToken.None);
            await Bounded.WaitUntilAsync(() => cache.PiecesInFlight == 0, "the piece was kept"); // kept after the reader has it
            Assert.Equal(Math.Min(index + 1, 5) * Piece, cache.CachedBytes);
            Assert.InRange(FolderBytes(cache), 0, budget);
            if (index == 3)
            {
                Assert.True(cache.TryRead("k", 0, new byte[Piece])); // piece 0 is now the most recently used
            }

            if (index == 6)
            {
                Assert.False(cache.TryRead("k", 1, new byte[Piece]));
                Assert.False(cache.TryRead("k", 2, new byte[Piece]));
                Assert.True(cache.TryRead("k", 0, new byte[Piece]));
            }
        }

        Assert.Equal(budget, cache.CachedBytes);
        Assert.Equal(11, cache.Evictions);
        Assert.True(cache.TryRead("k", 15, new byte[Piece]));
    }

    [Fact]
    public async Task A_reader_stops_waiting_at_its_deadline_even_if_the_source_never_answers()
    {
        var cache = NewCache();
        var block = MemoryBlock.Numbered("k", 4 * Piece);
        block.Gate = new TaskCompletionSource().Task;
        block.HonorsCancellation = false;
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Fetch(cache, block, 0, new BlockSpan(0, Piece), deadline.Token));

        block.Gate = Task.CompletedTask;
        var piece = await Fetch(cache, block, 0, new BlockSpan(0, Piece), CancellationToken.None);
        Assert.Equal(block.Bytes(0, Piece), piece);
    }

    [Fact]
    public async Task A_prefetch_is_joined_by_the_reader_that_needs_it()
    {
        var cache = NewCache();
        var (block, release) = HeldBlock();

        cache.Prefetch(block, new BlockSpan(0, 8 * Piece), CancellationToken.None);
        var reader = Fetch(cache, block, 5, new BlockSpan(5 * Piece, Piece), CancellationToken.None);
        release.SetResult();

        Assert.Equal(block.Bytes(5 * Piece, Piece), await reader);
        Assert.Equal([(0, 8 * Piece)], block.Fetches);
    }

    [Fact]
    public void Pieces_a_previous_process_left_are_cleared_at_start()
    {
        var leftover = Path.Combine(_folder, "vfs-pieces", "old.piece");
        Directory.CreateDirectory(Path.GetDirectoryName(leftover)!);
        File.WriteAllBytes(leftover, new byte[Piece]);

        var cache = NewCache();

        Assert.Empty(Directory.EnumerateFiles(cache.Folder));
    }

    /// <summary>The piece, fetched through the cache into a buffer of its own.</summary>
    private static async Task<byte[]> Fetch(BlockCache cache, IPinnedBlock block, int pieceIndex, BlockSpan span, CancellationToken cancellationToken)
    {
        var piece = new byte[cache.PieceLength(block.Length, pieceIndex)];
        await cache.FetchAsync(block, pieceIndex, span, piece, cancellationToken);
        return piece;
    }

    private static long FolderBytes(BlockCache cache) => Directory.EnumerateFiles(cache.Folder).Sum(file => new FileInfo(file).Length);

    private BlockCache NewCache(long budget = 1 << 20)
    {
        var cache = new BlockCache(_folder, budget, Piece);
        _caches.Add(cache);
        return cache;
    }

    /// <summary>An 8-piece block whose fetches wait until the test releases them.</summary>
    private static (MemoryBlock Block, TaskCompletionSource Release) HeldBlock()
    {
        var block = MemoryBlock.Numbered("k", 8 * Piece);
        var release = new TaskCompletionSource();
        block.Gate = release.Task;
        return (block, release);
    }

    /// <summary>A block whose fetches report one byte fewer than asked.</summary>
    private sealed class ShortBlock(MemoryBlock inner) : IPinnedBlock
    {
        public long Offset => inner.Offset;

        public int Length => inner.Length;

        public string ContentKey => inner.ContentKey;

        public async ValueTask<int> FetchAsync(int offsetInBlock, Memory<byte> into, CancellationToken cancellationToken) =>
            await inner.FetchAsync(offsetInBlock, into, cancellationToken) - 1;
    }
}
