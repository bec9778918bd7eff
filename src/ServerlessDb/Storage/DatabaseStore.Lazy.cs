using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using ServerlessDb.Errors;
using ServerlessDb.Storage.Chunked;
using ServerlessDb.Vfs;

namespace ServerlessDb.Storage;

/// <summary>
/// Lazy reads (LAZY_READ_MIN_BYTES): a database at least that large that this process has no current file of is read
/// in place, through the lazy VFS (<see cref="LazyFiles"/>), instead of downloaded whole. Its current version is pinned
/// by the ETag one HEAD returns: a chunked version's blocks are its chunks (content-addressed, so nothing can replace
/// their bytes); a whole-file version's are fixed windows of the one object, each fetched by a ranged GET conditional
/// on the pinned ETag, so a read never mixes versions: a commit that replaces the object makes the next fetch fail
/// (<see cref="PinnedVersionReplacedException"/>), never serve other bytes. Every fetch is one backend call under the
/// store's retries, within the request's deadline.
/// </summary>
internal sealed partial class DatabaseStore : IInPlaceWrites
{
    /// <summary>The window of a whole-file object that is one block of the lazy reader's cache.</summary>
    public const int WholeFileBlockBytes = 2 * 1024 * 1024;

    // Pinning asks twice (a HEAD, then the manifest it names); a commit between them makes it start again, this often at most.
    private const int PinAttempts = 3;

    // The length of each database's current version as this process last saw it: a database known to be small is
    // revalidated as a whole file (one conditional GET), one not known to be is asked about first (one HEAD).
    private readonly ConcurrentDictionary<string, long> _lengths = new(StringComparer.Ordinal);

    // The manifest GETs under way, by database, ETag and how they ask (the current one on condition of its ETag, or a
    // kept version by its id, whose failures differ): cold reads of one version at once share one (single flight).
    private readonly ConcurrentDictionary<(string Database, string ETag, string? VersionId), Lazy<Task<ChunkManifest>>> _manifestsInFlight = new();

    /// <summary>The lazy reader's files and block cache; null when lazy reads are off.</summary>
    internal LazyFiles? LazyFiles { get; }

    /// <summary>
    /// One read of the current version of <paramref name="database"/>: the cached file when this process has it (validated
    /// within <paramref name="maxStaleness"/>, or found current), a download when the database is smaller than
    /// LAZY_READ_MIN_BYTES, and otherwise the version pinned and read lazily until <paramref name="readDeadline"/>.
    /// </summary>
    /// <exception cref="StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    /// <exception cref="DatabaseCorruptException">the stored object is not a whole SQLite file or a valid manifest.</exception>
    public async Task<DatabaseRead> ReadAsync(string database, TimeSpan? maxStaleness, CancellationToken readDeadline, CancellationToken cancellationToken)
    {
        if (LazyFiles is not { } lazyFiles || _options.LazyReadMinBytes is not { } lazyFrom)
        {
            return new DatabaseRead(await GetAsync(database, maxStaleness, cancellationToken));
        }

        var cache = _caches.For(database);
        if (maxStaleness is { } window && cache.TryHoldFresh(window) is { } fresh)
        {
            return new DatabaseRead(fresh);
        }

        if (_lengths.TryGetValue(database, out var known) && known < lazyFrom)
        {
            return await DownloadAsync(database, cancellationToken);
        }

        var pinned = await PinCurrentAsync(database, cancellationToken);
        if (pinned is null || pinned.Length < lazyFrom)
        {
            return await DownloadAsync(database, cancellationToken);
        }

        _lengths[database] = pinned.Length;
        if (cache.TryHold(pinned.ETag) is { } cached)
        {
            return new DatabaseRead(cached);
        }

        return new DatabaseRead(pinned.ETag, lazyFiles.Open(pinned, readDeadline), pinned);
    }

    /// <summary>The current version as a local file (revalidated, or downloaded), its length remembered.</summary>
    private async Task<DatabaseRead> DownloadAsync(string database, CancellationToken cancellationToken)
    {
        var snapshot = await GetAsync(database, maxStaleness: null, cancellationToken);
        _lengths[database] = new FileInfo(snapshot.FilePath).Length;
        return new DatabaseRead(snapshot);
    }

