using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace ServerlessDb.Storage;

/// <summary>
/// The local copies of one database in one process: one immutable file per version, named by its
/// ETag. A file lives while it is the current version or a snapshot holds it, and is deleted as
/// soon as it is neither. Revalidations are single-flight: concurrent readers share one fetch.
/// The store's <see cref="CacheBudget"/> may also evict the current version when no snapshot holds
/// it and no reader is waiting for it; the next read then downloads it again in full.
/// </summary>
/// <remarks>
/// The folder is new and belongs to this instance (it lives in the process's own <see cref="CacheFolder"/>).
/// Lock order: this database's gate, then the budget's; the budget is trimmed only outside the gate.
/// </remarks>
internal sealed partial class CachedDatabase
{
    private const string MissingFileName = "missing.sqlite";
    private const string TempFilePrefix = ".download-";

    // A reader that finds no current version after a refresh (evicted before it joined) refreshes
    // again; the second refresh runs while it waits, so its version cannot be evicted.
    private const int RefreshAttempts = 3;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, CachedVersionFile> _files = new(StringComparer.Ordinal);

    // Old versions read by their history id (time travel): immutable, so kept like any cached file until the
    // budget evicts them, and found again by that id.
    private readonly Dictionary<string, CachedVersionFile> _byVersionId = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly CacheBudget _budget;
    private CachedVersionFile? _current;
    private long _validatedAt;

    // With KeepsSpare, the last replaced version no snapshot holds: kept (and counted in the budget) for the next
    // write or download to patch into the version it needs instead of copying a whole file.
    private CachedVersionFile? _spare;

    // Readers waiting for a refresh to finish: while there are any, the current version is not evicted.
    private int _waiters;

    // Bumped whenever the current version is replaced, revalidated or evicted, so that a fetch that
    // started before cannot install its older answer over the newer state.
    private long _generation;
    private Task<SnapshotFetch>? _refresh;

    public CachedDatabase(string name, string folder, TimeProvider time, CacheBudget budget)
    {
        Name = name;
        Folder = Path.GetFullPath(folder);
        _time = time;
        _budget = budget;
        Directory.CreateDirectory(Folder);
    }

    public string Name { get; }

    public string Folder { get; }

    /// <summary>
    /// Keep the file of the last replaced version as a spare (<see cref="TakeSpare"/>) instead of deleting it: the chunked
    /// layout, which knows from two manifests which chunks differ, patches it into a newer version at the cost of those
    /// chunks. Set by the store before the first read; whole-file stores leave it off.
    /// </summary>
    public bool KeepsSpare { get; init; }

    /// <summary>The file name for a version: derived from the ETag, safe on any file system, and distinct per ETag.</summary>
    public static string FileNameFor(StoredVersion version)
    {
        if (version.ETag is not { } etag)
        {
            return MissingFileName;
        }

        var bare = etag.Trim('"');
        if (SafeETag().IsMatch(bare))
        {
            return "v-" + bare + ".sqlite";
        }

        // Weak or unusual ETags: hash them so that two ETags never share a file name.
        return "h-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(etag))) + ".sqlite";
    }

    /// <summary>A fresh temporary path in this database's folder, so a rename into place is atomic.</summary>
    public string NewTempPath() => Path.Combine(Folder, TempFilePrefix + Guid.NewGuid().ToString("N"));

    /// <summary>The current version, held for the caller, if it was validated within <paramref name="maxStaleness"/>.</summary>
    public DatabaseSnapshot? TryHoldFresh(TimeSpan maxStaleness)
    {
        lock (_gate)
        {
            return _current is not null && _time.GetElapsedTime(_validatedAt) <= maxStaleness ? Hold(_current, SnapshotFetch.Cache) : null;
        }
    }

    /// <summary>
    /// The current version, held for the caller, after revalidating it with <paramref name="fetch"/>
    /// (given the version held now, if any) or joining the revalidation already under way. The fetch
    /// runs on its own, bounded by the store's deadline, so a caller that gives up does not cancel it
    /// for the others.
    /// </summary>
    public async Task<DatabaseSnapshot> RefreshAndHoldAsync(Func<StoredVersion?, Task<FetchedVersion>> fetch, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _waiters++;
        }

