using System.Collections.Concurrent;
using System.Globalization;
using ServerlessDb.Domain;
using ServerlessDb.Errors;
using ServerlessDb.Storage.Chunked;

namespace ServerlessDb.Storage.LocalFolder;

/// <summary>
/// Database files in a local folder with S3's semantics, for the local server: database NAME is
/// <c>{DataDirectory}/{NAME}.sqlite</c>, and its version tag is in <c>{NAME}.sqlite.version</c> beside it
/// (<c>{counter}-{random}</c>; a file put there by hand, without a tag, gets one from its size and time).
/// A commit is a compare-and-swap under the lock file <c>{NAME}.sqlite.lock</c>: it fails unless the tag is
/// still the one read (or, for a new database, unless no file exists), then renames the new file into place,
/// so several processes may share one folder. Readers get immutable per-version copies from the same
/// per-process cache as the S3 store, in the process's own <see cref="CacheFolder"/>
/// under <c>cache/{NAME}/</c>, within a size bound. Each commit keeps the file it replaces as an old version
/// (see the history part of this class), within <see cref="LocalVersionRetention"/>. Under the chunked layout
/// the file holds a manifest instead, and the chunks it names live under <c>.chunks/{NAME}/</c> (see the chunked part).
/// </summary>
/// <remarks>
/// Files in the data folder must not be changed by hand while a server uses them: a replaced file
/// keeps its old version tag.
/// </remarks>
internal sealed partial class LocalFolderDatabaseStore : IDatabaseStore, IDatabaseCatalog
{
    /// <summary>How long a commit or a fetch waits for another process to release a database's lock file.</summary>
    public static readonly TimeSpan DefaultLockFileWait = TimeSpan.FromSeconds(10);

    private const string DatabaseExtension = ".sqlite";
    private const string VersionExtension = ".version";
    private const string LockExtension = ".lock";
    private const int FileBufferSize = 81920;

    private readonly DatabaseCaches _caches;
    private readonly TimeProvider _time;
    private readonly TimeSpan _lockFileWait;
    private readonly LocalVersionRetention _retention;
    private readonly int? _chunkSize;
    private readonly ConcurrentDictionary<string, int> _commitsSincePrune = new(StringComparer.Ordinal);

    /// <param name="dataDirectory">the folder holding the databases; created if missing.</param>
    /// <param name="cacheDirectory">CACHE_DIR: the store claims a new folder of its own in it.</param>
    /// <param name="cacheMaxBytes">the bound on the total size of cached version files.</param>
    /// <exception cref="IOException">the data folder cannot be created or written to; the message names it.</exception>
    /// <param name="retention">how many replaced versions of each database are kept; <see cref="LocalVersionRetention.Default"/> when null.</param>
    /// <param name="chunkSize">the chunk size of the chunked layout (STORAGE_LAYOUT=chunked); null for the whole-file layout. Either layout reads both.</param>
    public LocalFolderDatabaseStore(string dataDirectory, string cacheDirectory, long cacheMaxBytes, TimeProvider? timeProvider = null, TimeSpan? lockFileWait = null, LocalVersionRetention? retention = null, int? chunkSize = null)
        : this(dataDirectory, ClaimCacheFolder(cacheDirectory), cacheMaxBytes, timeProvider, lockFileWait, retention, chunkSize)
    {
    }

    /// <param name="dataDirectory">the folder holding the databases; created if missing.</param>
    /// <param name="cacheFolder">the process's own folder, whose cache folder no other store may use; the caller keeps owning it.</param>
    /// <param name="cacheMaxBytes">the bound on the total size of cached version files.</param>
    /// <exception cref="IOException">the data folder cannot be created or written to; the message names it.</exception>
    /// <param name="retention">how many replaced versions of each database are kept; <see cref="LocalVersionRetention.Default"/> when null.</param>
    /// <param name="chunkSize">the chunk size of the chunked layout (STORAGE_LAYOUT=chunked); null for the whole-file layout. Either layout reads both.</param>
    public LocalFolderDatabaseStore(string dataDirectory, CacheFolder cacheFolder, long cacheMaxBytes, TimeProvider? timeProvider = null, TimeSpan? lockFileWait = null, LocalVersionRetention? retention = null, int? chunkSize = null)
    {
        if (chunkSize is { } size && (size < ChunkManifest.ChunkAlignment || size % ChunkManifest.ChunkAlignment != 0))
        {
            throw new ArgumentOutOfRangeException(nameof(chunkSize), size, $"A chunk size is a positive multiple of {ChunkManifest.ChunkAlignment} bytes.");
        }

        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentNullException.ThrowIfNull(cacheFolder);
        DataDirectory = Path.GetFullPath(dataDirectory);
        EnsureWritable(DataDirectory);
        _time = timeProvider ?? TimeProvider.System;
        _lockFileWait = lockFileWait ?? DefaultLockFileWait;
        _retention = retention ?? LocalVersionRetention.Default;
        _chunkSize = chunkSize;
        CacheFolder = cacheFolder;
        _caches = new DatabaseCaches(cacheFolder.CacheDirectory, cacheMaxBytes, _time);
    }