    /// <summary>
    /// A write in place on <paramref name="database"/>, or null when it should run on a whole local copy: lazy reads are
    /// off, the database is missing, smaller than LAZY_READ_MIN_BYTES, cached here as a file, or not stored chunked (a
    /// commit in place replaces only the chunks it changed, so only a chunked base has them).
    /// </summary>
    public async Task<InPlaceWrite?> BeginAsync(string database, string overlayDirectory, CancellationToken deadline, CancellationToken cancellationToken)
    {
        if (LazyFiles is not { } lazyFiles || _options.LazyReadMinBytes is not { } lazyFrom || _options.ChunkSize is null
            || (_lengths.TryGetValue(database, out var known) && known < lazyFrom))
        {
            return null;
        }

        var pinned = await PinCurrentAsync(database, cancellationToken);
        if (pinned is null)
        {
            return null;
        }

        _lengths[database] = pinned.Length;
        if (pinned.Manifest is null || pinned.Length < lazyFrom)
        {
            return null;
        }

        using (var cached = _caches.For(database).TryHold(pinned.ETag))
        {
            if (cached is not null)
            {
                return null;
            }
        }

        return new InPlaceWrite(pinned, lazyFiles.OpenForWrite(pinned, overlayDirectory, deadline));
    }

    /// <summary>
    /// Commits what a write changed in place as the next version: the chunks holding no changed byte are the base's
    /// (never read); the others are read through the write's overlay over its base, hashed, and uploaded when the base
    /// does not hold them; then the manifest is committed as every commit is, conditional on the base's ETag, judged and
    /// settled the same way.
    /// </summary>
    public async Task<CommitReceipt> CommitAsync(string database, InPlaceWrite write, CancellationToken cancellationToken)
    {
        var manifest = write.Pinned.Manifest ?? throw new ArgumentException("Only a chunked version is changed in place.", nameof(write));
        var changes = write.Lease;
        var header = new byte[DatabaseFileHeader.HeaderSize];
        await changes.ReadAsync(0, header, cancellationToken);
        var changed = changes.ChangedRanges();
        var commit = await ChunkedFiles.DescribeAsync(
            changes.Length, DatabaseFileHeader.PageSizeOf(header), manifest.ChunkSize, manifest, changes.ReadAsync,
            (offset, length) => !changed.Any(range => range.Offset < offset + length && offset < range.Offset + range.Length),
            cancellationToken);
        await ChunkedFiles.UploadEachAsync(changes.ReadAsync, commit.ToUpload, (chunk, bytes, token) => PutChunkAsync(database, chunk, bytes, token), cancellationToken);
        var (_, receipt) = await PutCommitAsync(database, write.ETag, CommitBody.ForManifest(commit.Manifest.ToJson(), commit.UploadBytes, commit.Manifest), cancellationToken);
        _lengths[database] = changes.Length;
        return receipt;
    }

