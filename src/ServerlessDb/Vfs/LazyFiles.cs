namespace ServerlessDb.Vfs;

/// <summary>
/// The entry to lazy reads and writes: owns the process's block cache and hands out leases, each making one pinned
/// version openable by Microsoft.Data.Sqlite through the lazy VFS (registered with SQLite on first use, once per
/// process): read-only by any number of connections, or writable by one through a copy-on-write overlay.
/// </summary>
internal sealed class LazyFiles
{
    private readonly LazyReadOptions _options;

    public LazyFiles(LazyReadOptions options)
    {
        options.Validate();
        _options = options;
        Cache = new BlockCache(options.CacheDirectory, options.CacheMaxBytes, options.PieceBytes);
        LazyVfs.EnsureRegistered();
    }

    /// <summary>The block cache every lease of this instance reads through.</summary>
    public BlockCache Cache { get; }

    /// <summary>
    /// Makes <paramref name="version"/> openable until the lease is disposed; every wait of its reads ends at
    /// <paramref name="deadline"/>.
    /// </summary>
    /// <exception cref="ArgumentException">the version's blocks do not tile its length, or one is too large.</exception>
    public LazyFileLease Open(IPinnedVersion version, CancellationToken deadline)
    {
        CheckBlocks(version);
        return LazyVfs.Remember(new LazyFileLease(LazyVfs.NewFileName(), version, Cache, _options, deadline));
    }

    /// <summary>
    /// Makes <paramref name="version"/> writable by one connection at a time until the lease is disposed: the pages
    /// it writes go to an overlay file in <paramref name="overlayDirectory"/> (deleted with the lease), the pages it
    /// reads come from the block cache; every wait of its reads ends at <paramref name="deadline"/>.
    /// </summary>
    /// <exception cref="ArgumentException">the version's blocks do not tile its length, or one is too large.</exception>
    public LazyWriteLease OpenForWrite(IPinnedVersion version, string overlayDirectory, CancellationToken deadline)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(overlayDirectory);
        CheckBlocks(version);
        return LazyVfs.Remember(new LazyWriteLease(LazyVfs.NewFileName(), version, Cache, _options, overlayDirectory, deadline));
    }

    private static void CheckBlocks(IPinnedVersion version)
    {
        long end = 0;
        foreach (var block in version.Blocks)
        {
            if (block.Offset != end || block.Length is < 1 or > LazyReadOptions.MaxBlockBytes || string.IsNullOrEmpty(block.ContentKey))
            {
                throw new ArgumentException(
                    $"{version.Description}: the block at offset {block.Offset} ({block.Length} bytes, key '{block.ContentKey}') does not follow the one ending at {end}.",
                    nameof(version));
            }

            end += block.Length;
        }

        if (end != version.Length)
        {
            throw new ArgumentException($"{version.Description}: the blocks end at {end}, the version is {version.Length} bytes long.", nameof(version));
        }
    }
}