    /// <summary>The absolute path of the folder holding the databases.</summary>
    public string DataDirectory { get; }

    /// <summary>The folder this store caches in.</summary>
    public CacheFolder CacheFolder { get; }

    /// <summary>The file holding the current version of <paramref name="database"/>.</summary>
    public string PathOf(string database) => Path.Combine(DataDirectory, database + DatabaseExtension);

    public Task<DatabaseSnapshot> GetAsync(string database, TimeSpan? maxStaleness, CancellationToken cancellationToken) =>
        _caches.GetAsync(database, maxStaleness, FetchAsync, cancellationToken);

    /// <summary>The version tag beside the file; a commit compares it again under the lock file.</summary>
    public Task<StoredVersion> CurrentVersionAsync(string database, CancellationToken cancellationToken) =>
        Task.FromResult(CurrentVersion(PathOf(database)));

    public async Task<CommitReceipt> CommitAsync(string database, StoredVersion basedOn, string filePath, CancellationToken cancellationToken)
    {
        var cache = _caches.ForCommit(database, filePath);
        var startedAt = _time.GetTimestamp();
        var dataPath = PathOf(database);

        // Copied (and flushed) before the lock is taken, so the lock covers only a compare and two renames;
        // under the chunked layout what is staged is the manifest, its new chunks already stored.
        var chunked = _chunkSize is { } chunkSize ? await StoreChunksAsync(database, basedOn, filePath, chunkSize, cancellationToken) : null;
        var staged = chunked is null ? await StageAsync(filePath, dataPath, cancellationToken) : StageManifest(chunked.Manifest, dataPath);
        var stored = new FileInfo(staged).Length + (chunked?.UploadBytes ?? 0);
        try
        {
            StoredVersion version;
            using (await LockFile.AcquireAsync(dataPath + LockExtension, _lockFileWait, _time, cancellationToken))
            {
                var current = CurrentVersion(dataPath);
                if (current != basedOn)
                {
                    throw new WriteConflictException(
                        $"Database '{database}' changed since version {basedOn} was read ({dataPath} is now version {current}); nothing was written.");
                }

                if (chunked is not null)
                {
                    await RestoreCollectedChunksAsync(database, filePath, chunked, cancellationToken);
                }

                version = NextVersion(current);
                if (current.Exists && _retention.VersionsKept > 0)
                {
                    // The replaced file stays, as a hard link under the versions folder, in the same atomic rename.
                    File.Replace(staged, dataPath, KeptVersionPath(database, current, CommitTimeOf(dataPath)));
                }
                else
                {
                    File.Move(staged, dataPath, overwrite: true);
                }

                WriteVersionTag(dataPath, version, _time.GetUtcNow());
                PruneVersions(database);
            }

            RememberManifest(database, version, chunked?.Manifest);
            cache.InstallCommitted(version, filePath, startedAt, assembledFromChunks: chunked is not null);
            return new CommitReceipt(version, stored);
        }
        finally
        {
            File.Delete(staged);
        }
    }

    /// <summary>
    /// The <c>NAME.sqlite</c> files of the data folder with a valid NAME, in the byte order of their file
    /// names (the order S3 lists keys in); size and time are the file's.
    /// </summary>
    public Task<DatabasePage> ListAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var afterFile = after is null ? null : after + DatabaseExtension;
        var files = new DirectoryInfo(DataDirectory).EnumerateFiles("*" + DatabaseExtension)
            .Where(f => f.Name.EndsWith(DatabaseExtension, StringComparison.Ordinal)
                && DatabaseName.IsValid(f.Name[..^DatabaseExtension.Length])
                && (afterFile is null || string.CompareOrdinal(f.Name, afterFile) > 0))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .Take(limit + 1)
            .Select(f => new DatabaseEntry(f.Name[..^DatabaseExtension.Length], f.Length, new DateTimeOffset(f.LastWriteTimeUtc, TimeSpan.Zero)))
            .ToList();
        var more = files.Count > limit;
        if (more)
        {
            files.RemoveAt(limit);
        }

