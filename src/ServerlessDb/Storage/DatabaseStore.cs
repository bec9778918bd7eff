using System.Collections.Concurrent;
using System.Globalization;
using ServerlessDb.Domain;
using ServerlessDb.Errors;
using ServerlessDb.Storage.Chunked;
using ServerlessDb.Vfs;

namespace ServerlessDb.Storage;

/// <summary>
/// The store: databases as objects of an <see cref="IObjectBackend"/> (S3, a local folder) at the keys of
/// <see cref="ObjectKeys"/>, cached in the process's own <see cref="CacheFolder"/> under <c>cache/{NAME}/</c> with one
/// immutable file per ETag, within <see cref="StoreOptions.CacheMaxBytes"/> in all. Everything that is not transport
/// lives here: reads revalidate with If-None-Match (a "not modified" moves no bytes); commits are conditional puts
/// (If-Match, or If-None-Match: * for a new database) carrying their lineage, so a lost answer or a condition failure
/// is judged by what is stored (<see cref="StoredCommit"/>), never guessed; the whole-file and chunked layouts; history;
/// staging and links where the backend has links. Transient failures are retried with exponential backoff and jitter
/// until <see cref="StoreOptions.RetryDeadline"/>; lost conditions are never retried here, they become
/// <see cref="WriteConflictException"/>.
/// </summary>
internal sealed partial class DatabaseStore : IDatabaseStore, IDatabaseCatalog
{
    // Checking whether a commit landed after its retries ran out gets a budget of its own, so the
    // answer is known rather than guessed; it is short, since the request is already late.
    private static readonly TimeSpan SettleDeadline = TimeSpan.FromSeconds(3);

    private const int FileBufferSize = 81920;
    private const string SqliteContentType = "application/vnd.sqlite3";
    private static readonly TimeSpan DefaultRetryBaseDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(2);

    private readonly IObjectBackend _objects;
    private readonly IObjectLinks? _links;
    private readonly StoreOptions _options;
    private readonly TimeProvider _time;
    private readonly BackendRetry _retry;
    private readonly DatabaseCaches _caches;
    private readonly ObjectKeys _keys;

    // The commit record of the version of each database this process read or wrote last, so that the
    // next commit on it can carry the lineage forward.
    private readonly ConcurrentDictionary<string, StoredCommit> _lastSeen = new(StringComparer.Ordinal);

    // The version id of the version of each database this process downloaded or committed last (null where the
    // backend keeps no versions), so a link to that version needs no request.
    private readonly ConcurrentDictionary<string, (string ETag, string? VersionId)> _versionIds = new(StringComparer.Ordinal);

    /// <summary>A store caching in <paramref name="cacheFolder"/>'s cache folder, which no other store may use; the caller keeps owning it.</summary>
    /// <param name="links">the backend's links, where it has them: they make staging and links to versions possible.</param>
    public DatabaseStore(IObjectBackend objects, IObjectLinks? links, StoreOptions options, CacheFolder cacheFolder, TimeProvider? timeProvider = null)
        : this(objects, links, options, cacheFolder, timeProvider ?? TimeProvider.System, DefaultRetryBaseDelay)
    {
    }

    internal DatabaseStore(IObjectBackend objects, IObjectLinks? links, StoreOptions options, CacheFolder cacheFolder, TimeProvider timeProvider, TimeSpan retryBaseDelay)
    {
        ArgumentNullException.ThrowIfNull(objects);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(cacheFolder);
        _objects = objects;
        _links = links;
        _options = options;
        _keys = new ObjectKeys(options.Prefix);
        _time = timeProvider;
        CacheFolder = cacheFolder;
        _caches = new DatabaseCaches(cacheFolder.CacheDirectory, options.CacheMaxBytes, timeProvider, keepSpares: options.ChunkSize is not null);
        if (options.LazyReadMinBytes is not null)
        {
            LazyFiles = new LazyFiles(new LazyReadOptions(cacheFolder.BlocksDirectory, options.CacheMaxBytes));
        }

        // Each call's deadline (see RunAsync), not a count, ends the retries.
        _retry = new BackendRetry(
            timeProvider, retryBaseDelay, MaxRetryDelay, options.RetryDeadline, deadlineEndsAttempt: true,
            alsoRetry: e => e is CommitNotYetVisibleException or TransferCorruptedException);
    }

