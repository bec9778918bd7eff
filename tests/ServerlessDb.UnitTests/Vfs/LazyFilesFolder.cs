using ServerlessDb.UnitTests.Support;
using ServerlessDb.Vfs;

namespace ServerlessDb.UnitTests.Vfs;

/// <summary>
/// A temporary folder for a lazy VFS test: the block caches of the <see cref="LazyFiles"/> made in it, and any file
/// the test writes there. Disposed once no fetch is under way, since read-ahead may still be landing.
/// </summary>
internal sealed class LazyFilesFolder(string prefix) : IDisposable
{
    /// <summary>Large enough that a test on the sample never evicts.</summary>
    public const long DefaultCacheBytes = 512L * 1024 * 1024;

    private readonly List<LazyFiles> _files = [];

    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>A new <see cref="LazyFiles"/> whose cache lives in the folder (replacing the pieces of any before it).</summary>
    public LazyFiles NewFiles(long cacheBytes = DefaultCacheBytes, int maxFetchBytes = LazyReadOptions.DefaultMaxFetchBytes)
    {
        var files = new LazyFiles(new LazyReadOptions(Path, cacheBytes, MaxFetchBytes: maxFetchBytes));
        _files.Add(files);
        return files;
    }

    public void Dispose()
    {
        Bounded.WaitUntilAsync(() => _files.All(files => files.Cache.PiecesInFlight == 0), "fetches under way ended").GetAwaiter().GetResult();
        Directory.Delete(Path, recursive: true);
    }
}