        return Task.FromResult(new DatabasePage(files, more ? files[^1].Name : null));
    }

    private Task<FetchedVersion> FetchAsync(CachedDatabase cache, StoredVersion? known) => FetchAsync(cache, known, attempt: 0);

    private async Task<FetchedVersion> FetchAsync(CachedDatabase cache, StoredVersion? known, int attempt)
    {
        var dataPath = PathOf(cache.Name);

        // A commit renames the file, then its tag: a tag that still matches means nothing was committed yet.
        var current = CurrentVersion(dataPath);
        if (known is { } cached && current == cached)
        {
            return FetchedVersion.StillCurrent;
        }

        if (!current.Exists)
        {
            // Not even its lock file: a read of a database that does not exist creates nothing. A first commit
            // renames the file in before it answers, so a read that sees no file began before that commit ended.
            return FetchedVersion.Missing;
        }

        StoredVersion version;
        FileStream source;

        // Not the caller's token: the fetch is shared, and the lock-file wait bounds it.
        using (await LockFile.AcquireAsync(dataPath + LockExtension, _lockFileWait, _time, CancellationToken.None))
        {
            // Under the lock the tag and the file belong together; the open handle keeps this version's
            // bytes readable after the lock is released, even if a commit renames a new file over it.
            version = CurrentVersion(dataPath);
            if (version == known)
            {
                return FetchedVersion.StillCurrent;
            }

            if (!version.Exists)
            {
                return FetchedVersion.Missing;
            }

            source = new FileStream(
                dataPath, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileBufferSize,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
        }

        FetchedVersion fetched;
        ChunkManifest? manifest;
        await using (source)
        {
            try
            {
                (fetched, manifest) = await ReceiveAsync(cache, version, source, dataPath, CancellationToken.None);
            }
            catch (ChunkCollectedException) when (attempt < MaxCollectedRetries)
            {
                // A commit replaced this version and a prune collected its chunks while they were copied: read the new one.
                return await FetchAsync(cache, known, attempt + 1);
            }
            catch (ChunkCollectedException e)
            {
                throw new StorageUnavailableException($"Database '{cache.Name}' changed faster than it could be read from {dataPath}; retry.", e);
            }
        }

        RememberManifest(cache.Name, version, manifest);
        return fetched;
    }

    /// <summary>Copies <paramref name="source"/> to a new temporary file in <paramref name="cache"/>'s folder and returns its path; deletes it if the copy fails.</summary>
    private static async Task<string> CopyIntoCacheAsync(Stream source, CachedDatabase cache, CancellationToken cancellationToken)
    {
        var temp = cache.NewTempPath();
        try
        {
            await using var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileBufferSize, FileOptions.Asynchronous);
            await source.CopyToAsync(target, cancellationToken);
            return temp;
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>A copy of <paramref name="filePath"/> beside <paramref name="dataPath"/>, on disk, ready to be renamed over it.</summary>
    private static async Task<string> StageAsync(string filePath, string dataPath, CancellationToken cancellationToken)
    {
        var staged = HiddenTempPathBeside(dataPath);
        try
        {
            await using var source = new FileStream(
                filePath, FileMode.Open, FileAccess.Read, FileShare.Read, FileBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using var target = new FileStream(
                staged, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileBufferSize, FileOptions.Asynchronous);
            await source.CopyToAsync(target, cancellationToken);
            target.Flush(flushToDisk: true);
        }
        catch
        {
            File.Delete(staged);
            throw;
        }

        return staged;
    }

    /// <summary>Missing when there is no file; else the tag beside it, or one made from its size and time when it has none.</summary>
    private static StoredVersion CurrentVersion(string dataPath)
    {
        var file = new FileInfo(dataPath);
        if (!file.Exists)
        {
            return StoredVersion.Missing;
        }

        try
        {
            var tag = File.ReadAllText(dataPath + VersionExtension).Trim();
            if (tag.Length > 0)
            {
                return new StoredVersion(tag);
            }
        }
        catch (FileNotFoundException)
        {
            // A database file put into the folder by hand.
        }

        return new StoredVersion(string.Create(CultureInfo.InvariantCulture, $"0-{file.LastWriteTimeUtc.Ticks:x}-{file.Length:x}"));
    }

    // The counter is for people reading the folder; the random part keeps a tag unique even when a
    // database is deleted by hand and created again.
    private static StoredVersion NextVersion(StoredVersion current)
    {
        var counter = current.ETag is { } tag && long.TryParse(tag.AsSpan(0, Math.Max(0, tag.IndexOf('-'))), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : 0;
        return new StoredVersion(string.Create(CultureInfo.InvariantCulture, $"{counter + 1}-{Guid.NewGuid():N}"));
    }

    // The tag file's time is the version's commit time (time travel's as_of), set from the store's clock.
    private static void WriteVersionTag(string dataPath, StoredVersion version, DateTimeOffset committedAt)
    {
        var tagPath = dataPath + VersionExtension;
        var temp = HiddenTempPathBeside(tagPath);
        File.WriteAllText(temp, version.ETag);
        File.SetLastWriteTimeUtc(temp, committedAt.UtcDateTime);
        File.Move(temp, tagPath, overwrite: true);
    }

    private static CacheFolder ClaimCacheFolder(string cacheDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(cacheDirectory);
        return CacheFolder.Claim(cacheDirectory);
    }

    // Fails at start rather than at the first write, with the folder named.
    private static void EnsureWritable(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
            var probe = HiddenTempPathBeside(Path.Combine(folder, "write-check"));
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"The data folder {folder} is not writable: {e.Message}", e);
        }
    }

    /// <summary>A fresh hidden file name in the folder of <paramref name="path"/>, so that renaming it to <paramref name="path"/> is atomic.</summary>
    private static string HiddenTempPathBeside(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
}