    /// <summary>What this store offers beyond <see cref="IDatabaseStore"/>: its catalog and history always; staging and links only where its backend has links.</summary>
    public StoreCapabilities Capabilities => new(
        Catalog: this, History: this, Staging: _links is null ? null : this, Links: _links is null ? null : this,
        InPlaceWrites: LazyFiles is null || _options.ChunkSize is null ? null : this);

    /// <summary>The folder this store caches in.</summary>
    public CacheFolder CacheFolder { get; }

    /// <summary>The total size of the cached version files.</summary>
    internal long CachedBytes => _caches.CachedBytes;

    public Task<DatabaseSnapshot> GetAsync(string database, TimeSpan? maxStaleness, CancellationToken cancellationToken) =>
        _caches.GetAsync(database, maxStaleness, FetchAsync, cancellationToken);

    /// <summary>A head of the database's object; the commit record it carries is remembered, so the next commit extends its lineage.</summary>
    public async Task<DatabaseETag> CurrentETagAsync(string database, CancellationToken cancellationToken)
    {
        var key = KeyFor(database);
        var stored = await RunAsync("HeadObject", key, token => InspectAsync(key, token), cancellationToken);
        if (stored is null)
        {
            return DatabaseETag.Missing;
        }

        _lastSeen[database] = stored;
        return new DatabaseETag(stored.ETag);
    }

    public async Task<CommitReceipt> CommitAsync(string database, DatabaseETag basedOn, string filePath, CancellationToken cancellationToken)
    {
        var cache = _caches.ForCommit(database, filePath);
        var startedAt = _time.GetTimestamp();
        var body = _options.ChunkSize is { } chunkSize && new FileInfo(filePath).Length >= _options.ChunkedFromBytes
            ? await PrepareChunkedCommitAsync(database, basedOn, filePath, chunkSize, cancellationToken)
            : await CommitBody.ForFileAsync(filePath, cancellationToken);
        var (version, receipt) = await PutCommitAsync(database, basedOn, body, cancellationToken);
        _lengths[database] = new FileInfo(filePath).Length;
        cache.InstallCommitted(version, filePath, startedAt, isStoredObject: body.Manifest is null);
        return receipt;
    }

    /// <summary>
    /// Commits <paramref name="body"/> at the database's key on condition of <paramref name="basedOn"/>, carrying the
    /// lineage: a condition failure is judged by what is stored, and an attempt without an answer is settled, so the
    /// outcome is known, never guessed (<see cref="CommitOutcomeUnknownException"/> only when it cannot be).
    /// </summary>
    private async Task<(DatabaseETag Version, CommitReceipt Receipt)> PutCommitAsync(string database, DatabaseETag basedOn, CommitBody body, CancellationToken cancellationToken)
    {
        var key = KeyFor(database);
        var commitId = Guid.NewGuid().ToString("N");
        var lineage = StoredCommit.Extend(commitId, basedOn, LineageOf(database, basedOn));
        var metadata = new ObjectMetadata(body.Manifest is null ? SqliteContentType : "application/json", StoredMetadata.OfCommit(body.Crc32, body.Manifest is not null, lineage));
        var condition = basedOn.ETag is { } etagBasedOn ? PutCondition.IfMatch(etagBasedOn) : PutCondition.IfNoneExists;

        // Set when an attempt ended without an answer (a timeout, a reset): that put may still land.
        var unanswered = false;
        string etag;
        string? putVersionId = null;
        try
        {
            etag = await RunAsync("PutObject", key, async token =>
            {
                try
                {
                    var put = await _objects.PutAsync(key, new ObjectBody(body.Open, body.Length, body.Crc32), condition, metadata, token);
                    putVersionId = put.VersionId;
                    return put.ETag;
                }
                catch (ObjectBackendException e) when (e.Failure is ObjectBackendFailure.ConditionFailed or ObjectBackendFailure.Conflict)
                {
                    // Never taken for a conflict unchecked: a layer below this one (the HTTP stack) may
                    // have sent the put twice, and this failure may be the answer to our own landed commit.
                    var stored = await InspectAsync(key, token);
                    var verdict = StoredCommit.Judge(stored, basedOn, commitId);
                    return verdict.Check switch
                    {
                        CommitCheck.Landed => verdict.ETag!,
                        CommitCheck.NotYetChanged => throw new CommitNotYetVisibleException(e),
                        CommitCheck.Superseded => throw new WriteConflictException(
                            $"Database '{database}' changed since version {basedOn} was read ({_objects.Describe(key)} is now {stored?.ETag ?? "deleted"}, " +
                            $"written by another commit: {e.Detail}); nothing was uploaded.",
                            e),
                        _ => throw Unknown(database, key, $"{_objects.Name} answered {e.Detail}, and more commits have landed since version {basedOn} than the stored object remembers", e),
                    };
                }
                catch (Exception e) when (e is not ObjectBackendException { Answered: true } and not ServerlessDbException and not CommitNotYetVisibleException)
                {
                    unanswered = true;
                    throw;
                }
            }, cancellationToken);
        }
        catch (StorageUnavailableException e) when (unanswered || e.InnerException is CommitNotYetVisibleException)
        {
            etag = await SettleAsync(database, key, basedOn, commitId, unanswered, e);
        }

        var version = new DatabaseETag(etag);
        _lastSeen[database] = new StoredCommit(etag, lineage);
        RememberLayout(database, etag, body.Manifest);
        if (putVersionId is not null)
        {
            _versionIds[database] = (etag, putVersionId);
        }

        return (version, new CommitReceipt(version, body.UploadedBytes));
    }

