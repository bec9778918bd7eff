using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace ServerlessDb.Storage;

/// <summary>
/// The local copies of one database in one process: one immutable file per version, named by its ETag, each with one
/// <see cref="CachedFileRole"/> that decides when it is deleted. Every change of role goes through
/// <see cref="ChangeRole"/>, which keeps the budget and the indexes of the current version and the spare in step.
/// Revalidations are single-flight: concurrent readers share one fetch. The store's <see cref="CacheBudget"/> may also
/// evict the current version when no snapshot holds it and no reader is waiting for it; the next read then downloads
/// it again in full.
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

    // The history ids an old version was read by (time travel), to find its file again: an index, not a role (the
    // current version may have been read by an id too; it is KeptForHistory once replaced).
    private readonly Dictionary<string, CachedVersionFile> _byVersionId = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly CacheBudget _budget;
    private readonly SingleFlight<SnapshotFetch> _refresh = new();

    // The files with the roles Current and Spare (at most one each), written only by ChangeRole.
    private CachedVersionFile? _current;
    private CachedVersionFile? _spare;
    private long _validatedAt;

    // Readers waiting for a refresh to finish: while there are any, the current version is not evicted.
    private int _waiters;

    // Bumped whenever the current version is replaced, revalidated or evicted, so that a fetch that
    // started before cannot install its older answer over the newer state.
    private long _generation;

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
    /// Keep the file of the last replaced version that no snapshot holds as the spare (<see cref="TakeSpare"/>) instead
    /// of deleting it, for a store that can patch a file into a newer version more cheaply than it can fetch or copy
    /// one. Set by the store before the first read.
    /// </summary>
    public bool KeepsReplacedFileAsSpare { get; init; }

    /// <summary>The file name for a version: derived from the ETag, safe on any file system, and distinct per ETag.</summary>
    public static string FileNameFor(DatabaseETag version)
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
    public async Task<DatabaseSnapshot> RefreshAndHoldAsync(Func<DatabaseETag?, Task<FetchedVersion>> fetch, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _waiters++;
        }

        try
        {
            for (var attempt = 1; attempt <= RefreshAttempts; attempt++)
            {
                var (got, started) = await _refresh.RunOrJoinAsync(() => RefreshAsync(fetch), cancellationToken);
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
    /// <param name="isStoredObject">the file is byte for byte the object the store wrote (see <see cref="DatabaseSnapshot.IsStoredObject"/>).</param>
    public void InstallCommitted(DatabaseETag version, string committedFile, long validatedAt, bool isStoredObject = true)
    {
        lock (_gate)
        {
            SetCurrent(Adopt(version, committedFile, isStoredObject), validatedAt);
        }

        _budget.Trim();
    }

    /// <summary>
    /// The cached file of <paramref name="version"/>, held for the caller, if this process has it (the current
    /// version or one still held): what a store that builds a version from parts of another copies them from.
    /// </summary>
    public DatabaseSnapshot? TryHold(DatabaseETag version)
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
            var file = Adopt(fetched.Version, downloadedFile, fetched.IsStoredObject);
            _byVersionId[versionId] = file;
            if (file.Role != CachedFileRole.Current)
            {
                ChangeRole(file, CachedFileRole.KeptForHistory);
            }

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
    /// Moves the spare (the file of a replaced version no snapshot holds; see <see cref="KeepsReplacedFileAsSpare"/>) to the new path
    /// <paramref name="targetPath"/>, for the caller to patch and own, and returns its version; null, moving nothing,
    /// when there is none.
    /// </summary>
    public DatabaseETag? TakeSpare(string targetPath)
    {
        lock (_gate)
        {
            if (_spare is not { Holders: 0 } spare)
            {
                return null;
            }

            // Moved first, so a failed move leaves it the spare; gone from the cache, nothing is left to delete.
            File.Move(spare.Path, targetPath);
            ChangeRole(spare, CachedFileRole.Gone);
            return spare.Version;
        }
    }

    /// <summary>Drops <paramref name="versionId"/> from the cache (the store no longer keeps it); a file still held goes when released.</summary>
    public void ForgetVersion(string versionId)
    {
        lock (_gate)
        {
            if (_byVersionId.Remove(versionId, out var file) && !_byVersionId.ContainsValue(file) && file.Role == CachedFileRole.KeptForHistory)
            {
                ChangeRole(file, file.Holders == 0 ? CachedFileRole.Gone : CachedFileRole.Superseded);
            }
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
            if (file.Holders > 0 || file.Role is CachedFileRole.Gone || (file.Role is CachedFileRole.Current && _waiters > 0))
            {
                return;
            }

            // The current version too: forgotten, so the next read downloads it in full instead of asking If-None-Match.
            ChangeRole(file, CachedFileRole.Gone);
        }
    }

    /// <summary>One revalidation with <paramref name="fetch"/>, given the version held now; run by <see cref="_refresh"/>, one at a time.</summary>
    private async Task<SnapshotFetch> RefreshAsync(Func<DatabaseETag?, Task<FetchedVersion>> fetch)
    {
        DatabaseETag? known;
        long generation;
        long startedAt;
        lock (_gate)
        {
            known = _current?.Version;
            generation = _generation;
            startedAt = _time.GetTimestamp();
        }

        var fetched = await fetch(known);

        // Measured before Apply moves the downloaded file into place.
        var result = fetched.DownloadedFile is not null ? new SnapshotFetch(SnapshotSource.Downloaded, fetched.BytesMoved) : SnapshotFetch.Revalidated;
        lock (_gate)
        {
            Apply(fetched, generation, startedAt);
        }

        return result;
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

        var file = fetched.DownloadedFile is { } downloaded ? Adopt(fetched.Version, downloaded, fetched.IsStoredObject) : AdoptEmpty();
        SetCurrent(file, startedAt);
    }

    /// <summary>The file of <paramref name="version"/>: the cached one, or <paramref name="source"/> moved into the folder, with the role New.</summary>
    private CachedVersionFile Adopt(DatabaseETag version, string source, bool isStoredObject)
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
        var file = new CachedVersionFile(version, path, new FileInfo(path).Length, isStoredObject);
        _files.Add(name, file);
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
        return Adopt(DatabaseETag.Missing, temp, isStoredObject: false);
    }

    private void SetCurrent(CachedVersionFile file, long validatedAt)
    {
        ChangeRole(file, CachedFileRole.Current);
        _validatedAt = validatedAt;
        _generation++;
    }

    /// <summary>
    /// Gives <paramref name="file"/> the role <paramref name="to"/>, if <see cref="CachedFileRoles.Allows"/> the change, and
    /// keeps everything that depends on roles in step: the budget counts a file from its first role until it is gone,
    /// at most one file is current and one the spare (the one each replaces takes the role it now calls for), and a
    /// file gone is out of the folder's books and deleted. Under the gate.
    /// </summary>
    /// <exception cref="InvalidOperationException">the change is not allowed: a bug in this class.</exception>
    private void ChangeRole(CachedVersionFile file, CachedFileRole to)
    {
        var from = file.Role;
        if (from == to)
        {
            return;
        }

        if (!CachedFileRoles.Allows(from, to))
        {
            throw new InvalidOperationException($"The cached file of version {file.Version} of '{Name}' cannot change from {from} to {to}.");
        }

        file.Role = to;
        switch (from)
        {
            case CachedFileRole.New:
                _budget.Add(file, () => TryEvict(file));
                break;
            case CachedFileRole.Current:
                _current = null;
                _generation++;
                break;
            case CachedFileRole.Spare:
                _spare = null;
                break;
        }

        switch (to)
        {
            case CachedFileRole.Current:
                if (_current is { } replaced)
                {
                    ChangeRole(replaced, RoleOnceLeft(replaced));
                }

                _current = file;
                break;
            case CachedFileRole.Spare:
                // An older spare still held goes when released, and may then take the place back: either serves.
                if (_spare is { } older)
                {
                    ChangeRole(older, older.Holders == 0 ? CachedFileRole.Gone : CachedFileRole.Superseded);
                }

                _spare = file;
                break;
            case CachedFileRole.Gone:
                foreach (var id in _byVersionId.Where(entry => entry.Value == file).Select(entry => entry.Key).ToList())
                {
                    _byVersionId.Remove(id);
                }

                _files.Remove(Path.GetFileName(file.Path));
                _budget.Remove(file);
                File.Delete(file.Path);
                break;
        }
    }

    /// <summary>The role of a file that is no longer current, or whose last snapshot of a superseded version was released.</summary>
    private CachedFileRole RoleOnceLeft(CachedVersionFile file) =>
        _byVersionId.ContainsValue(file) ? CachedFileRole.KeptForHistory
        : file.Holders > 0 ? CachedFileRole.Superseded
        : KeepsReplacedFileAsSpare && file.Version.Exists ? CachedFileRole.Spare
        : CachedFileRole.Gone;

    private DatabaseSnapshot Hold(CachedVersionFile file, SnapshotFetch fetch, string? versionId = null)
    {
        file.Holders++;
        _budget.Touch(file);
        return new DatabaseSnapshot(file.Version, file.Path, () => Release(file))
        {
            Fetch = fetch,
            VersionId = versionId,
            IsStoredObject = file.Version.Exists && file.IsStoredObject,
        };
    }

    private void Release(CachedVersionFile file)
    {
        lock (_gate)
        {
            file.Holders--;
            if (file.Holders == 0 && file.Role == CachedFileRole.Superseded)
            {
                ChangeRole(file, RoleOnceLeft(file));
            }
        }

        _budget.Trim();
    }

    [GeneratedRegex(@"\A[A-Za-z0-9-]{1,128}\z")]
    private static partial Regex SafeETag();
}