    /// <summary>The current version of <paramref name="database"/> pinned by its ETag; null when the database does not exist.</summary>
    /// <exception cref="DatabaseCorruptException">the stored object is a manifest that does not parse.</exception>
    /// <exception cref="StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    internal async Task<PinnedVersion?> PinCurrentAsync(string database, CancellationToken cancellationToken)
    {
        // A commit between the HEAD and the manifest's GET replaces what the HEAD named: look again.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await PinAsync(database, versionId: null, cancellationToken);
            }
            catch (PinnedVersionReplacedException) when (attempt < PinAttempts)
            {
            }
        }
    }

    /// <summary>
    /// Kept version <paramref name="versionId"/> of <paramref name="database"/> pinned (time travel): a version never
    /// changes, so its whole-file windows are ranged GETs of that version, and a chunked one's manifest is that version's.
    /// Null when the backend refused the HEAD of that version id without saying why (S3's bare 400; moto's for the
    /// "null" version of an unversioned bucket): the version is then read whole, whose GET says.
    /// </summary>
    /// <exception cref="VersionNotFoundException">the backend keeps no such version.</exception>
    /// <exception cref="DatabaseCorruptException">the version is a manifest that does not parse.</exception>
    /// <exception cref="StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    private async Task<PinnedVersion?> PinVersionAsync(string database, string versionId, CancellationToken cancellationToken)
    {
        try
        {
            return await PinAsync(database, versionId, cancellationToken) ?? throw NoSuchVersion(database, versionId, KeyFor(database), "not found");
        }
        catch (StorageUnavailableException e) when (e.InnerException is ObjectBackendException { Failure: ObjectBackendFailure.InvalidArgument, Operation: "HeadObject" })
        {
            return null;
        }
    }

    /// <summary>The current version (<paramref name="versionId"/> null) or a kept one pinned; null when there is none.</summary>
    private async Task<PinnedVersion?> PinAsync(string database, string? versionId, CancellationToken cancellationToken)
    {
        var key = KeyFor(database);
        var selector = versionId is null ? ObjectSelector.Current : new ObjectSelector(VersionId: versionId);
        var head = await RunAsync("HeadObject", key, async token =>
        {
            try
            {
                return await _objects.HeadAsync(key, selector, token);
            }
            catch (ObjectBackendException e) when (e.Failure == ObjectBackendFailure.NoSuchVersion && versionId is not null)
            {
                throw NoSuchVersion(database, versionId, key, e.Detail, e);
            }
        }, cancellationToken);
        if (head is null)
        {
            return null;
        }

        if (versionId is null)
        {
            _lastSeen[database] = StoredMetadata.CommitOf(head.ETag, head.Metadata);
        }

        var etag = new DatabaseETag(head.ETag);
        var description = versionId is null ? $"{_objects.Describe(key)} (ETag {head.ETag})" : $"{_objects.Describe(key)} (version {versionId}, ETag {head.ETag})";
        var fetcher = new BlockFetcher(this, database, description);
        if (!StoredMetadata.IsManifest(head.Metadata))
        {
            return new PinnedVersion(etag, description, head.Size, WholeFileBlocks(fetcher, key, head, versionId), fetcher.Counts, Manifest: null);
        }

        var manifest = _manifests.Of(database, etag) ?? await FetchManifestOnceAsync((database, head.ETag, versionId), ct => RunAsync("GetObject", key, async token =>
        {
            ObjectRead read;
            try
            {
                read = await _objects.GetAsync(key, versionId is null ? new ObjectSelector(IfMatch: head.ETag) : selector, token);
            }
            catch (ObjectBackendException e) when (e.Failure == ObjectBackendFailure.ConditionFailed)
            {
                throw new PinnedVersionReplacedException($"{description} was replaced before its manifest was read", e);
            }
            catch (ObjectBackendException e) when (e.Failure == ObjectBackendFailure.NoSuchVersion && versionId is not null)
            {
                throw NoSuchVersion(database, versionId, key, e.Detail, e); // expired since the HEAD
            }

            using var held = read;
            if (!read.Found)
            {
                throw versionId is null
                    ? new PinnedVersionReplacedException($"{description} was replaced before its manifest was read")
                    : NoSuchVersion(database, versionId, key, "deleted before its manifest was read");
            }

            return (await ReadManifestAsync(database, read, description, token)).Manifest;
        }, ct), cancellationToken);
        _manifests.Remember(database, head.ETag, manifest);
        return new PinnedVersion(etag, description, manifest.Length, [.. manifest.Chunks.Select(chunk => (IPinnedBlock)new Block(
            chunk.Offset, chunk.Length, chunk.Sha256, fetcher, _keys.Chunk(database, chunk.Sha256), IfMatch: null, Chunk: chunk))], fetcher.Counts, manifest);
    }

    /// <summary>
    /// The manifest <paramref name="key"/> names, fetched by <paramref name="fetch"/> once for all who ask while it is under
    /// way, each waiting until its own cancellation. One whose wait ended with the cancellation of the caller that
    /// started the fetch, not its own, fetches it again.
    /// </summary>
    private async Task<ChunkManifest> FetchManifestOnceAsync(
        (string Database, string ETag, string? VersionId) key, Func<CancellationToken, Task<ChunkManifest>> fetch, CancellationToken cancellationToken)
    {
        while (true)
        {
            var mine = new Lazy<Task<ChunkManifest>>(() => fetch(cancellationToken));
            var flight = _manifestsInFlight.GetOrAdd(key, mine);
            var started = ReferenceEquals(flight, mine);
            try
            {
                return await flight.Value.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (!started && !cancellationToken.IsCancellationRequested)
            {
                // The starter's deadline ended the fetch we joined: ask again.
            }
            finally
            {
                if (started || flight.Value.IsCompleted)
                {
                    _manifestsInFlight.TryRemove(KeyValuePair.Create(key, flight)); // only this flight, never a newer one
                }
            }
        }
    }

    /// <summary>A whole file's windows: ranged GETs on condition of the pinned ETag, or of kept version <paramref name="versionId"/>, which never changes.</summary>
    private static List<IPinnedBlock> WholeFileBlocks(BlockFetcher fetcher, string key, ObjectInfo head, string? versionId)
    {
        var blocks = new List<IPinnedBlock>();
        for (long offset = 0; offset < head.Size; offset += WholeFileBlockBytes)
        {
            var length = (int)Math.Min(WholeFileBlockBytes, head.Size - offset);
            blocks.Add(new Block(offset, length, string.Create(CultureInfo.InvariantCulture, $"{head.ETag}:{offset}"), fetcher, key,
                IfMatch: versionId is null ? head.ETag : null, ObjectOffset: offset, VersionId: versionId));
        }

        return blocks;
    }

    /// <summary>
    /// Reads <paramref name="into"/>'s length of bytes of <paramref name="block"/> from <paramref name="offsetInBlock"/>.
    /// A chunk's bytes are checked, a whole chunk against its SHA-256 (its name), the whole pieces of a part against the
    /// manifest's CRC32s: bytes that differ are fetched once more, then a corrupt database naming the chunk. A body
    /// shorter than asked is fetched again like one that broke off. A whole file's windows have no checksum of their
    /// own: only the transport (TLS) vouches for them. A chunk that is not stored is a corrupt database too (a collector never
    /// deletes a chunk a manifest younger than its grace names); a whole-file object that no longer has the pinned
    /// ETag is <see cref="PinnedVersionReplacedException"/>.
    /// </summary>
    private async Task<int> ReadBlockAsync(BlockFetcher fetcher, Block block, int offsetInBlock, Memory<byte> into, CancellationToken cancellationToken)
    {
        var mismatches = 0;
        // A chunk with piece checksums has every whole piece checked; one without (an older manifest) only when fetched whole.
        var whole = block.Chunk is { PieceCrc32s: null } && offsetInBlock == 0 && into.Length == block.Length;
        return await RunAsync("GetObject", block.Key, async token =>
        {
            ObjectRead read;
            try
            {
                fetcher.Counts.AddRequest();
                read = await _objects.GetAsync(block.Key, new ObjectSelector(VersionId: block.VersionId, IfMatch: block.IfMatch, Range: new ObjectRange(block.ObjectOffset + offsetInBlock, into.Length)), token);
            }
            catch (ObjectBackendException e) when (e.Failure == ObjectBackendFailure.ConditionFailed)
            {
                throw new PinnedVersionReplacedException($"{fetcher.Description} was replaced by a commit while a request read it", e);
            }
            catch (ObjectBackendException e) when (e.Failure == ObjectBackendFailure.NoSuchVersion && block.VersionId is { } versionId)
            {
                throw NoSuchVersion(fetcher.Database, versionId, block.Key, e.Detail, e); // expired while a request read it
            }

            using (read)
            {
                if (read.Body is null)
                {
                    throw block switch
                    {
                        { VersionId: { } versionId } => NoSuchVersion(fetcher.Database, versionId, block.Key, "deleted while a request read it"),
                        { IfMatch: not null } => new PinnedVersionReplacedException($"{fetcher.Description} was deleted while a request read it"),
                        _ => new DatabaseCorruptException(fetcher.Database, fetcher.Description, string.Create(CultureInfo.InvariantCulture,
                            $"its manifest names the chunk at offset {block.Offset}, {_objects.Describe(block.Key)}, which is not stored")),
                    };
                }

                var count = 0;
                int got;
                while (count < into.Length && (got = await read.Body.ReadAsync(into[count..], token)) > 0)
                {
                    count += got;
                    fetcher.Counts.AddBytes(got);
                }

                if (count != into.Length)
                {
                    // A body that ended early as if complete is retried as one that broke off: the bytes are still stored.
                    throw new TransferCorruptedException(string.Create(CultureInfo.InvariantCulture,
                        $"a ranged GET of {_objects.Describe(block.Key)} brought {count} of the {into.Length} bytes asked"));
                }

                var damage = whole && Convert.ToHexStringLower(SHA256.HashData(into.Span)) != block.Chunk!.Sha256 ? "they do not have its SHA-256"
                    : block.Chunk?.FindDamage(offsetInBlock, into.Span);
                if (damage is not null)
                {
                    var mismatch = new TransferCorruptedException($"the bytes fetched of {_objects.Describe(block.Key)} are not the chunk's: {damage}");
                    throw ++mismatches >= 2 ? new DatabaseCorruptException(fetcher.Database, fetcher.Description, mismatch.Message, mismatch) : mismatch;
                }

                return count;
            }
        }, cancellationToken);
    }

    /// <summary>What the blocks of one pinned version fetch through, and what they count their fetches in.</summary>
    private sealed record BlockFetcher(DatabaseStore Store, string Database, string Description)
    {
        public FetchCounts Counts { get; } = new();
    }

    /// <param name="Chunk">the chunk the block is, whose hashes check what is fetched of it; null for a window of a whole file.</param>
    /// <param name="VersionId">the kept version a window of a whole file is read from (time travel); null for the current one, pinned by <paramref name="IfMatch"/>.</param>
    private sealed record Block(long Offset, int Length, string ContentKey, BlockFetcher Fetcher, string Key, string? IfMatch, long ObjectOffset = 0, ChunkRef? Chunk = null, string? VersionId = null) : IPinnedBlock
    {
        public async ValueTask<int> FetchAsync(int offsetInBlock, Memory<byte> into, CancellationToken cancellationToken) =>
            await Fetcher.Store.ReadBlockAsync(Fetcher, this, offsetInBlock, into, cancellationToken);
    }
}

