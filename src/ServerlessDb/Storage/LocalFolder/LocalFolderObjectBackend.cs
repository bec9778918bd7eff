using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessDb.Errors;

namespace ServerlessDb.Storage.LocalFolder;

/// <summary>
/// <see cref="IObjectBackend"/> over a local folder, with S3's semantics (conditional puts, versions, delete markers,
/// listings in key order) for the local server; several processes may share the folder.
/// </summary>
/// <remarks>
/// <para>
/// Layout. Key <c>K</c> is the file <c>{folder}/K</c> ('/' makes subfolders), so a database is a plain SQLite file a person
/// can open, and a file put there by hand is an object (ETag <c>0-{mtime ticks}-{size}</c>, as the old store made them).
/// Everything else lives under root names starting with '.', which no key may start with and no listing shows: the
/// journal of a key under <c>.history/_{segment}/_{segment}/</c> (each key segment prefixed with '_', so the journal's own
/// names, <c>index.json</c>, <c>lock</c> and <c>v-{version id}</c>, which never start with '_', cannot meet a longer key's
/// folder), and temporary files under <c>.tmp/</c>, on the same file system, so that a rename into place is atomic.
/// <c>index.json</c> lists the key's versions and deletion markers, newest first, with ETag, time, content type and user
/// metadata; the current version's bytes are the visible file, each noncurrent one's are <c>v-{version id}</c>.
/// </para>
/// <para>
/// The visible file is the truth: the index's newest entry is the current object only while the file still has the size
/// and modification time the entry recorded; a file changed by hand is a new object on top of the history, as a file put
/// there by hand is. A put renames its file into place (keeping the replaced one's bytes as a hard link, in the same
/// rename) before it rewrites the index, so a crash between the two leaves a folder that still reads.
/// </para>
/// <para>
/// Compatibility with the old local store (<c>LocalFolderDatabaseStore</c>, which this backend replaces): <c>NAME.sqlite</c> reads, its ETag
/// and version id the tag in <c>NAME.sqlite.version</c> beside it; the first put or delete moves it into the journal and
/// deletes that tag file. Root-level <c>*.sqlite.version</c> and <c>*.sqlite.lock</c> names are the old store's and are
/// neither listed nor accepted as keys. The old store's kept versions (<c>.versions/</c>) and chunks (<c>.chunks/</c>) are
/// not read: they sit under hidden names and are left alone.
/// </para>
/// <para>
/// Where it differs from S3: a key cannot be both an object and a folder of others (<c>a</c> and <c>a/b</c>): the second
/// put is refused; a delete without a version id of a key that never had a version leaves no deletion marker; an ETag is
/// <c>{counter}-{random}</c>, new for every put even of the same bytes (S3's is their MD5). Retention is S3's lifecycle
/// NewerNoncurrentVersions applied at once, under the key's lock: noncurrent deletion markers count too. Temporary files a
/// crashed put left in <c>.tmp/</c> are not collected.
/// </para>
/// </remarks>
internal sealed partial class LocalFolderObjectBackend : IObjectBackend
{
    /// <summary>How long a call waits for another process to release a key's lock file before it is unavailable.</summary>
    public static readonly TimeSpan DefaultLockFileWait = TimeSpan.FromSeconds(10);

    private const string HistoryFolderName = ".history";
    private const string TempFolderName = ".tmp";
    private const string SegmentPrefix = "_";
    private const string IndexFileName = "index.json";
    private const string LockFileName = "lock";
    private const string VersionFilePrefix = "v-";
    private const string DefaultContentType = "application/octet-stream";
    private const string LegacyDatabaseExtension = ".sqlite";
    private const string LegacyTagExtension = ".version";
    private const string LegacyLockExtension = ".lock";
    private const int MaxKeyBytes = 1024;
    private const int DefaultMaxKeys = 1000;
    private const int FileBufferSize = 81920;

    private readonly TimeProvider _time;
    private readonly TimeSpan _lockFileWait;
    private readonly LocalVersionRetention _retention;

    /// <param name="folder">the folder holding the objects; created if missing.</param>
    /// <param name="retention">how many noncurrent versions of each key are kept; <see cref="LocalVersionRetention.Default"/> when null.</param>
    /// <param name="time">the clock of the objects' LastModified; the system's when null. Lock waits run in real time.</param>
    /// <param name="lockFileWait">how long a call waits for a key's lock file; <see cref="DefaultLockFileWait"/> when null.</param>
    public LocalFolderObjectBackend(string folder, LocalVersionRetention? retention = null, TimeProvider? time = null, TimeSpan? lockFileWait = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Folder = Path.GetFullPath(folder);
        EnsureWritable(Folder);
        _retention = retention ?? LocalVersionRetention.Default;
        ArgumentOutOfRangeException.ThrowIfNegative(_retention.VersionsKept, nameof(retention));
        _time = time ?? TimeProvider.System;
        _lockFileWait = lockFileWait ?? DefaultLockFileWait;
    }