    /// <summary>
    /// Lists the databases: the objects directly under the prefix, with <c>/</c> as delimiter so that nothing in a folder
    /// below it is read; keys that are not <c>{Prefix}{NAME}.sqlite</c> with a valid NAME are skipped. Backends list keys
    /// in UTF-8 byte order, which is the order of the names' file names.
    /// </summary>
    public async Task<DatabasePage> ListAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var databases = new List<DatabaseEntry>(Math.Min(limit, 1000));
        string? continuation = null;
        while (true)
        {
            var request = new ListRequest(
                _options.Prefix,
                Delimiter: "/",
                StartAfter: continuation is null && after is not null ? KeyFor(after) : null,
                MaxKeys: Math.Min(limit - databases.Count, 1000),
                Continuation: continuation);
            var page = await RunAsync("ListObjectsV2", _options.Prefix, token => _objects.ListAsync(request, token), cancellationToken);
            var objects = page.Objects;
            for (var i = 0; i < objects.Count; i++)
            {
                if (_keys.DatabaseOf(objects[i].Key) is not { } name)
                {
                    continue;
                }

                databases.Add(new DatabaseEntry(name, objects[i].Size, objects[i].LastModified));
                if (databases.Count == limit)
                {
                    var more = page.NextContinuation is not null || i < objects.Count - 1;
                    return new DatabasePage(databases, more ? name : null);
                }
            }

            if (page.NextContinuation is null)
            {
                return new DatabasePage(databases, Next: null);
            }

            continuation = page.NextContinuation;
        }
    }

    /// <summary>
    /// The retries ran out while our put may have landed: look once more (with a budget of its own)
    /// and answer what is known. Returns the ETag when our commit is stored.
    /// </summary>
    private async Task<string> SettleAsync(string database, string key, DatabaseETag basedOn, string commitId, bool unanswered, StorageUnavailableException failure)
    {
        StoredCommit? stored;
        try
        {
            stored = await RunAsync("HeadObject", key, token => InspectAsync(key, token), CancellationToken.None, SettleDeadline);
        }
        catch (StorageUnavailableException e)
        {
            throw Unknown(database, key, $"{failure.Message}; checking whether it landed failed too ({e.Message})", failure);
        }

        var verdict = StoredCommit.Judge(stored, basedOn, commitId);
        return verdict.Check switch
        {
            CommitCheck.Landed => verdict.ETag!,
            CommitCheck.Superseded => throw new WriteConflictException(
                $"Database '{database}' changed since version {basedOn} was read ({_objects.Describe(key)} now holds another commit); nothing was uploaded.",
                failure),
            CommitCheck.NotYetChanged when !unanswered => throw new StorageUnavailableException(
                $"{failure.Message}; the stored object is still version {basedOn}, so nothing was committed.", failure),
            _ => throw Unknown(database, key, failure.Message, failure),
        };
    }

    private CommitOutcomeUnknownException Unknown(string database, string key, string why, Exception inner) =>
        new($"The write to database '{database}' may have been committed: {why}; {_objects.Describe(key)} could not show whether it holds this commit. " +
            "Read the database before retrying, or retry with the same Idempotency-Key.",
            inner);

    private async Task<FetchedVersion> FetchAsync(CachedDatabase cache, DatabaseETag? known)
    {
        var key = KeyFor(cache.Name);

        // Not the caller's token: the fetch is shared, and the deadlines bound it (the GET's, then each chunk's).
        var received = await RunAsync("GetObject", key, async token =>
        {
            using var read = await _objects.GetAsync(key, new ObjectSelector(IfNoneMatch: known?.ETag, Range: ObjectRange.All), token);
            return read.IsNotModified ? Received.Done(FetchedVersion.StillCurrent)
                : read.Info is null ? Received.Done(FetchedVersion.Missing)
                : await ReceiveAsync(cache, read, _objects.Describe(key), token);
        }, CancellationToken.None);
        var (fetched, manifest) = await CompleteAsync(cache, received, CancellationToken.None);
        if (received.Info is { } info)
        {
            _lastSeen[cache.Name] = StoredMetadata.CommitOf(info.ETag, info.Metadata);
            _versionIds[cache.Name] = (info.ETag, info.VersionId);
            RememberLayout(cache.Name, info.ETag, manifest);
        }

        return fetched;
    }

    /// <summary>
    /// What a GET of the database's key (current or old version) brought: the file itself, streamed to a new file in the
    /// cache folder, or a manifest, read whole, whose chunks <see cref="CompleteAsync"/> fetches after the GET.
    /// </summary>
    private async Task<Received> ReceiveAsync(CachedDatabase cache, ObjectRead read, string source, CancellationToken token)
    {
        var info = read.Info!;
        if (StoredMetadata.IsManifest(info.Metadata))
        {
            var (manifest, bytes) = await ReadManifestAsync(cache.Name, read, source, token);
            return new Received(null, info, source, manifest, bytes);
        }

        var temp = cache.NewTempPath();
        await SaveAsync(read, temp, token);
        return new Received(FetchedVersion.Downloaded(new DatabaseETag(info.ETag), temp, source), info, source);
    }

    /// <summary>
    /// The version <paramref name="received"/> names as a file: the file the GET brought, or the file its manifest's chunks
    /// make (<see cref="AssembleManifestAsync"/>), each chunk one backend call with its own retry deadline, so a large
    /// database is not cut short by the deadline of one call.
    /// </summary>
    private async Task<(FetchedVersion Fetched, ChunkManifest? Manifest)> CompleteAsync(CachedDatabase cache, Received received, CancellationToken cancellationToken)
    {
        if (received.Manifest is not { } manifest)
        {
            return (received.Fetched!.Value, null);
        }

        var fetched = await AssembleManifestAsync(cache, new DatabaseETag(received.Info!.ETag), manifest, received.ManifestBytes, received.Source, cancellationToken);
        return (fetched, manifest);
    }

    /// <summary>What one GET of a database's key brought: a version fetched (or none to fetch), or a manifest whose chunks are still to fetch.</summary>
    private sealed record Received(FetchedVersion? Fetched, ObjectInfo? Info, string Source, ChunkManifest? Manifest = null, long ManifestBytes = 0)
    {
        public static Received Done(FetchedVersion fetched) => new(fetched, null, "");
    }

    /// <summary>
    /// Streams a read's body to a new file at <paramref name="path"/>, checking it against the CRC32 its commit
    /// stored (see <see cref="ObjectChecksum"/>); deletes what it wrote if the transfer fails or the bytes differ.
    /// </summary>
    /// <exception cref="TransferCorruptedException">the bytes differ from the stored CRC32 (retried: the next attempt downloads again).</exception>
    private async Task SaveAsync(ObjectRead read, string path, CancellationToken token)
    {
        var info = read.Info!;
        try
        {
            string crc32;
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileBufferSize, FileOptions.Asynchronous))
            {
                crc32 = await ObjectChecksum.CopyAsync(read.Body!, file, token);
            }

            if (ObjectChecksum.Stored(info.Metadata) is { } stored && stored != crc32)
            {
                throw new TransferCorruptedException(
                    $"the {new FileInfo(path).Length} bytes downloaded of {_objects.Describe(info.Key)} (ETag {info.ETag}) have CRC32 {crc32}, and their commit stored {stored}");
            }
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    /// <summary>The stored object's ETag and the commit it records, or null when there is no object.</summary>
    private async Task<StoredCommit?> InspectAsync(string key, CancellationToken token) =>
        await _objects.HeadAsync(key, ObjectSelector.Current, token) is { } head ? StoredMetadata.CommitOf(head.ETag, head.Metadata) : null;

    private IReadOnlyList<CommitLink> LineageOf(string database, DatabaseETag version) =>
        _lastSeen.TryGetValue(database, out var seen) && seen.ETag == version.ETag ? seen.Lineage : [];

    /// <summary>
    /// Runs one backend call under <see cref="BackendRetry"/> (a transient failure is retried until the deadline,
    /// STORAGE_RETRY_SECONDS unless given, which also cuts an attempt short) and turns its failures into domain
    /// errors: the deadline, and any other backend failure at once, become <see cref="StorageUnavailableException"/>.
    /// </summary>
    private async Task<T> RunAsync<T>(
        string operation,
        string key,
        Func<CancellationToken, Task<T>> attempt,
        CancellationToken cancellationToken,
        TimeSpan? deadline = null)
    {
        try
        {
            return await _retry.RunAsync(attempt, cancellationToken, deadline);
        }
        catch (BackendRetryExpiredException e)
        {
            var seconds = (deadline ?? _options.RetryDeadline).TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            throw new StorageUnavailableException(
                $"{_objects.Name} did not answer {operation} on {_objects.Describe(key)} within {seconds}s: {ObjectBackendException.Describe(e.LastError)}",
                e.InnerException);
        }
        catch (ObjectBackendException e) when (e.Answered)
        {
            throw new StorageUnavailableException($"{_objects.Name} refused {operation} on {_objects.Describe(key)}: {e.Detail}", e);
        }
        catch (ObjectBackendException e)
        {
            throw new StorageUnavailableException($"{_objects.Name} client failed {operation} on {_objects.Describe(key)}: {e.InnerException?.Message ?? e.Detail}", e);
        }
    }

    private string KeyFor(string database) => _keys.Database(database);

    /// <summary>What a commit PUTs at the database's key: the working copy itself, or the manifest of its chunks (uploaded first).</summary>
    /// <param name="Length">the bytes the put sends: the file, or the manifest.</param>
    /// <param name="UploadedBytes">the bytes the commit stores in all: the file, or the new chunks and the manifest.</param>
    private sealed record CommitBody(string Crc32, long Length, long UploadedBytes, ChunkManifest? Manifest, Func<Stream> Open)
    {
        public static CommitBody ForManifest(byte[] json, long chunkBytes, ChunkManifest manifest) =>
            new(ObjectChecksum.Of(json), json.Length, chunkBytes + json.Length, manifest, () => new MemoryStream(json, writable: false));

        public static async Task<CommitBody> ForFileAsync(string filePath, CancellationToken cancellationToken) => new(
            await ObjectChecksum.OfFileAsync(filePath, cancellationToken),
            new FileInfo(filePath).Length,
            new FileInfo(filePath).Length,
            Manifest: null,
            () => new FileStream(filePath, FileMode.Open, FileAccess.Read, FileShare.Read, FileBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan));
    }

    /// <summary>
    /// A conditional put failed while the object is still the version it was based on: another
    /// conditional write (perhaps our own, re-sent below us) is under way. S3 asks for a retry.
    /// </summary>
    private sealed class CommitNotYetVisibleException(ObjectBackendException conditionFailure)
        : Exception($"the conditional PUT failed ({conditionFailure.Detail}) while the object was still the version it was based on", conditionFailure);
}

