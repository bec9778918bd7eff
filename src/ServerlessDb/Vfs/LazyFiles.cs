namespace ServerlessDb.Vfs;

/// <summary>
/// The entry to lazy reads: owns the process's block cache and hands out leases, each making one pinned version
/// openable by Microsoft.Data.Sqlite through the lazy VFS (registered with SQLite on first use, once per process).
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
        var lease = new LazyFileLease(LazyVfs.NewFileName(), version, Cache, _options, deadline);
        LazyVfs.Remember(lease);
        return lease;
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
