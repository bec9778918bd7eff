using System.Buffers.Text;
using System.Globalization;
using System.Text;
using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Storage.LocalFolder;

/// <summary>
/// Time travel over the folder: each commit keeps the file it replaced as
/// <c>{DataDirectory}/.versions/{NAME}/{commit time, Unix ms}_{version tag}.sqlite</c> (a hard link made in the
/// same rename), and deletes the oldest beyond <see cref="LocalVersionRetention.VersionsKept"/>, all under the
/// database's lock file, so pruning never races a commit and never touches the current version; chunks that no
/// kept manifest names go in the same pass (see the chunked part). A version's
/// id is its tag; its time is when it was committed (the tag file's time). Kept files are never written again.
/// </summary>
internal sealed partial class LocalFolderDatabaseStore : IDatabaseHistory
{
    private const string VersionsFolderName = ".versions";
    private const char TimeSeparator = '_';

    public async Task<VersionPage> ListVersionsAsync(string database, int limit, string? next, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var after = next is null ? null : DecodeToken(next);
        var entries = await EntriesAsync(database, cancellationToken);
        var remaining = entries.Where(e => after is null || string.CompareOrdinal(e.SortKey, after) < 0).ToList();
        var page = remaining.Take(limit).ToList();
        return new VersionPage(
            page.Select(e => e.Version).ToList(),
            remaining.Count > limit ? EncodeToken(page[^1].SortKey) : null);
    }

    public async Task<DatabaseVersion?> FindAsOfAsync(string database, DateTimeOffset asOf, CancellationToken cancellationToken) =>
        (await EntriesAsync(database, cancellationToken)).Select(e => e.Version).FirstOrDefault(v => v.Time <= asOf);

    public async Task<DatabaseSnapshot> GetVersionAsync(string database, string versionId, CancellationToken cancellationToken)
    {
        var dataPath = PathOf(database);
        return await _caches.GetVersionAsync(database, versionId, async cache =>
        {
            FileStream source;
            string? path;
            if (!HasAnythingStored(database))
            {
                throw NoSuchVersion(database, versionId);
            }

            using (await LockFile.AcquireAsync(dataPath + LockExtension, _lockFileWait, _time, cancellationToken))
            {
                // Under the lock the current file and its tag belong together; the open handle keeps the bytes
                // readable after it is released, whatever a commit or a pruning does next.
                path = PathOfVersion(database, versionId) ?? throw NoSuchVersion(database, versionId);
                source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
            }

            await using (source)
            {
                try
                {
                    return (await ReceiveAsync(cache, new StoredVersion(versionId), source, path, cancellationToken)).Fetched;
                }
                catch (ChunkCollectedException e)
                {
                    // Pruned while it was read: its chunks were collected with it.
                    throw new VersionNotFoundException(NoSuchVersion(database, versionId).Message, e);
                }
            }
        },
        () => Task.FromResult(PathOfVersion(database, versionId) ?? throw NoSuchVersion(database, versionId)));
    }

    /// <summary>The file holding <paramref name="versionId"/> of <paramref name="database"/>: the current one or a kept one; null when it is neither.</summary>
    private string? PathOfVersion(string database, string versionId) =>
        !IsTag(versionId) ? null
        : CurrentVersion(PathOf(database)).ETag == versionId ? PathOf(database)
        : KeptVersions(database).FirstOrDefault(k => k.Tag == versionId)?.Path;

    private VersionNotFoundException NoSuchVersion(string database, string versionId) =>
        new($"Database '{database}' has no version '{versionId}' in {DataDirectory} (the current one, or one of the {_retention.VersionsKept} replaced ones kept); GET /db/versions?db={database} lists them.");

    public string? IdOf(string database, StoredVersion version) => version.ETag;

    /// <summary>The folder holding the replaced versions of <paramref name="database"/> that are kept.</summary>
    /// <summary>
    /// Whether the folder holds anything of <paramref name="database"/>: its file or a kept version. The reads
    /// of one that holds nothing answer without taking its lock file, so that they create nothing.
    /// </summary>
    private bool HasAnythingStored(string database) => File.Exists(PathOf(database)) || Directory.Exists(VersionsFolderOf(database));

    public string VersionsFolderOf(string database) => Path.Combine(DataDirectory, VersionsFolderName, database);