/// <summary>
/// One version of a database pinned by its ETag, as the lazy VFS reads it: its length and the blocks that tile it, and
/// what fetching them has cost so far (every fetch of this pin, whoever's read asked for it).
/// </summary>
internal sealed class PinnedVersion(DatabaseETag etag, string description, long length, IReadOnlyList<IPinnedBlock> blocks, FetchCounts fetches, ChunkManifest? Manifest) : IPinnedVersion
{
    public FetchCounts Fetches { get; } = fetches;

    /// <summary>The version's manifest when it is stored chunked (its blocks are its chunks); null for a whole file.</summary>
    public ChunkManifest? Manifest { get; } = Manifest;

    public DatabaseETag ETag { get; } = etag;

    public string Description { get; } = description;

    public long Length { get; } = length;

    public IReadOnlyList<IPinnedBlock> Blocks { get; } = blocks;
}

/// <summary>
/// The ranged GETs a pinned version's blocks sent (retries included, answered or not) and the bytes they brought, so a
/// read that failed or timed out still shows what it asked for.
/// </summary>
internal sealed class FetchCounts
{
    private int _requests;
    private long _bytes;

    public int Requests => Volatile.Read(ref _requests);

    public long Bytes => Interlocked.Read(ref _bytes);

    public void AddRequest() => Interlocked.Increment(ref _requests);

    public void AddBytes(long bytes) => Interlocked.Add(ref _bytes, bytes);
}

/// <summary>The version a read pinned is no longer the stored one (a whole-file object replaced or deleted by a commit): the read may start again on the new version.</summary>
internal sealed class PinnedVersionReplacedException(string message, Exception? innerException = null) : Exception(message, innerException);
