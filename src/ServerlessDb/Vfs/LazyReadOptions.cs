namespace ServerlessDb.Vfs;

/// <summary>What the lazy reader needs to know: where its block cache lives, how large it may grow, and how much to fetch at once.</summary>
/// <param name="CacheDirectory">The process's own folder; the cache keeps its pieces in a subfolder it empties when it starts.</param>
/// <param name="CacheMaxBytes">The bound on the bytes the cache keeps on disk (CACHE_MAX_BYTES in production).</param>
/// <param name="PieceBytes">The unit of caching and of the first fetch on a miss: an aligned piece of a block.</param>
/// <param name="MaxFetchBytes">The most one fetch asks for: the widest read-ahead window, and the cut of a whole-block fetch.</param>
internal sealed record LazyReadOptions(
    string CacheDirectory,
    long CacheMaxBytes,
    int PieceBytes = LazyReadOptions.DefaultPieceBytes,
    int MaxFetchBytes = LazyReadOptions.DefaultMaxFetchBytes)
{
    /// <summary>128 KiB: on S3 a round trip costs far more than the bytes, so a miss brings more than one page.</summary>
    public const int DefaultPieceBytes = 128 * 1024;

    /// <summary>16 MiB: eight chunks of the default size fetched side by side (docs/benchmarks.md, the full scan); a wider fetch holds more memory than it saves in round trips.</summary>
    public const int DefaultMaxFetchBytes = 16 * 1024 * 1024;

    /// <summary>The largest block a version may have: the largest chunk (CHUNK_SIZE_MIB is at most 64).</summary>
    public const int MaxBlockBytes = 64 * 1024 * 1024;

    /// <summary>
    /// The widest fetch a file makes: <see cref="MaxFetchBytes"/>, but no more than a quarter of the cache (whole
    /// pieces, at least one), since a read-ahead window the cache cannot hold evicts itself before it is read.
    /// </summary>
    public int FetchBytesWithinCache => (int)Math.Max(PieceBytes, Math.Min(MaxFetchBytes, CacheMaxBytes / 4 / PieceBytes * PieceBytes));

    /// <summary>Throws on a value no cache could work with, naming the setting.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(CacheDirectory);
        ArgumentOutOfRangeException.ThrowIfLessThan(CacheMaxBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(PieceBytes, 512);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFetchBytes, PieceBytes);
        if (MaxFetchBytes % PieceBytes != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFetchBytes), MaxFetchBytes, "MaxFetchBytes must be a whole number of pieces.");
        }
    }
}