    /// <summary>Where the version <paramref name="tag"/>, committed at <paramref name="committedAt"/>, is kept once replaced.</summary>
    private string KeptVersionPath(string database, StoredVersion tag, DateTimeOffset committedAt)
    {
        var folder = VersionsFolderOf(database);
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, SortKey(committedAt, tag.ETag!) + DatabaseExtension);
    }

    /// <summary>
    /// When the current version was committed: its tag file's time (the file's own, for one put there by hand),
    /// to the millisecond, as its kept file will name it once replaced.
    /// </summary>
    private static DateTimeOffset CommitTimeOf(string dataPath)
    {
        var tag = new FileInfo(dataPath + VersionExtension);
        var time = new DateTimeOffset(tag.Exists ? tag.LastWriteTimeUtc : File.GetLastWriteTimeUtc(dataPath), TimeSpan.Zero);
        return DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());
    }

    /// <summary>Deletes the oldest kept versions beyond the retention. Called under the database's lock file.</summary>
    // Listing, parsing and sorting the versions folder is most of a local commit's cost once it is full, so it
    // is done when this process's commits since its last prune could have taken the folder a tenth past the
    // retention (every commit when fewer than 10 are kept). Processes sharing a folder each count their own.
    private void PruneVersions(string database)
    {
        var commits = _commitsSincePrune.AddOrUpdate(database, 1, (_, n) => n + 1);
        if (commits <= _retention.VersionsKept / 10)
        {
            return;
        }

        _commitsSincePrune[database] = 0;
        foreach (var old in KeptVersions(database).Skip(_retention.VersionsKept))
        {
            File.Delete(old.Path);
        }

        CollectChunks(database);
    }

    /// <summary>The current version and the kept ones, newest first, read under the lock file so that a commit is seen whole.</summary>
    private async Task<List<VersionEntry>> EntriesAsync(string database, CancellationToken cancellationToken)
    {
        var dataPath = PathOf(database);
        if (!HasAnythingStored(database))
        {
            return [];
        }

        using (await LockFile.AcquireAsync(dataPath + LockExtension, _lockFileWait, _time, cancellationToken))
        {
            var entries = new List<VersionEntry>();
            if (CurrentVersion(dataPath) is { ETag: { } tag })
            {
                var time = CommitTimeOf(dataPath);
                entries.Add(new VersionEntry(SortKey(time, tag), new DatabaseVersion(tag, time, new FileInfo(dataPath).Length, IsCurrent: true)));
            }

            entries.AddRange(KeptVersions(database).Select(k => new VersionEntry(
                Path.GetFileNameWithoutExtension(k.Path),
                new DatabaseVersion(k.Tag, k.Time, new FileInfo(k.Path).Length, IsCurrent: false))));
            return entries;
        }
    }

    /// <summary>The kept versions of <paramref name="database"/>, newest first; files not named as this store names them are ignored.</summary>
    private List<KeptVersion> KeptVersions(string database)
    {
        var folder = VersionsFolderOf(database);
        if (!Directory.Exists(folder))
        {
            return [];
        }

        var kept = new List<KeptVersion>();
        foreach (var path in Directory.EnumerateFiles(folder, "*" + DatabaseExtension))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            var separator = name.IndexOf(TimeSeparator);
            if (separator > 0
                && long.TryParse(name.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds)
                && milliseconds <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
                && name[(separator + 1)..] is var tag && IsTag(tag))
            {
                kept.Add(new KeptVersion(path, tag, DateTimeOffset.FromUnixTimeMilliseconds(milliseconds)));
            }
        }

        return [.. kept.OrderByDescending(k => Path.GetFileName(k.Path), StringComparer.Ordinal)];
    }

    // Zero-padded, so that ordinal order is time order (ties broken by tag).
    private static string SortKey(DateTimeOffset time, string tag) =>
        string.Create(CultureInfo.InvariantCulture, $"{time.ToUnixTimeMilliseconds():D15}{TimeSeparator}{tag}");

    // The tags this store makes ({counter}-{random}, or 0-{ticks}-{length}): also what makes an id safe in a file name.
    private static bool IsTag(string value) => value.Length is >= 1 and <= 128 && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private static string EncodeToken(string sortKey) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(sortKey));

    private static string DecodeToken(string token)
    {
        try
        {
            var key = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            var separator = key.IndexOf(TimeSeparator);
            if (separator > 0 && key[..separator].All(char.IsAsciiDigit) && IsTag(key[(separator + 1)..]))
            {
                return key;
            }
        }
        catch (FormatException)
        {
        }

        throw new ArgumentException($"'{token}' is not a page token of this store.", nameof(token));
    }

    private sealed record KeptVersion(string Path, string Tag, DateTimeOffset Time);

    private sealed record VersionEntry(string SortKey, DatabaseVersion Version);
}
