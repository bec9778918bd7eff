using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace ServerlessDb.Storage;

/// <summary>
/// The local copies of one database in one process: one immutable file per version, named by its
/// ETag. A file lives while it is the current version or a snapshot holds it, and is deleted as
/// soon as it is neither. Revalidations are single-flight: concurrent readers share one fetch.
/// </summary>
/// <remarks>
/// The folder belongs to this process: files found there when the database is first touched are
/// leftovers of an earlier process and are deleted.
/// </remarks>
internal sealed partial class CachedDatabase
{
    private const string MissingFileName = "missing.sqlite";
    private const string TempFilePrefix = ".download-";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, CachedVersionFile> _files = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private CachedVersionFile? _current;
    private long _validatedAt;

    // Bumped whenever the current version is replaced or revalidated, so that a fetch that started
    // before a commit cannot install its older answer over the committed version.
    private long _generation;
    private Task? _refresh;

    public CachedDatabase(string name, string folder, TimeProvider time)
    {
        Name = name;
        Folder = Path.GetFullPath(folder);
        _time = time;
        Directory.CreateDirectory(Folder);
        foreach (var leftover in Directory.EnumerateFiles(Folder))
        {
            File.Delete(leftover);
        }
    }

    public string Name { get; }

    public string Folder { get; }

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
            return _current is not null && _time.GetElapsedTime(_validatedAt) <= maxStaleness ? Hold(_current) : null;
        }
    }

    /// <summary>The current version, held for the caller. Call after a successful <see cref="RefreshAsync"/>.</summary>
    public DatabaseSnapshot HoldCurrent()
    {
        lock (_gate)
        {
            return _current is not null
                ? Hold(_current)
                : throw new InvalidOperationException($"Database '{Name}' has no current version after a successful refresh.");
        }
    }

    /// <summary>
    /// Revalidates the cached copy with <paramref name="fetch"/> (given the version held now, if
    /// any), or joins the revalidation already under way. The fetch runs on its own, bounded by the
    /// store's deadline, so a caller that gives up does not cancel it for the others.
    /// </summary>
    public Task RefreshAsync(Func<StoredVersion?, Task<FetchedVersion>> fetch)
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
            }

            return _refresh;
        }
    }

    /// <summary>
    /// Makes <paramref name="committedFile"/> the current version (moving it into the cache),
    /// validated at <paramref name="validatedAt"/>.
    /// </summary>
    public void InstallCommitted(StoredVersion version, string committedFile, long validatedAt)
    {
        lock (_gate)
        {
            SetCurrent(Adopt(version, committedFile), validatedAt);
        }
    }

    private async Task RunRefreshAsync(Func<StoredVersion?, Task<FetchedVersion>> fetch, StoredVersion? known, long generation, long startedAt)
    {
        FetchedVersion? fetched = null;
        try
        {
            fetched = await fetch(known);
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
            // A commit installed a newer version while this fetch was under way; readers get that one.
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

        var file = fetched.DownloadedFile is { } downloaded ? Adopt(fetched.Version, downloaded) : AdoptEmpty();
        SetCurrent(file, startedAt);
    }

    private CachedVersionFile Adopt(StoredVersion version, string source)
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
        var file = new CachedVersionFile(version, path);
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
        return Adopt(StoredVersion.Missing, temp);
    }

    private void SetCurrent(CachedVersionFile file, long validatedAt)
    {
        var previous = _current;
        _current = file;
        _validatedAt = validatedAt;
        _generation++;
        if (previous is not null && previous != file && previous.Holders == 0)
        {
            Evict(previous);
        }
    }

    private DatabaseSnapshot Hold(CachedVersionFile file)
    {
        file.Holders++;
        return new DatabaseSnapshot(Name, file.Version, file.Path, () => Release(file));
    }

    private void Release(CachedVersionFile file)
    {
        lock (_gate)
        {
            file.Holders--;
            if (file.Holders == 0 && file != _current)
            {
                Evict(file);
            }
        }
    }

    private void Evict(CachedVersionFile file)
    {
        _files.Remove(Path.GetFileName(file.Path));
        File.Delete(file.Path);
    }

    [GeneratedRegex(@"\A[A-Za-z0-9-]{1,128}\z")]
    private static partial Regex SafeETag();
}
