using ServerlessDb.Vfs;

namespace ServerlessDb.UnitTests.Vfs;

public sealed class FetchPolicyTests
{
    private const int KiB = 1024;
    private const int MiB = 1024 * KiB;
    private const int Piece = 128 * KiB;
    private const int Block = 2 * MiB;
    private const long File = 100L * MiB;

    private readonly FetchPolicy _policy = new(Piece, 8 * MiB);

    [Fact]
    public void A_first_miss_in_a_block_fetches_the_aligned_piece_around_it()
    {
        Assert.Equal(new FetchRange(4 * MiB + 2 * Piece, Piece), Miss(4 * MiB + 2 * Piece + 4096));
    }

    [Fact]
    public void A_second_miss_in_the_same_block_fetches_the_whole_block()
    {
        Miss(4 * MiB + 5 * Piece);

        Assert.Equal(new FetchRange(4 * MiB, Block), Miss(4 * MiB + 12 * Piece));
        Assert.Equal(new FetchRange(8 * MiB, Piece), Miss(8 * MiB + 100));
    }

    [Fact]
    public void A_second_miss_in_a_block_wider_than_the_widest_fetch_fetches_the_widest_fetch_from_the_miss()
    {
        var policy = new FetchPolicy(Piece, 8 * MiB);
        policy.OnMiss(32 * MiB, 0, 64 * MiB, 64 * MiB);

        Assert.Equal(new FetchRange(10 * MiB, 8 * MiB), policy.OnMiss(10 * MiB + 7, 0, 64 * MiB, 64 * MiB));
        Assert.Equal(new FetchRange(60 * MiB, 4 * MiB), policy.OnMiss(60 * MiB, 0, 64 * MiB, 64 * MiB));
    }

    [Fact]
    public void Sequential_misses_widen_the_window_into_the_next_blocks_up_to_the_widest_fetch()
    {
        var fetches = new List<FetchRange>();
        long offset = 0;
        for (var miss = 0; miss < 6; miss++)
        {
            var range = Miss(offset);
            fetches.Add(range);
            offset = range.End;
        }

        Assert.Equal(
            [
                new FetchRange(0, Piece),
                new FetchRange(Piece, Block - Piece), // sequential and a second miss in block 0: the rest of it
                new FetchRange(2 * MiB, 4 * MiB), // twice the last, rounded up to end with a block
                new FetchRange(6 * MiB, 8 * MiB),
                new FetchRange(14 * MiB, 8 * MiB),
                new FetchRange(22 * MiB, 8 * MiB),
            ],
            fetches);
    }

    [Fact]
    public void A_jump_ends_the_sequential_run_and_starts_again_from_one_piece()
    {
        Miss(0);
        Miss(Piece);
        Miss(Block);

        Assert.Equal(new FetchRange(52 * MiB - Piece, Piece), Miss(52 * MiB - Piece + 10));
        Assert.Equal(new FetchRange(52 * MiB, 2 * Piece), Miss(52 * MiB));
    }

    [Fact]
    public void No_fetch_runs_past_the_end_of_the_file()
    {
        var policy = new FetchPolicy(Piece, 8 * MiB);
        const long length = 3 * MiB + 1000;
        var first = policy.OnMiss(2 * MiB, 2 * MiB, MiB + 1000, length);
        var second = policy.OnMiss(first.End, 2 * MiB, MiB + 1000, length);

        Assert.Equal(new FetchRange(2 * MiB, Piece), first);
        Assert.Equal(length, second.End);
    }

    private FetchRange Miss(long offset) => _policy.OnMiss(offset, offset / Block * Block, Block, File);

    [Fact]
    public void A_sequential_reader_keeps_its_next_window_in_flight_from_when_it_enters_the_last()
    {
        Miss(0);
        var window = Miss(Piece); // the rest of block 0
        Assert.Null(_policy.OnHit(0, File)); // before the newest window

        var ahead = _policy.OnHit(window.Offset, File);

        Assert.Equal(new FetchRange(Block, 2 * Block), ahead); // twice the last, in whole blocks
        Assert.Null(_policy.OnHit(window.End - Piece, File)); // asked once per window
        Assert.Equal(new FetchRange(ahead!.Value.End, 8 * MiB), _policy.OnHit(ahead.Value.Offset, File));
    }

    [Fact]
    public void A_read_elsewhere_in_the_middle_of_a_scan_does_not_end_it()
    {
        Miss(0);
        var window = Miss(Piece);
        Miss(40 * MiB); // an interior page, far away

        var next = Miss(window.End);

        Assert.Equal(new FetchRange(window.End, 2 * Block), next); // twice the last, rounded up to end with a block
    }

    [Fact]
    public void No_window_is_fetched_ahead_past_the_end_of_the_file_or_without_a_stream()
    {
        Assert.Null(_policy.OnHit(0, File));
        var policy = new FetchPolicy(Piece, 8 * MiB);
        const long length = 2 * MiB + 1000;
        policy.OnMiss(0, 0, Block, length);
        var window = policy.OnMiss(Piece, 0, Block, length);

        var ahead = policy.OnHit(window.End - Piece, length);

        Assert.Equal(length, ahead!.Value.End);
        Assert.Null(policy.OnHit(length - 10, length));
    }
}
