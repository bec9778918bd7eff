using System.Collections.Concurrent;
using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Storage;

/// <summary>
/// The per-process caches of a store, one <see cref="CachedDatabase"/> per database under
/// <c>{folder}/{NAME}/</c>, and the read path every store shares: serve a copy validated recently
/// enough, else revalidate it (single-flight) with the store's fetch, and check what it downloaded
/// before it is cached: an object that is not a whole SQLite file is never served. All databases share one
/// <see cref="CacheBudget"/> of <c>maxBytes</c>.
/// </summary>
/// <remarks>The folder belongs to this instance: it is the cache folder of the process's own <see cref="CacheFolder"/>.</remarks>
/// <param name="keepSpares">each database keeps the file of its last replaced version as a spare (see <see cref="CachedDatabase.KeepsReplacedFileAsSpare"/>).</param>
internal sealed class DatabaseCaches(string folder, long maxBytes, TimeProvider time, bool keepSpares = false)
{
    private readonly CacheBudget _budget = new(maxBytes);
    private readonly ConcurrentDictionary<string, CachedDatabase> _databases = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>
    /// The current version of <paramref name="database"/>, held for the caller: the cached one if it
    /// was validated within <paramref name="maxStaleness"/>, else after <paramref name="fetch"/> revalidated it.
    /// </summary>
    /// <exception cref="DatabaseCorruptException">the downloaded object is not a whole SQLite file; it was deleted, not cached.</exception>
    public async Task<DatabaseSnapshot> GetAsync(
        string database,
        TimeSpan? maxStaleness,
        Func<CachedDatabase, DatabaseETag?, Task<FetchedVersion>> fetch,
        CancellationToken cancellationToken)
    {
        var cache = For(database);
        if (maxStaleness is { } window && cache.TryHoldFresh(window) is { } fresh)
        {
            return fresh;
        }

        return await cache.RefreshAndHoldAsync(known => FetchCheckedAsync(cache, known, fetch), cancellationToken);
    }

    /// <summary>
    /// An old version of <paramref name="database"/>, read by its history id. One cached before is served again
    /// once <paramref name="confirmKept"/> says the store still keeps it (no bytes move); otherwise
    /// <paramref name="download"/> writes it to a temporary file in the database's cache folder, checked like
    /// every download, then cached and held.
    /// </summary>
    /// <param name="confirmKept">throws <see cref="VersionNotFoundException"/> when the store no longer keeps the version.</param>
    /// <exception cref="DatabaseCorruptException">the downloaded object is not a whole SQLite file; it was deleted, not cached.</exception>
    public async Task<DatabaseSnapshot> GetVersionAsync(
        string database, string versionId, Func<CachedDatabase, Task<FetchedVersion>> download, Func<Task> confirmKept)
    {
        var cache = For(database);
        if (cache.TryHoldVersion(versionId) is { } kept)
        {
            try
            {
                await confirmKept();
                return kept;
            }
            catch (Exception e)
            {
                kept.Dispose();
                if (e is VersionNotFoundException)
                {
                    cache.ForgetVersion(versionId);
                }

                throw;
            }
        }

        var fetched = await download(cache);
        var file = fetched.DownloadedFile ?? throw new InvalidOperationException($"The download of version {versionId} of '{database}' gave no file.");
        if (DatabaseFileHeader.FindProblem(file) is { } problem)
        {
            File.Delete(file);
            throw new DatabaseCorruptException(database, $"{fetched.Source}, version {versionId}", problem);
        }

        return cache.AdoptAndHoldVersion(fetched, versionId);
    }

    /// <exception cref="ArgumentException"><paramref name="database"/> is not a database name.</exception>
    public CachedDatabase For(string database)
    {
        if (!DatabaseName.IsValid(database))
        {
            throw new ArgumentException($"'{database}' is not a database name ([A-Za-z0-9_-]{{1,64}}).", nameof(database));
        }

        if (_databases.TryGetValue(database, out var cache))
        {
            return cache;
        }

        // Created under a lock: two instances would keep two views of one folder.
        // Not a Lazy: a constructor that failed (say, a full disk) must not fail every later call.
        lock (_gate)
        {
            if (!_databases.TryGetValue(database, out cache))
            {
                cache = new CachedDatabase(database, Path.Combine(folder, database), time, _budget) { KeepsReplacedFileAsSpare = keepSpares };
                _databases[database] = cache;
            }

            return cache;
        }
    }

    /// <summary>The total size of the cached version files, which trimming keeps within the bound unless snapshots hold more.</summary>
    public long CachedBytes => _budget.TotalBytes;

    /// <summary>The cache of <paramref name="database"/>, for committing <paramref name="filePath"/> as its new version.</summary>
    /// <exception cref="FileNotFoundException"><paramref name="filePath"/> does not exist.</exception>
    /// <exception cref="ArgumentException"><paramref name="database"/> is not a database name.</exception>
    public CachedDatabase ForCommit(string database, string filePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        if (!File.Exists(filePath))
        {
            throw new FileNotFoundException($"The file to commit as database '{database}' does not exist.", filePath);
        }

        return For(database);
    }

    private static async Task<FetchedVersion> FetchCheckedAsync(
        CachedDatabase cache, DatabaseETag? known, Func<CachedDatabase, DatabaseETag?, Task<FetchedVersion>> fetch)
    {
        var fetched = await fetch(cache, known);
        if (fetched.DownloadedFile is { } file && DatabaseFileHeader.FindProblem(file) is { } problem)
        {
            File.Delete(file);
            throw new DatabaseCorruptException(cache.Name, $"{fetched.Source}, version {fetched.Version}", problem);
        }

        return fetched;
    }
}