    /// <summary>The absolute path of the folder.</summary>
    public string Folder { get; }

    // Fails at start rather than at the first write, with the folder named.
    private static void EnsureWritable(string folder)
    {
        try
        {
            var temp = Path.Combine(folder, TempFolderName);
            Directory.CreateDirectory(temp);
            var probe = Path.Combine(temp, $"write-check-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"The data folder {folder} is not writable: {e.Message}", e);
        }
    }

    private string HistoryFolder => Path.Combine(Folder, HistoryFolderName);

    public string Name => "the data folder";

    public string Describe(string key) => Path.Combine(Folder, key);

    public Task<ObjectVersioning> VersioningAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new ObjectVersioning(true, "Enabled"));

    public Task<ObjectInfo?> HeadAsync(string key, ObjectSelector selector, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return CallAsync("HeadObject", key, async () =>
        {
            if (!MayHold(key))
            {
                ThrowIfMatchAsked(key, selector, "HeadObject");
                return null;
            }

            using (await LockAsync(key, cancellationToken))
            {
                var version = Select(key, ReadState(key), selector, "HeadObject");
                return version is null ? null : InfoOf(key, version);
            }
        }, cancellationToken);
    }

    public Task<ObjectRead> GetAsync(string key, ObjectSelector selector, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return CallAsync("GetObject", key, async () =>
        {
            if (!MayHold(key))
            {
                ThrowIfMatchAsked(key, selector, "GetObject");
                return ObjectRead.Missing;
            }

            Version? version;
            FileStream file;

            // The handle is opened under the lock, where the index and the files agree; it keeps this version's bytes
            // readable after the lock is released, whatever a put or delete renames over them or deletes next.
            using (await LockAsync(key, cancellationToken))
            {
                var state = ReadState(key);
                version = Select(key, state, selector, "GetObject");
                if (version is null)
                {
                    return ObjectRead.Missing;
                }

                if (selector.IfNoneMatch == version.Record.ETag)
                {
                    return ObjectRead.NotModified;
                }

                file = new FileStream(version.BytesPath, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileBufferSize, FileOptions.Asynchronous);
            }

            try
            {
                return ObjectRead.Of(InfoOf(key, version), Slice(file, version.Record.Size, selector.Range, key));
            }
            catch
            {
                await file.DisposeAsync();
                throw;
            }
        }, cancellationToken);
    }

