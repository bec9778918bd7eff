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
            .Select(_ => Task.Run(() => cache.FetchAsync(block, 3, new BlockSpan(3 * Piece, Piece), CancellationToken.None)))
            .ToArray();
        await Bounded.WaitUntilAsync(() => block.Fetches.Count > 0, "the first fetch started");
        await Task.Delay(50);
        release.SetResult();
        var pieces = await Task.WhenAll(readers);

        Assert.Equal([(3 * Piece, Piece)], block.Fetches);
        Assert.All(pieces, piece => Assert.Equal(block.Bytes(3 * Piece, Piece), piece.ToArray()));
    }

    [Fact]
    public async Task A_fetched_piece_is_read_from_the_cache_after()
    {
        var cache = NewCache();
        var block = MemoryBlock.Numbered("k", 8 * Piece);

        await cache.FetchAsync(block, 2, new BlockSpan(0, 8 * Piece), CancellationToken.None);
        await Bounded.WaitUntilAsync(() => cache.PiecesInFlight == 0, "the pieces were kept");
        var copy = new byte[Piece];

        Assert.True(cache.TryRead("k", 7, copy));
        Assert.Equal(block.Bytes(7 * Piece, Piece), copy);
        Assert.Single(block.Fetches);
        Assert.Equal(8 * Piece, cache.CachedBytes);
    }

    [Fact]
    public async Task The_last_fetches_are_read_from_memory_within_an_eighth_of_the_budget_and_older_ones_from_their_files()
    {
        var cache = NewCache(budget: 8 * 8 * Piece); // an eighth of it: one 8-piece fetch in memory
        var first = MemoryBlock.Numbered("first", 8 * Piece);
        var second = MemoryBlock.Numbered("second", 8 * Piece);
        await cache.FetchAsync(first, 0, new BlockSpan(0, 8 * Piece), CancellationToken.None);
        await cache.FetchAsync(second, 0, new BlockSpan(0, 8 * Piece), CancellationToken.None);
        await Bounded.WaitUntilAsync(() => cache.PiecesInFlight == 0, "the pieces were kept");
        foreach (var file in Directory.EnumerateFiles(cache.Folder))
        {
            File.Delete(file);
        }

        var copy = new byte[Piece];

        Assert.True(cache.TryRead("second", 5, copy)); // the newest fetch: from memory, its file gone
        Assert.Equal(second.Bytes(5 * Piece, Piece), copy);
        Assert.False(cache.TryRead("first", 5, copy)); // past the memory budget: its file is the only copy, and it is gone
    }

    [Fact]
    public async Task A_fetch_brings_only_the_run_of_missing_pieces_around_the_missed_one()
    {
        var cache = NewCache();
        var block = MemoryBlock.Numbered("k", 8 * Piece);
        await cache.FetchAsync(block, 1, new BlockSpan(Piece, Piece), CancellationToken.None);
        await cache.FetchAsync(block, 6, new BlockSpan(6 * Piece, Piece), CancellationToken.None);

        await cache.FetchAsync(block, 3, new BlockSpan(0, 8 * Piece), CancellationToken.None);

        Assert.Equal((2 * Piece, 4 * Piece), block.Fetches[^1]);
    }

    [Fact]
    public async Task A_failed_fetch_caches_nothing_and_the_next_reader_fetches_again()
    {
        var cache = NewCache();
        var block = MemoryBlock.Numbered("k", 4 * Piece);
        var cause = new IOException("no answer");
        block.Failure = cause;

        Assert.Same(cause, await Assert.ThrowsAsync<IOException>(() => cache.FetchAsync(block, 0, new BlockSpan(0, 4 * Piece), CancellationToken.None)));
        Assert.False(cache.TryRead("k", 0, new byte[Piece]));
        Assert.Equal(0, cache.CachedBytes);

        block.Failure = null;
        var piece = await cache.FetchAsync(block, 0, new BlockSpan(0, 4 * Piece), CancellationToken.None);
        Assert.Equal(block.Bytes(0, Piece), piece.ToArray());
        Assert.Equal(2, block.Fetches.Count);
    }

    [Fact]
    public async Task A_fetch_of_the_wrong_length_is_an_error_and_is_not_cached()
    {
        var cache = NewCache();
        var shortBlock = new ShortBlock(MemoryBlock.Numbered("k", 4 * Piece));

        await Assert.ThrowsAsync<BlockFetchException>(() => cache.FetchAsync(shortBlock, 1, new BlockSpan(0, 4 * Piece), CancellationToken.None));

        Assert.Equal(0, cache.CachedBytes);
        Assert.Empty(Directory.EnumerateFiles(cache.Folder));
    }

    [Fact]
    public async Task The_cache_never_holds_more_than_its_budget_and_evicts_the_least_recently_used()
    {
        const long budget = 5 * Piece;
        var cache = NewCache(budget);
        var block = MemoryBlock.Numbered("k", 16 * Piece);
        for (var index = 0; index < 16; index++)
        {
            await cache.FetchAsync(block, index, new BlockSpan(index * Piece, Piece), CancellationToken.None);
            await Bounded.WaitUntilAsync(() => cache.PiecesInFlight == 0, "the piece was kept"); // kept after the reader has it
            Assert.Equal(Math.Min(index + 1, 5) * Piece, cache.CachedBytes);
            Assert.InRange(Directory.EnumerateFiles(cache.Folder).Sum(file => new FileInfo(file).Length), 0, budget);
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

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cache.FetchAsync(block, 0, new BlockSpan(0, Piece), deadline.Token));

        block.Gate = Task.CompletedTask;
        var piece = await cache.FetchAsync(block, 0, new BlockSpan(0, Piece), CancellationToken.None);
        Assert.Equal(block.Bytes(0, Piece), piece.ToArray());
    }

    [Fact]
    public async Task A_prefetch_is_joined_by_the_reader_that_needs_it()
    {
        var cache = NewCache();
        var (block, release) = HeldBlock();

        cache.Prefetch(block, new BlockSpan(0, 8 * Piece), CancellationToken.None);
        var reader = cache.FetchAsync(block, 5, new BlockSpan(5 * Piece, Piece), CancellationToken.None);
        release.SetResult();

        Assert.Equal(block.Bytes(5 * Piece, Piece), (await reader).ToArray());
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
