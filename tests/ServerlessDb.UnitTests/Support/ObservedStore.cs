using ServerlessDb.Domain;
using ServerlessDb.Configuration;
using ServerlessDb.Errors;
using ServerlessDb.Storage;
using ServerlessDb.Storage.LocalFolder;

namespace ServerlessDb.UnitTests.Support;

/// <summary>
/// The real folder store, in a temporary folder, seen from the engine's side: commits and conflicts
/// counted, each read's staleness recorded. It adds only the moments a real store cannot be made to
/// produce on cue: <see cref="BeforeCommit"/> (a competing writer, a failure, a commit that blocks)
/// and <see cref="ReadDelay"/> (a slow read).
/// </summary>
internal sealed class ObservedStore : IDatabaseStore, IDatabaseCatalog, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("serverlessdb-store-").FullName;
    private readonly List<TimeSpan?> _readStaleness = [];
    private int _commits;
    private int _conflicts;

    public ObservedStore()
    {
        Objects = new LocalFolderObjectBackend(Path.Combine(_root, "data"));
        Folder = new DatabaseStore(
            Objects, links: null, new StoreOptions("", TimeSpan.FromSeconds(10), ServerlessDbOptions.DefaultCacheMaxBytes), CacheFolder.Claim(Path.Combine(_root, "cache")));
    }

    /// <summary>The folder's objects, as the local server keeps them.</summary>
    public LocalFolderObjectBackend Objects { get; }

    /// <summary>The store underneath: what a test commits here directly is another writer's commit.</summary>
    public DatabaseStore Folder { get; }

    public Action<string>? BeforeCommit { get; set; }

    /// <summary>How long each read waits before it goes to the folder; the wait honours cancellation, as an S3 call does.</summary>
    public TimeSpan ReadDelay { get; set; }

    /// <summary>The commits that went through this store and succeeded.</summary>
    public int Commits => Volatile.Read(ref _commits);

    /// <summary>The commits the folder refused because another writer had committed first.</summary>
    public int ConflictsRaised => Volatile.Read(ref _conflicts);

    /// <summary>The staleness each read allowed, in order.</summary>
    public IReadOnlyList<TimeSpan?> ReadStaleness
    {
        get
        {
            lock (_readStaleness)
            {
                return [.. _readStaleness];
            }
        }
    }

    /// <summary>The current version's ETag, as the folder holds it now; null when the database does not exist.</summary>
    public string? CurrentETag(string database) =>
        Objects.HeadAsync(database + ".sqlite", ObjectSelector.Current, CancellationToken.None).GetAwaiter().GetResult()?.ETag;

    /// <summary>The version id of the current version (time travel's id for it); null when the database does not exist.</summary>
    public string? CurrentVersionId(string database) =>
        Objects.HeadAsync(database + ".sqlite", ObjectSelector.Current, CancellationToken.None).GetAwaiter().GetResult()?.VersionId;

    /// <summary>The file of the database in the folder, whether or not it exists.</summary>
    public string PathOf(string database) => Objects.Describe(database + ".sqlite");

    /// <summary>The file holding the current version; null when the database does not exist.</summary>
    public string? CurrentPath(string database) => File.Exists(PathOf(database)) ? PathOf(database) : null;

    /// <summary>How many replaced versions of the database the folder keeps.</summary>
    public int KeptVersions(string database) =>
        Objects.ListVersionsAsync(new VersionListRequest(database + ".sqlite"), CancellationToken.None).GetAwaiter().GetResult()
            .Versions.Count(v => v.Key == database + ".sqlite" && !v.IsLatest && !v.IsDeleteMarker);

    public async Task<DatabaseSnapshot> GetAsync(string database, TimeSpan? maxStaleness, CancellationToken cancellationToken)
    {
        lock (_readStaleness)
        {
            _readStaleness.Add(maxStaleness);
        }

        if (ReadDelay > TimeSpan.Zero)
        {
            await Task.Delay(ReadDelay, cancellationToken);
        }

        return await Folder.GetAsync(database, maxStaleness, cancellationToken);
    }

    public Task<DatabaseETag> CurrentETagAsync(string database, CancellationToken cancellationToken) =>
        Folder.CurrentETagAsync(database, cancellationToken);

    public async Task<CommitReceipt> CommitAsync(string database, DatabaseETag basedOn, string filePath, CancellationToken cancellationToken)
    {
        BeforeCommit?.Invoke(database);
        try
        {
            var version = await Folder.CommitAsync(database, basedOn, filePath, cancellationToken);
            Interlocked.Increment(ref _commits);
            return version;
        }
        catch (WriteConflictException)
        {
            Interlocked.Increment(ref _conflicts);
            throw;
        }
    }

    public Task<DatabasePage> ListAsync(string? after, int limit, CancellationToken cancellationToken) =>
        Folder.ListAsync(after, limit, cancellationToken);

    /// <summary>Commits a copy of <paramref name="sourceFile"/> straight to the folder, as another process would: not counted, no hook.</summary>
    public void CommitFrom(string database, string sourceFile)
    {
        var copy = Path.Combine(_root, Guid.NewGuid().ToString("N"));
        File.Copy(sourceFile, copy);
        Folder.CommitAsync(database, new DatabaseETag(CurrentETag(database)), copy, CancellationToken.None).GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        Folder.CacheFolder.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