        try
        {
            for (var attempt = 1; attempt <= RefreshAttempts; attempt++)
            {
                var (refresh, started) = RefreshAsync(fetch);
                var got = await refresh.WaitAsync(cancellationToken);
                lock (_gate)
                {
                    if (_current is not null)
                    {
                        // A reader that joined another's download waited for it, but the bytes are counted once.
                        return Hold(_current, started ? got : got with { BytesDownloaded = 0 });
                    }
                }
            }

            throw new InvalidOperationException($"Database '{Name}' has no current version after {RefreshAttempts} successful refreshes.");
        }
        finally
        {
            lock (_gate)
            {
                _waiters--;
            }

            _budget.Trim();
        }
    }

    /// <summary>
    /// Makes <paramref name="committedFile"/> the current version (moving it into the cache),
    /// validated at <paramref name="validatedAt"/>.
    /// </summary>
    public void InstallCommitted(StoredVersion version, string committedFile, long validatedAt, bool assembledFromChunks = false)
    {
        lock (_gate)
        {
            SetCurrent(Adopt(version, committedFile, assembledFromChunks), validatedAt);
        }

        _budget.Trim();
    }

    /// <summary>
    /// The cached file of <paramref name="version"/>, held for the caller, if this process has it (the current
    /// version or one still held): what a chunked download copies the chunks it already has from.
    /// </summary>
    public DatabaseSnapshot? TryHold(StoredVersion version)
    {
        lock (_gate)
        {
            return version.Exists && _files.TryGetValue(FileNameFor(version), out var file) ? Hold(file, SnapshotFetch.Cache) : null;
        }
    }

    /// <summary>
    /// Makes the file <paramref name="fetched"/> downloaded (to a path from <see cref="NewTempPath"/>) the immutable file of an old
    /// version, read by its history id <paramref name="versionId"/>, and holds it: it is
    /// counted in the budget and stays cached once released, found again by that id, until the budget evicts it.
    /// The same ETag is the same content, so a version already cached is shared.
    /// </summary>
    public DatabaseSnapshot AdoptAndHoldVersion(FetchedVersion fetched, string versionId)
    {
        DatabaseSnapshot held;
        var downloadedFile = fetched.DownloadedFile ?? throw new ArgumentException("The fetch gave no file.", nameof(fetched));
        var bytes = fetched.BytesMoved;
        lock (_gate)
        {
            var file = Adopt(fetched.Version, downloadedFile, fetched.AssembledFromChunks);
            file.KeptForHistory = true;
            _byVersionId[versionId] = file;
            held = Hold(file, new SnapshotFetch(SnapshotSource.Downloaded, bytes), versionId);
        }

        _budget.Trim();
        return held;
    }

    /// <summary>The old version read before by <paramref name="versionId"/>, held for the caller, if it is still cached.</summary>
    public DatabaseSnapshot? TryHoldVersion(string versionId)
    {
        lock (_gate)
        {
            if (!_byVersionId.TryGetValue(versionId, out var file))
            {
                return null;
            }

            return Hold(file, SnapshotFetch.Revalidated, versionId);
        }
    }

    /// <summary>
    /// Moves the spare (the file of a replaced version no snapshot holds; see <see cref="KeepsSpare"/>) to the new path
    /// <paramref name="targetPath"/>, for the caller to patch and own, and returns its version; null, moving nothing,
    /// when there is none.
    /// </summary>
    public StoredVersion? TakeSpare(string targetPath)
    {
        lock (_gate)
        {
            if (_spare is not { Holders: 0 } spare)
            {
                return null;
            }

            _spare = null;
            _files.Remove(Path.GetFileName(spare.Path));
            _budget.Remove(spare);
            File.Move(spare.Path, targetPath);
            return spare.Version;
        }
    }

    /// <summary>Drops <paramref name="versionId"/> from the cache (the store no longer keeps it); a file still held goes when released.</summary>
    public void ForgetVersion(string versionId)
    {
        lock (_gate)
        {
            if (_byVersionId.Remove(versionId, out var file) && !_byVersionId.ContainsValue(file))
            {
                file.KeptForHistory = false;
                if (file.Holders == 0 && file != _current)
                {
                    Evict(file);
                }
            }
        }
    }

    /// <summary>Starts a revalidation with <paramref name="fetch"/>, or joins the one under way; says which.</summary>
    private (Task<SnapshotFetch> Refresh, bool Started) RefreshAsync(Func<StoredVersion?, Task<FetchedVersion>> fetch)
    {
        lock (_gate)
        {
            if (_refresh is null)
            {
                var known = _current?.Version;
                var generation = _generation;
                var startedAt = _time.GetTimestamp();

                // Task.Run: the fetch must not run (and finish) inline while this lock is held,
                // or it would clear _refresh before it is set.
                _refresh = Task.Run(() => RunRefreshAsync(fetch, known, generation, startedAt));
                return (_refresh, true);
            }

            return (_refresh, false);
        }
    }

    /// <summary>
    /// Deletes <paramref name="file"/> unless a snapshot holds it or, when it is the current version,
    /// a reader is waiting for it; the budget's eviction. Takes this database's gate.
    /// </summary>
    private void TryEvict(CachedVersionFile file)
    {
        lock (_gate)
        {
            if (file.Holders > 0 || !_files.TryGetValue(Path.GetFileName(file.Path), out var known) || known != file)
            {
                return;
            }

            if (file == _current)
            {
                if (_waiters > 0)
                {
                    return;
                }

                // Forgotten, so the next read downloads it in full instead of asking If-None-Match.
                _current = null;
                _generation++;
            }

            Evict(file);
        }
    }

    private async Task<SnapshotFetch> RunRefreshAsync(Func<StoredVersion?, Task<FetchedVersion>> fetch, StoredVersion? known, long generation, long startedAt)
    {
        FetchedVersion? fetched = null;
        try
        {
            fetched = await fetch(known);
            return fetched.Value.DownloadedFile is not null
                ? new SnapshotFetch(SnapshotSource.Downloaded, fetched.Value.BytesMoved)
                : SnapshotFetch.Revalidated;
        }
        finally
        {
            lock (_gate)
            {
                _refresh = null;
                if (fetched is { } result)
                {
                    Apply(result, generation, startedAt);
                }
            }
        }
    }

    private void Apply(FetchedVersion fetched, long generation, long startedAt)
    {
        if (generation != _generation)
        {
            // While this fetch was under way a commit installed a newer version (readers get that one),
            // or the budget evicted the version it revalidated (readers refresh again).
            if (fetched.DownloadedFile is { } stale)
            {
                File.Delete(stale);
            }

            return;
        }

        if (fetched.Unchanged)
        {
            _validatedAt = startedAt;
            _generation++;
            return;
        }

        var file = fetched.DownloadedFile is { } downloaded ? Adopt(fetched.Version, downloaded, fetched.AssembledFromChunks) : AdoptEmpty();
        SetCurrent(file, startedAt);
    }

    private CachedVersionFile Adopt(StoredVersion version, string source, bool assembledFromChunks = false)
    {
        var name = FileNameFor(version);
        if (_files.TryGetValue(name, out var existing))
        {
            // The same ETag is the same content, and a snapshot may have the existing file open.
            if (!string.Equals(Path.GetFullPath(source), existing.Path, StringComparison.Ordinal))
            {
                File.Delete(source);
            }

            return existing;
        }

        var path = Path.Combine(Folder, name);
        File.Move(source, path, overwrite: true);
        var file = new CachedVersionFile(version, path, new FileInfo(path).Length) { AssembledFromChunks = assembledFromChunks };
        _files.Add(name, file);
        _budget.Add(file, () => TryEvict(file));
        return file;
    }

    private CachedVersionFile AdoptEmpty()
    {
        if (_files.TryGetValue(MissingFileName, out var existing))
        {
            return existing;
        }

        var temp = NewTempPath();
        File.Create(temp).Dispose();
        return Adopt(StoredVersion.Missing, temp);
    }

    private void SetCurrent(CachedVersionFile file, long validatedAt)
    {
        var previous = _current;
        _current = file;
        file.Superseded = false;
        if (_spare == file)
        {
            _spare = null;
        }

        _validatedAt = validatedAt;
        _generation++;
        if (previous is not null && previous != file && !previous.KeptForHistory)
        {
            if (previous.Holders == 0)
            {
                Retire(previous);
            }
            else
            {
                previous.Superseded = true;
            }
        }
    }

    /// <summary>A replaced version no snapshot holds any more: the spare, when this database keeps one, else deleted.</summary>
    private void Retire(CachedVersionFile file)
    {
        if (!KeepsSpare || !file.Version.Exists)
        {
            Evict(file);
            return;
        }

        // An older spare still held is retired again when released, and may then take the place back: either serves.
        if (_spare is { Holders: 0 } older && older != file)
        {
            Evict(older);
        }

        _spare = file;
        file.Superseded = false;
    }

    private DatabaseSnapshot Hold(CachedVersionFile file, SnapshotFetch fetch, string? versionId = null)
    {
        file.Holders++;
        _budget.Touch(file);
        return new DatabaseSnapshot(file.Version, file.Path, () => Release(file))
        {
            Fetch = fetch,
            VersionId = versionId,
            IsStoredObject = file.Version.Exists && !file.AssembledFromChunks,
        };
    }

    private void Release(CachedVersionFile file)
    {
        lock (_gate)
        {
            file.Holders--;
            if (file.Holders == 0 && file != _current && file != _spare && !file.KeptForHistory)
            {
                Retire(file);
            }
        }

        _budget.Trim();
    }

    private void Evict(CachedVersionFile file)
    {
        if (file.KeptForHistory)
        {
            foreach (var id in _byVersionId.Where(entry => entry.Value == file).Select(entry => entry.Key).ToList())
            {
                _byVersionId.Remove(id);
            }
        }

        if (_spare == file)
        {
            _spare = null;
        }

        _files.Remove(Path.GetFileName(file.Path));
        _budget.Remove(file);
        File.Delete(file.Path);
    }

    [GeneratedRegex(@"\A[A-Za-z0-9-]{1,128}\z")]
    private static partial Regex SafeETag();
}