/// <summary>What <see cref="DatabaseStore"/> is configured with.</summary>
/// <param name="Prefix">key prefix; database NAME lives at <c>{Prefix}{NAME}.sqlite</c>.</param>
/// <param name="RetryDeadline">how long one backend call is retried (backoff with jitter) before the request gets a 503.</param>
/// <param name="CacheMaxBytes">
/// the bound on the total size of cached version files: beyond it the least recently used files no
/// reader holds are evicted. Working copies are not counted.
/// </param>
/// <param name="ChunkSize">
/// the chunk size of the chunked layout (STORAGE_LAYOUT=chunked or auto), in which commits store a manifest and the chunks
/// that changed; null for the whole-file layout, in which each commit stores the file. Either layout reads both.
/// </param>
/// <param name="LazyReadMinBytes">
/// LAZY_READ_MIN_BYTES: a database at least this large that the process has no current file of is read in place
/// through the lazy VFS, its block cache bounded by <paramref name="CacheMaxBytes"/> too; null: every read downloads.
/// </param>
/// <param name="ChunkedFromBytes">
/// with a <paramref name="ChunkSize"/>, the size from which a commit stores the chunked layout (STORAGE_LAYOUT=auto);
/// a smaller file is stored whole. 0: every commit is chunked (STORAGE_LAYOUT=chunked).
/// </param>
internal sealed record StoreOptions(string Prefix, TimeSpan RetryDeadline, long CacheMaxBytes, int? ChunkSize = null, long? LazyReadMinBytes = null, long ChunkedFromBytes = 0);