    public Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition, ObjectMetadata metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(metadata);
        return CallAsync("PutObject", key, async () =>
        {
            var path = PathOf(key);
            RefuseFolderClash(key, path);

            // Written and flushed before the lock, so the lock covers only a compare and two renames.
            var staged = await StageAsync(key, body, cancellationToken);
            try
            {
                using (await LockAsync(key, cancellationToken))
                {
                    var state = ReadState(key);
                    var current = state.Current;
                    if (condition.IsConditional && (condition.ETag is null ? current is not null : current?.Record.ETag != condition.ETag))
                    {
                        throw Failure(ObjectBackendFailure.ConditionFailed, "PutObject", key, current is null
                            ? "NoSuchKey: the key has no object to match"
                            : $"PreconditionFailed: the object is {current.Record.ETag}");
                    }

                    var lastModified = Now();
                    File.SetLastWriteTimeUtc(staged, lastModified.UtcDateTime);
                    var stored = new FileInfo(staged);
                    var record = new VersionRecord(
                        NewVersionId(), NextETag(state.Versions.FirstOrDefault(v => !v.Record.DeleteMarker)?.Record.ETag), DeleteMarker: false, stored.Length,
                        lastModified.ToUnixTimeMilliseconds(), metadata.ContentType,
                        metadata.User.ToDictionary(p => p.Key.ToLowerInvariant(), p => p.Value, StringComparer.Ordinal),
                        stored.LastWriteTimeUtc.Ticks);

                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    if (current is not null && current.BytesPath == path && _retention.VersionsKept > 0)
                    {
                        // The replaced file stays, as a hard link in the journal, in the same atomic rename.
                        File.Replace(staged, path, VersionFilePath(key, current.Record.VersionId));
                    }
                    else
                    {
                        File.Move(staged, path, overwrite: true);
                    }

                    Commit(key, state, [record, .. state.Versions.Select(v => v.Record)]);
                    return new PutResult(record.ETag, record.VersionId);
                }
            }
            finally
            {
                File.Delete(staged);
            }
        }, cancellationToken);
    }

    public Task DeleteAsync(string key, string? ifMatch, string? versionId, CancellationToken cancellationToken) =>
        CallAsync("DeleteObject", key, async () =>
        {
            if (!MayHold(key))
            {
                return ifMatch is null ? true : throw Failure(ObjectBackendFailure.ConditionFailed, "DeleteObject", key, "the key has no object to match");
            }

            using (await LockAsync(key, cancellationToken))
            {
                var state = ReadState(key);
                if (versionId is null)
                {
                    DeleteCurrent(key, state, ifMatch);
                }
                else
                {
                    DeleteVersion(key, state, ifMatch, versionId);
                }

                return true;
            }
        }, cancellationToken);

    public async Task<IReadOnlyList<VersionDeleteFailure>> DeleteVersionsAsync(IReadOnlyList<ObjectVersionRef> versions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(versions);
        var failures = new List<VersionDeleteFailure>();
        foreach (var version in versions)
        {
            try
            {
                await DeleteAsync(version.Key, ifMatch: null, version.VersionId, cancellationToken);
            }
            catch (Exception e) when (e is ObjectBackendException or ArgumentException)
            {
                failures.Add(new VersionDeleteFailure(version, e is ObjectBackendException failure ? failure.Detail : e.Message));
            }
        }

        return failures;
    }

    public Task<ObjectListing> ListAsync(ListRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync("ListObjects", request.Prefix, () =>
        {
            var after = request.Continuation is null ? null : DecodeContinuation(request.Continuation, request.Prefix);
            var files = VisibleFiles(request.Prefix)
                .Where(f => request.StartAfter is null || CompareKeys(f.Key, request.StartAfter) > 0)
                .Where(f => after is null || After(f.Key, after.Value.Marker, after.Value.IsPrefix))
                .OrderBy(f => f.Key, KeyOrder);

            var maxKeys = request.MaxKeys ?? DefaultMaxKeys;
            if (maxKeys <= 0)
            {
                return Task.FromResult(new ObjectListing([], [], null));
            }

            var objects = new List<ObjectSummary>();
            var prefixes = new List<string>();
            (string Marker, bool IsPrefix)? last = null;
            foreach (var (key, file) in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var rolledUp = RolledUp(key, request.Prefix, request.Delimiter);
                if (rolledUp is not null && last is { IsPrefix: true } previous && previous.Marker == rolledUp)
                {
                    continue;
                }

                if (objects.Count + prefixes.Count == maxKeys)
                {
                    return Task.FromResult(new ObjectListing(objects, prefixes, EncodeContinuation(last!.Value.Marker, last.Value.IsPrefix)));
                }

                if (rolledUp is not null)
                {
                    prefixes.Add(rolledUp);
                    last = (rolledUp, true);
                }
                else
                {
                    objects.Add(new ObjectSummary(key, file.Length, Milliseconds(file.LastWriteTimeUtc)));
                    last = (key, false);
                }
            }

            return Task.FromResult(new ObjectListing(objects, prefixes, null));
        }, cancellationToken);
    }

    public Task<VersionListing> ListVersionsAsync(VersionListRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync("ListObjectVersions", request.Prefix, async () =>
        {
            if (request.VersionIdMarker is not null && request.KeyMarker is null)
            {
                throw Failure(ObjectBackendFailure.InvalidArgument, "ListObjectVersions", request.Prefix, "InvalidArgument: a version id marker needs a key marker");
            }

            var keys = VisibleFiles(request.Prefix).Select(f => f.Key).Union(JournaledKeys(request.Prefix), StringComparer.Ordinal)
                .Where(k => request.KeyMarker is null || CompareKeys(k, request.KeyMarker) >= 0)
                .Order(KeyOrder)
                .ToList();

            var maxKeys = request.MaxKeys ?? DefaultMaxKeys;
            if (maxKeys <= 0)
            {
                return new VersionListing([], [], IsTruncated: false, null, null);
            }

            var versions = new List<ObjectVersionSummary>();
            var prefixes = new List<string>();
            var markerFound = request.VersionIdMarker is null;
            foreach (var key in keys)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var rolledUp = RolledUp(key, request.Prefix, request.Delimiter);
                if (rolledUp is not null)
                {
                    if (key == request.KeyMarker || (request.KeyMarker is not null && rolledUp == request.KeyMarker) || prefixes.LastOrDefault() == rolledUp)
                    {
                        continue;
                    }

                    if (versions.Count + prefixes.Count == maxKeys)
                    {
                        return Truncated(versions, prefixes);
                    }

                    prefixes.Add(rolledUp);
                    continue;
                }

                var state = await ReadStateForListingAsync(key, cancellationToken);
                var entries = state.Versions.AsEnumerable();
                if (key == request.KeyMarker)
                {
                    if (request.VersionIdMarker is null)
                    {
                        continue;
                    }

                    var at = state.Versions.FindIndex(v => v.Record.VersionId == request.VersionIdMarker);
                    if (at < 0)
                    {
                        throw Failure(ObjectBackendFailure.InvalidArgument, "ListObjectVersions", key, $"InvalidArgument: no version {request.VersionIdMarker} to continue after");
                    }

                    markerFound = true;
                    entries = state.Versions.Skip(at + 1);
                }

                foreach (var (version, index) in entries.Select(v => (v, state.Versions.IndexOf(v))))
                {
                    if (versions.Count + prefixes.Count == maxKeys)
                    {
                        return Truncated(versions, prefixes);
                    }

                    var record = version.Record;
                    versions.Add(new ObjectVersionSummary(
                        key, record.VersionId, IsLatest: index == 0, record.DeleteMarker, record.DeleteMarker ? 0 : record.Size,
                        DateTimeOffset.FromUnixTimeMilliseconds(record.LastModifiedMs)));
                }
            }

            if (!markerFound)
            {
                throw Failure(ObjectBackendFailure.InvalidArgument, "ListObjectVersions", request.KeyMarker!, $"InvalidArgument: no version {request.VersionIdMarker} to continue after");
            }

            return new VersionListing(versions, prefixes, IsTruncated: false, null, null);
        }, cancellationToken);

        static VersionListing Truncated(List<ObjectVersionSummary> versions, List<string> prefixes)
        {
            // The next page starts after the last entry given: a version, or a whole common prefix.
            var lastVersion = versions.LastOrDefault();
            var lastPrefix = prefixes.LastOrDefault();
            return lastPrefix is not null && (lastVersion is null || CompareKeys(lastPrefix, lastVersion.Key) > 0)
                ? new VersionListing(versions, prefixes, IsTruncated: true, lastPrefix, null)
                : new VersionListing(versions, prefixes, IsTruncated: true, lastVersion!.Key, lastVersion.VersionId);
        }
    }

    /// <summary>Keys in the order S3 lists them: by their UTF-8 bytes, which is code point order.</summary>
    private static IComparer<string> KeyOrder { get; } = Comparer<string>.Create(CompareKeys);

    private static int CompareKeys(string left, string right)
    {
        // UTF-16 order differs from code point order only where surrogates meet U+E000..U+FFFF: move those apart.
        static int CodePointOrder(char c) => c >= 0xE000 ? c - 0x800 : c >= 0xD800 ? c + 0x2000 : c;
        var length = Math.Min(left.Length, right.Length);
        for (var i = 0; i < length; i++)
        {
            if (left[i] != right[i])
            {
                return CodePointOrder(left[i]) - CodePointOrder(right[i]);
            }
        }

        return left.Length - right.Length;
    }

    private static bool After(string key, string marker, bool markerIsPrefix) =>
        CompareKeys(key, marker) > 0 && !(markerIsPrefix && key.StartsWith(marker, StringComparison.Ordinal));

    private static string? RolledUp(string key, string prefix, string? delimiter)
    {
        if (string.IsNullOrEmpty(delimiter))
        {
            return null;
        }

        var cut = key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
        return cut < 0 ? null : key[..(cut + delimiter.Length)];
    }

    private static string EncodeContinuation(string marker, bool isPrefix) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes((isPrefix ? "p" : "k") + marker));

    private (string Marker, bool IsPrefix)? DecodeContinuation(string token, string prefix)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            if (text.Length > 1 && text[0] is 'p' or 'k')
            {
                return (text[1..], text[0] == 'p');
            }
        }
        catch (FormatException)
        {
        }

        throw Failure(ObjectBackendFailure.InvalidArgument, "ListObjects", prefix, $"InvalidArgument: '{token}' is not a continuation token of this folder");
    }

    /// <summary>
    /// Refuses what no key may be: empty, too long, an empty, '.' or '..' segment, a backslash or NUL, a first segment
    /// starting with '.' (the backend's own names), or a root-level name of the old store's tag and lock files.
    /// </summary>
    private static void ValidateKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var segments = key.Split('/');
        if (Encoding.UTF8.GetByteCount(key) > MaxKeyBytes
            || key.Contains('\\', StringComparison.Ordinal) || key.Contains('\0', StringComparison.Ordinal)
            || segments.Any(s => s is "" or "." or "..")
            || segments[0].StartsWith('.')
            || (segments.Length == 1 && IsLegacySidecar(key)))
        {
            throw new ArgumentException(
                $"'{key}' is not a key of a local folder: a key has no empty, '.' or '..' segment, no backslash, does not start with '.' " +
                $"(the folder's own names) and is not a root-level *{LegacyDatabaseExtension}{LegacyTagExtension} or *{LegacyDatabaseExtension}{LegacyLockExtension}.",
                nameof(key));
        }
    }

    private static bool IsLegacySidecar(string name) =>
        name.EndsWith(LegacyDatabaseExtension + LegacyTagExtension, StringComparison.Ordinal)
        || name.EndsWith(LegacyDatabaseExtension + LegacyLockExtension, StringComparison.Ordinal);

    private string PathOf(string key) => Path.Combine(Folder, key);

    private string JournalOf(string key) => Path.Combine([HistoryFolder, .. key.Split('/').Select(s => SegmentPrefix + s)]);

    private string VersionFilePath(string key, string versionId) => Path.Combine(JournalOf(key), VersionFilePrefix + versionId);

    /// <summary>Where the old store kept the tag of a root-level <c>NAME.sqlite</c>; null for any other key.</summary>
    private string? LegacyTagPath(string key) =>
        !key.Contains('/', StringComparison.Ordinal) && key.EndsWith(LegacyDatabaseExtension, StringComparison.Ordinal) ? PathOf(key) + LegacyTagExtension : null;

    /// <summary>Whether the folder may hold anything of <paramref name="key"/>; reads of one that holds nothing create nothing (not even a lock file).</summary>
    private bool MayHold(string key) => File.Exists(PathOf(key)) || File.Exists(Path.Combine(JournalOf(key), IndexFileName));

    /// <summary>For a key that holds nothing: If-Match on it fails, as S3's 404 for If-Match reads.</summary>
    private void ThrowIfMatchAsked(string key, ObjectSelector selector, string operation)
    {
        if (selector.VersionId is not null)
        {
            throw NoSuchVersion(key, selector.VersionId, operation);
        }

        if (selector.IfMatch is not null)
        {
            throw Failure(ObjectBackendFailure.ConditionFailed, operation, key, "NoSuchKey: the key has no object to match");
        }
    }

    private ObjectBackendException NoSuchVersion(string key, string versionId, string operation) =>
        Failure(ObjectBackendFailure.NoSuchVersion, operation, key, $"NoSuchVersion: the key has no version {versionId}");

    private async Task<LockFile> LockAsync(string key, CancellationToken cancellationToken)
    {
        var journal = JournalOf(key);
        Directory.CreateDirectory(journal);

        // Real time, not the objects' clock: a fake clock would never end the wait.
        return await LockFile.AcquireAsync(Path.Combine(journal, LockFileName), _lockFileWait, TimeProvider.System, cancellationToken);
    }

    /// <summary>The versions of a key for a listing: read under its lock when it has a journal, else its visible file alone (one put there by hand).</summary>
    private async Task<KeyState> ReadStateForListingAsync(string key, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(JournalOf(key)))
        {
            return ReadState(key);
        }

        using (await LockAsync(key, cancellationToken))
        {
            return ReadState(key);
        }
    }

    /// <summary>
    /// The versions of <paramref name="key"/>, newest first, as the files are now: the journal's, with the visible file as the
    /// current one while it is the file the newest entry recorded; else (a file put or changed by hand, or the old store's)
    /// the visible file on top. Entries whose bytes are gone (deleted by hand) are left out. Called under the key's lock.
    /// </summary>
    private KeyState ReadState(string key)
    {
        var records = ReadIndex(key);
        var path = PathOf(key);
        var visible = new FileInfo(path);
        var versions = new List<Version>();
        var newest = records.FirstOrDefault();
        var visibleIsNewest = newest is { DeleteMarker: false } && visible.Exists && visible.Length == newest.Size && visible.LastWriteTimeUtc.Ticks == newest.FileTicks;
        if (visible.Exists && !visibleIsNewest)
        {
            versions.Add(new Version(FoundByHand(key, visible), path));
        }

        foreach (var record in records)
        {
            if (record == newest && visibleIsNewest)
            {
                versions.Add(new Version(record, path));
            }
            else if (record.DeleteMarker)
            {
                versions.Add(new Version(record, ""));
            }
            else if (VersionFilePath(key, record.VersionId) is var kept && File.Exists(kept))
            {
                versions.Add(new Version(record, kept));
            }
        }

        return new KeyState(versions, IndexMatches: versions.Select(v => v.Record).SequenceEqual(records));
    }

    /// <summary>The visible file as an object no put of this backend made: the old store's tag when it has one, else one from its size and time.</summary>
    private VersionRecord FoundByHand(string key, FileInfo file)
    {
        var tagPath = LegacyTagPath(key);
        string? tag = null;
        var time = file.LastWriteTimeUtc;
        if (tagPath is not null && File.Exists(tagPath))
        {
            tag = File.ReadAllText(tagPath).Trim();
            time = File.GetLastWriteTimeUtc(tagPath);
        }

        var etag = tag is not null && IsVersionId(tag) ? tag : string.Create(CultureInfo.InvariantCulture, $"0-{file.LastWriteTimeUtc.Ticks:x}-{file.Length:x}");
        return new VersionRecord(
            etag, etag, DeleteMarker: false, file.Length, Milliseconds(time).ToUnixTimeMilliseconds(), DefaultContentType,
            new Dictionary<string, string>(StringComparer.Ordinal), file.LastWriteTimeUtc.Ticks);
    }

    private List<VersionRecord> ReadIndex(string key)
    {
        try
        {
            var json = File.ReadAllBytes(Path.Combine(JournalOf(key), IndexFileName));
            return JsonSerializer.Deserialize(json, JournalJsonContext.Default.ListVersionRecord)
                ?? throw new JsonException("it is null");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The journal {Path.Combine(JournalOf(key), IndexFileName)} cannot be read: {e.Message}", e);
        }
    }

    /// <summary>
    /// Records <paramref name="records"/> (newest first) as the journal of <paramref name="key"/>, after deleting the oldest
    /// noncurrent ones beyond the retention, and drops the old store's tag file, which the journal now stands for. Under the lock.
    /// </summary>
    private void Commit(string key, KeyState before, List<VersionRecord> records)
    {
        foreach (var old in records.Skip(1 + _retention.VersionsKept).ToList())
        {
            if (!old.DeleteMarker)
            {
                File.Delete(VersionFilePath(key, old.VersionId));
            }

            records.Remove(old);
        }

        if (records.Count == 0)
        {
            // A key with no version left has no journal to list (its lock file stays: deleting one races its next holder).
            File.Delete(Path.Combine(JournalOf(key), IndexFileName));
        }
        else if (!before.IndexMatches || !records.SequenceEqual(before.Versions.Select(v => v.Record)))
        {
            var temp = NewTempPath();
            try
            {
                File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(records, JournalJsonContext.Default.ListVersionRecord));
                File.Move(temp, Path.Combine(JournalOf(key), IndexFileName), overwrite: true);
            }
            finally
            {
                File.Delete(temp);
            }
        }

        if (LegacyTagPath(key) is { } tagPath)
        {
            File.Delete(tagPath);
        }
    }

    /// <summary>S3's delete without a version id: a deletion marker becomes the latest entry; the object it hid is kept as noncurrent.</summary>
    private void DeleteCurrent(string key, KeyState state, string? ifMatch)
    {
        var current = state.Current;
        if (ifMatch is not null && current?.Record.ETag != ifMatch)
        {
            throw Failure(ObjectBackendFailure.ConditionFailed, "DeleteObject", key, current is null ? "NoSuchKey: the key has no object to match" : $"PreconditionFailed: the object is {current.Record.ETag}");
        }

        if (state.Versions.Count == 0)
        {
            return;
        }

        if (current is not null && current.BytesPath == PathOf(key))
        {
            if (_retention.VersionsKept > 0)
            {
                File.Move(current.BytesPath, VersionFilePath(key, current.Record.VersionId));
            }
            else
            {
                File.Delete(current.BytesPath);
            }
        }

        var marker = new VersionRecord(
            NewVersionId(), "", DeleteMarker: true, 0, Now().ToUnixTimeMilliseconds(), "", new Dictionary<string, string>(StringComparer.Ordinal), 0);
        Commit(key, state, [marker, .. state.Versions.Select(v => v.Record)]);
    }

    /// <summary>S3's delete of one version: its bytes go; when it was the latest, the newest remaining entry becomes the latest.</summary>
    private void DeleteVersion(string key, KeyState state, string? ifMatch, string versionId)
    {
        var at = state.Versions.FindIndex(v => v.Record.VersionId == versionId);
        if (ifMatch is not null && (at < 0 || state.Versions[at].Record.ETag != ifMatch))
        {
            throw Failure(ObjectBackendFailure.ConditionFailed, "DeleteObject", key, $"PreconditionFailed: version {versionId} is not {ifMatch}");
        }

        if (at < 0)
        {
            return;
        }

        var deleted = state.Versions[at];
        if (!deleted.Record.DeleteMarker)
        {
            File.Delete(deleted.BytesPath);
        }

        var remaining = state.Versions.Where((_, i) => i != at).ToList();
        if (at == 0 && remaining.FirstOrDefault() is { Record.DeleteMarker: false } promoted)
        {
            File.Move(promoted.BytesPath, PathOf(key));
            remaining[0] = promoted with { Record = promoted.Record with { FileTicks = File.GetLastWriteTimeUtc(PathOf(key)).Ticks } };
        }

        Commit(key, state, [.. remaining.Select(v => v.Record)]);
    }

    /// <summary>The version a read means: the current one, or <see cref="ObjectSelector.VersionId"/>; checked against <see cref="ObjectSelector.IfMatch"/>.</summary>
    private Version? Select(string key, KeyState state, ObjectSelector selector, string operation)
    {
        var version = selector.VersionId is null ? state.Current : state.Versions.Find(v => v.Record.VersionId == selector.VersionId);
        if (version is { Record.DeleteMarker: true })
        {
            version = null;
        }

        if (version is null && selector.VersionId is not null)
        {
            throw NoSuchVersion(key, selector.VersionId, operation);
        }

        if (selector.IfMatch is not null && version?.Record.ETag != selector.IfMatch)
        {
            if (version is null && selector.VersionId is not null)
            {
                return null;
            }

            throw Failure(ObjectBackendFailure.ConditionFailed, operation, key, version is null ? "NoSuchKey: the key has no object to match" : $"PreconditionFailed: the object is {version.Record.ETag}");
        }

        return version;
    }

    private static ObjectInfo InfoOf(string key, Version version)
    {
        var record = version.Record;
        return new ObjectInfo(
            key, record.ETag, record.VersionId, record.Size, DateTimeOffset.FromUnixTimeMilliseconds(record.LastModifiedMs),
            new ObjectMetadata(record.ContentType, record.Metadata));
    }

    /// <summary>The bytes <paramref name="range"/> asks for of <paramref name="file"/> (all of them for none, or for <see cref="ObjectRange.All"/> of an empty object).</summary>
    private Stream Slice(FileStream file, long size, ObjectRange? range, string key)
    {
        if (range is not { } asked || (asked.Offset == 0 && (asked.Length is null || size == 0)))
        {
            return file;
        }

        if (asked.Offset < 0 || asked.Offset >= size || asked.Length is <= 0)
        {
            throw Failure(ObjectBackendFailure.Refused, "GetObject", key, string.Create(CultureInfo.InvariantCulture, $"InvalidRange: bytes {asked.Offset}-{asked.Offset + asked.Length - 1} of an object of {size}"));
        }

        file.Position = asked.Offset;
        return new ObjectBodyStream(file, Math.Min(asked.Length ?? long.MaxValue, size - asked.Offset));
    }

    /// <summary>Refuses a put whose file would sit where a folder of other keys is, or below a file that is another key.</summary>
    private void RefuseFolderClash(string key, string path)
    {
        if (Directory.Exists(path))
        {
            throw Failure(ObjectBackendFailure.Refused, "PutObject", key, $"{path} is a folder of other keys; a local folder cannot hold a key and keys below it");
        }

        for (var parent = Path.GetDirectoryName(path); parent is not null && parent.Length > Folder.Length; parent = Path.GetDirectoryName(parent))
        {
            if (File.Exists(parent))
            {
                throw Failure(ObjectBackendFailure.Refused, "PutObject", key, $"{parent} is an object; a local folder cannot hold a key and keys below it");
            }
        }
    }

    /// <summary>Writes the body to a new temporary file, flushed to disk; refuses bytes that differ from the body's length or CRC32, keeping nothing.</summary>
    private async Task<string> StageAsync(string key, ObjectBody body, CancellationToken cancellationToken)
    {
        var temp = NewTempPath();
        try
        {
            var crc = new Crc32();
            long length = 0;
            await using (var source = body.Open())
            await using (var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileBufferSize, FileOptions.Asynchronous))
            {
                var buffer = new byte[FileBufferSize];
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    crc.Append(buffer.AsSpan(0, read));
                    await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    length += read;
                }

                target.Flush(flushToDisk: true);
            }

            if (length != body.Length)
            {
                throw Failure(ObjectBackendFailure.Refused, "PutObject", key, string.Create(CultureInfo.InvariantCulture, $"IncompleteBody: {length} bytes arrived of {body.Length}"));
            }

            if (body.Crc32 is { } expected && Crc32Of(crc) is var actual && actual != expected)
            {
                throw Failure(ObjectBackendFailure.Refused, "PutObject", key, $"BadDigest: the CRC32 of the bytes that arrived is {actual}, not {expected}");
            }

            return temp;
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    // Base64 of the 4 big-endian bytes, as S3 writes checksums.
    private static string Crc32Of(Crc32 crc)
    {
        Span<byte> value = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(value, crc.GetCurrentHashAsUInt32());
        return Convert.ToBase64String(value);
    }

    private string NewTempPath()
    {
        var folder = Path.Combine(Folder, TempFolderName);
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, Guid.NewGuid().ToString("N"));
    }

    /// <summary>
    /// The visible files under <paramref name="prefix"/> as keys, walking only the folder the prefix names; the root's
    /// hidden names and the old store's tag and lock files are not objects.
    /// </summary>
    private IEnumerable<(string Key, FileInfo File)> VisibleFiles(string prefix)
    {
        var cut = prefix.LastIndexOf('/');
        var start = cut < 0 ? Folder : Path.Combine(Folder, prefix[..cut]);
        if (prefix.StartsWith('.') || !Directory.Exists(start))
        {
            return [];
        }

        var below = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true };
        var folder = new DirectoryInfo(start);
        var files = cut >= 0
            ? folder.EnumerateFiles("*", below)

            // At the root, the hidden names are the backend's own (and the old store's): never walked.
            : folder.EnumerateFiles().Where(f => !f.Name.StartsWith('.') && !IsLegacySidecar(f.Name))
                .Concat(folder.EnumerateDirectories()
                    .Where(d => !d.Name.StartsWith('.') && d.Name.StartsWith(prefix, StringComparison.Ordinal))
                    .SelectMany(d => d.EnumerateFiles("*", below)));
        return files
            .Select(f => (Key: Path.GetRelativePath(Folder, f.FullName).Replace(Path.DirectorySeparatorChar, '/'), File: f))
            .Where(f => f.Key.StartsWith(prefix, StringComparison.Ordinal));
    }

    /// <summary>The keys under <paramref name="prefix"/> that have a journal (possibly only noncurrent versions and deletion markers).</summary>
    private IEnumerable<string> JournaledKeys(string prefix)
    {
        var cut = prefix.LastIndexOf('/');
        var start = cut < 0 ? HistoryFolder : JournalOf(prefix[..cut]);
        if (prefix.StartsWith('.') || !Directory.Exists(start))
        {
            return [];
        }

        return Directory.EnumerateFiles(start, IndexFileName, new EnumerationOptions { RecurseSubdirectories = true, MatchType = MatchType.Simple })
            .Where(index => Path.GetFileName(index) == IndexFileName)
            .Select(index => string.Join('/', Path.GetRelativePath(HistoryFolder, Path.GetDirectoryName(index)!)
                .Split(Path.DirectorySeparatorChar).Select(s => s[SegmentPrefix.Length..])))
            .Where(key => key.StartsWith(prefix, StringComparison.Ordinal));
    }

    private DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds());

    private static DateTimeOffset Milliseconds(DateTime utc) =>
        DateTimeOffset.FromUnixTimeMilliseconds(new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)).ToUnixTimeMilliseconds());

    private static string NewVersionId() => Guid.NewGuid().ToString("N");

    // The counter is for people reading the journal; the random part keeps an ETag unique even for the same bytes.
    private static string NextETag(string? previous)
    {
        var counter = previous is not null
            && long.TryParse(previous.AsSpan(0, Math.Max(0, previous.IndexOf('-'))), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? n
                : 0;
        return string.Create(CultureInfo.InvariantCulture, $"{counter + 1}-{Guid.NewGuid():N}");
    }

    // Version ids this backend makes or reads from the old store: also what makes one safe in a file name.
    private static bool IsVersionId(string value) => value.Length is >= 1 and <= 128 && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private ObjectBackendException Failure(ObjectBackendFailure failure, string operation, string key, string detail, Exception? inner = null) =>
        new(failure, operation, Describe(key), detail, inner);

    /// <summary>Runs a call with the key checked, and its failures as the port's: a lock held too long or the disk's errors are worth a retry, a denied access is not.</summary>
    private async Task<T> CallAsync<T>(string operation, string key, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        if (operation is not ("ListObjects" or "ListObjectVersions"))
        {
            ValidateKey(key);
        }

        try
        {
            return await call();
        }
        catch (Exception e) when (e is not ObjectBackendException && Classify(e, cancellationToken) is { } failure)
        {
            throw Failure(failure, operation, key, $"{e.GetType().Name}: {e.Message}", e);
        }
    }

    private static ObjectBackendFailure? Classify(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        OperationCanceledException when cancellationToken.IsCancellationRequested => null,
        // Another attempt would fail the same: no access, a path the file system cannot hold, a journal that is not one.
        UnauthorizedAccessException or PathTooLongException or InvalidDataException => ObjectBackendFailure.Refused,
        StorageUnavailableException or IOException => ObjectBackendFailure.Unavailable,
        _ => null,
    };

    /// <summary>One entry of a key's journal: a version or a deletion marker, and the visible file's time when it was current.</summary>
    private sealed record VersionRecord(
        [property: JsonPropertyName("version_id")] string VersionId,
        [property: JsonPropertyName("etag")] string ETag,
        [property: JsonPropertyName("delete_marker")] bool DeleteMarker,
        [property: JsonPropertyName("size")] long Size,
        [property: JsonPropertyName("last_modified_ms")] long LastModifiedMs,
        [property: JsonPropertyName("content_type")] string ContentType,
        [property: JsonPropertyName("metadata")] Dictionary<string, string> Metadata,
        [property: JsonPropertyName("file_ticks")] long FileTicks);

    /// <summary>A version and where its bytes are (empty for a deletion marker).</summary>
    private sealed record Version(VersionRecord Record, string BytesPath);

    /// <summary>A key's versions, newest first, and whether the journal on disk already says exactly that.</summary>
    private sealed record KeyState(List<Version> Versions, bool IndexMatches)
    {
        /// <summary>The object a plain read finds: the newest entry unless it is a deletion marker.</summary>
        public Version? Current => Versions.FirstOrDefault() is { Record.DeleteMarker: false } newest ? newest : null;
    }

    [JsonSerializable(typeof(List<VersionRecord>))]
    private sealed partial class JournalJsonContext : JsonSerializerContext;
}