/// <summary>One immutable local file holding one version of a database, its size, and how many snapshots hold it.</summary>
internal sealed class CachedVersionFile(StoredVersion version, string path, long bytes)
{
    public StoredVersion Version { get; } = version;

    public string Path { get; } = path;

    /// <summary>The file's size, counted against the cache's <see cref="CacheBudget"/>.</summary>
    public long Bytes { get; } = bytes;

    /// <summary>Put together from the chunks of a manifest (STORAGE_LAYOUT=chunked): not byte for byte one stored object.</summary>
    public bool AssembledFromChunks { get; init; }

    /// <summary>Snapshots that hold the file; guarded by the owning <see cref="CachedDatabase"/>'s lock.</summary>
    public int Holders { get; set; }

    /// <summary>An old version read by its history id: kept when no snapshot holds it, until the budget evicts it; guarded like <see cref="Holders"/>.</summary>
    public bool KeptForHistory { get; set; }

    /// <summary>
    /// No longer current but still held: deleted as soon as its last snapshot is released, so the budget does
    /// not make room for it (it would evict the new current version of a large database after every commit).
    /// Written under the owning database's lock, read by the budget without it.
    /// </summary>
    public bool Superseded
    {
        get => Volatile.Read(ref _superseded);
        set => Volatile.Write(ref _superseded, value);
    }

    private bool _superseded;
}

/// <summary>
/// What one revalidation of a cached database found: the cached version is still current
/// (<see cref="Unchanged"/>), the database is missing, or a new version was downloaded to
/// <see cref="DownloadedFile"/>, a temporary file in the database's cache folder, from
/// <see cref="Source"/> (where the object lives, for messages).
/// </summary>
/// <remarks>
/// A file put together from a manifest's chunks says so (<see cref="AssembledFromChunks"/>) and how many bytes it
/// fetched (<see cref="BytesFetched"/>; otherwise the file's length is what moved).
/// </remarks>
internal readonly record struct FetchedVersion(StoredVersion Version, string? DownloadedFile, bool Unchanged, string? Source = null)
{
    public bool AssembledFromChunks { get; init; }

    public long? BytesFetched { get; init; }

    /// <summary>The bytes the fetch moved: <see cref="BytesFetched"/> when it says, else the downloaded file's length.</summary>
    public long BytesMoved => BytesFetched ?? (DownloadedFile is { } file ? new FileInfo(file).Length : 0);

    public static FetchedVersion StillCurrent => new(default, null, Unchanged: true);

    public static FetchedVersion Missing => new(StoredVersion.Missing, null, Unchanged: false);

    public static FetchedVersion Downloaded(StoredVersion version, string file, string source) => new(version, file, Unchanged: false, source);
}
