using System.Globalization;
using ServerlessDb.Errors;
using ServerlessDb.Storage.Chunked;

namespace ServerlessDb.Storage.LocalFolder;

/// <summary>
/// The chunked layout (STORAGE_LAYOUT=chunked) in the folder, as in S3: <c>{NAME}.sqlite</c> holds a manifest
/// (<see cref="ChunkManifest"/> JSON) instead of the file, and its chunks live in <c>.chunks/{NAME}/{sha256}</c>,
/// each written once (to a temporary file, then renamed) before the manifest that names it is committed. A commit
/// stores the chunks its base does not hold, then commits the manifest by the same compare-and-swap as a file.
/// Either layout reads either: a reader tells them apart by the content (a manifest is JSON, so it starts with
/// <c>{</c>; a SQLite file starts with its header string; an empty file is an empty database), so a database
/// converts on its first commit under the other layout. Chunks that no kept manifest (the current one, or one in
/// <c>.versions/{NAME}/</c>) names are deleted by the prune, under the lock file, once older than
/// <see cref="ChunkGracePeriod"/>.
/// </summary>
internal sealed partial class LocalFolderDatabaseStore
{
    /// <summary>
    /// How old a chunk no kept manifest names must be before a prune deletes it: a commit stores its chunks
    /// before it takes the lock file to commit the manifest naming them, possibly in another process sharing the
    /// folder, so a young unnamed chunk may be one in flight. Twice the longest request (REQUEST_TIMEOUT_SECONDS is
    /// at most 900); a commit slower than that finds its collected chunks missing under the lock and stores them again.
    /// </summary>
    public static readonly TimeSpan ChunkGracePeriod = TimeSpan.FromMinutes(30);

    private const string ChunksFolderName = ".chunks";

    // A read that loses the version it copies to a commit and a prune (its chunks collected) reads the new one, this many times.
    private const int MaxCollectedRetries = 3;

    // The manifests of the versions of each database this process read or committed last, when they were chunked:
    // the base a commit finds its changed chunks against, and what a cached file is known to hold.
    private readonly KnownManifests _manifests = new();

    /// <summary>The folder holding the chunks of <paramref name="database"/>.</summary>
    public string ChunksFolderOf(string database) => Path.Combine(DataDirectory, ChunksFolderName, database);

    private string ChunkPath(string database, string sha256) => Path.Combine(ChunksFolderOf(database), sha256);

    /// <summary>
    /// Cuts the working copy into chunks and stores those the base version's manifest (when this process knows it)
    /// does not hold. Chunks are immutable and named by their content, so finding one already there, or leaving one
    /// behind when the commit then fails, harms nothing: the prune collects chunks no kept manifest names.
    /// </summary>
    private async Task<ChunkedCommit> StoreChunksAsync(string database, StoredVersion basedOn, string filePath, int chunkSize, CancellationToken cancellationToken)
    {
        var basis = _manifests.Of(database, basedOn);
        var commit = await ChunkedFiles.DescribeAsync(filePath, chunkSize, basis, cancellationToken);
        Directory.CreateDirectory(ChunksFolderOf(database));
        await ChunkedFiles.UploadEachAsync(filePath, commit.ToUpload, (chunk, bytes, token) => StoreChunkAsync(database, chunk, bytes, token), cancellationToken);
        return commit;
    }

    /// <summary>
    /// Under the lock file, before the manifest is committed: stores again any chunk of <paramref name="commit"/> that
    /// a prune collected since it was stored (a commit slower than <see cref="ChunkGracePeriod"/>). The chunks it took
    /// from its base need no check: the base is the current version, whose manifest names them.
    /// </summary>
    private async Task RestoreCollectedChunksAsync(string database, string filePath, ChunkedCommit commit, CancellationToken cancellationToken)
    {
        var collected = commit.ToUpload.Where(c => !File.Exists(ChunkPath(database, c.Sha256))).ToList();
        if (collected.Count > 0)
        {
            Directory.CreateDirectory(ChunksFolderOf(database));
            await ChunkedFiles.UploadEachAsync(filePath, collected, (chunk, bytes, token) => StoreChunkAsync(database, chunk, bytes, token), cancellationToken);
        }
    }

    /// <summary>
    /// Writes a chunk to a temporary file and renames it into place, unless a chunk of that name is there already: its
    /// bytes are never written again, only its time set anew (from the store's clock, as a new one's), so that a
    /// prune does not take it for an old unnamed one while this commit is under way.
    /// </summary>
    private async Task StoreChunkAsync(string database, ChunkRef chunk, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        var path = ChunkPath(database, chunk.Sha256);
        var now = _time.GetUtcNow().UtcDateTime;
        try
        {
            File.SetLastWriteTimeUtc(path, now);
            return;
        }
        catch (FileNotFoundException)
        {
            // Not stored yet (or collected just now): write it.
        }

        var temp = HiddenTempPathBeside(path);
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileBufferSize, FileOptions.Asynchronous))
            {
                await file.WriteAsync(bytes, cancellationToken);
                file.Flush(flushToDisk: true);
            }

            File.SetLastWriteTimeUtc(temp, now);
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another commit stored the same chunk first: the same bytes.
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>The manifest, on disk beside <paramref name="dataPath"/>, ready to be renamed over it.</summary>
    private static string StageManifest(ChunkManifest manifest, string dataPath)
    {
        var staged = HiddenTempPathBeside(dataPath);
        try
        {
            using var target = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            target.Write(manifest.ToJson());
            target.Flush(flushToDisk: true);
        }
        catch
        {
            File.Delete(staged);
            throw;
        }

        return staged;
    }

    /// <summary>
    /// Writes the version <paramref name="source"/> (opened under the lock file) holds to a new file in the cache folder:
    /// the file itself, or, for a manifest, the file its chunks make, starting from the cached version this process last
    /// saw chunked (so only the chunks that changed are copied from the folder). Returns the manifest too, for a chunked version.
    /// </summary>
    /// <exception cref="DatabaseCorruptException">the manifest is not one, or names a chunk the folder does not hold while it still keeps the version.</exception>
    /// <exception cref="ChunkCollectedException">the version is no longer kept, and a prune collected a chunk it named.</exception>
    private async Task<(FetchedVersion Fetched, ChunkManifest? Manifest)> ReceiveAsync(
        CachedDatabase cache, StoredVersion version, FileStream source, string path, CancellationToken cancellationToken)
    {
        var described = $"{path}, version {version}";
        ManifestFile? read;
        try
        {
            read = ReadManifest(source);
        }
        catch (FormatException e)
        {
            throw new DatabaseCorruptException(cache.Name, described, e.Message, e);
        }

        if (read is null)
        {
            return (FetchedVersion.Downloaded(version, await CopyIntoCacheAsync(source, cache, cancellationToken), path), null);
        }

        var manifest = read.Manifest;
        var start = _manifests.HoldBasis(cache);
        using (start?.Held)
        {
            var basis = start?.Basis;
            var temp = cache.NewTempPath();
            try
            {
                var fetched = await ChunkedFiles.AssembleAsync(manifest, temp, basis, (chunk, sink, token) => CopyChunkAsync(cache.Name, described, chunk, sink, token), cancellationToken);
                return (FetchedVersion.Downloaded(version, temp, path) with { AssembledFromChunks = true, BytesFetched = read.Bytes + fetched }, manifest);
            }
            catch (MissingChunkException e)
            {
                throw await MissingChunkAsync(cache.Name, version, described, e);
            }
        }
    }

    private async Task CopyChunkAsync(string database, string described, ChunkRef chunk, ChunkSink sink, CancellationToken cancellationToken)
    {
        var path = ChunkPath(database, chunk.Sha256);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new MissingChunkException(chunk, path, e);
        }

        await using (stream)
        {
            try
            {
                await sink.WriteAsync(stream, path, cancellationToken);
            }
            catch (TransferCorruptedException e)
            {
                throw new DatabaseCorruptException(database, described, e.Message, e);
            }
        }
    }

    /// <summary>
    /// What a chunk found missing means, judged under the lock file: corruption while the folder still keeps the
    /// version (its manifest names the chunk, so no prune deletes it), else a version replaced and collected meanwhile.
    /// </summary>
    private async Task<Exception> MissingChunkAsync(string database, StoredVersion version, string described, MissingChunkException missing)
    {
        using (await LockFile.AcquireAsync(PathOf(database) + LockExtension, _lockFileWait, _time, CancellationToken.None))
        {
            if (version.ETag is { } tag && PathOfVersion(database, tag) is not null)
            {
                return new DatabaseCorruptException(database, described, string.Create(CultureInfo.InvariantCulture,
                    $"its manifest names the chunk at offset {missing.Chunk.Offset}, {missing.Path}, which the folder does not hold"), missing);
            }
        }

        return new ChunkCollectedException(missing);
    }

    /// <summary>Remembers the manifest of the version of <paramref name="database"/> just read or committed, when it is chunked.</summary>
    private void RememberManifest(string database, StoredVersion version, ChunkManifest? manifest)
    {
        if (manifest is not null && version.ETag is { } tag)
        {
            _manifests.Remember(database, tag, manifest);
        }
    }

    /// <summary>
    /// Deletes the chunks of <paramref name="database"/> that neither its current version nor a kept one names, once
    /// older than <see cref="ChunkGracePeriod"/>; temporary files a failed write left behind go the same way. Called under
    /// the database's lock file, after the kept versions are pruned. When a kept version cannot be read as a file or a
    /// manifest, nothing is deleted: what it names is unknown.
    /// </summary>
    private void CollectChunks(string database)
    {
        var folder = ChunksFolderOf(database);
        if (!Directory.Exists(folder))
        {
            return;
        }

        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in KeptVersions(database).Select(k => k.Path).Prepend(PathOf(database)))
        {
            try
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
                if (ReadManifest(file) is { } read)
                {
                    named.UnionWith(read.Manifest.Chunks.Select(c => c.Sha256));
                }
            }
            catch (FileNotFoundException)
            {
                // No current version (deleted by hand), or a kept one pruned by another process.
            }
            catch (FormatException)
            {
                return;
            }
        }

        var collectBefore = _time.GetUtcNow().UtcDateTime - ChunkGracePeriod;
        foreach (var chunk in new DirectoryInfo(folder).EnumerateFiles())
        {
            if (!named.Contains(chunk.Name) && chunk.LastWriteTimeUtc < collectBefore)
            {
                chunk.Delete();
            }
        }
    }

    /// <summary>
    /// The manifest <paramref name="file"/> holds, or null when it holds no manifest (it does not start with <c>{</c>),
    /// the file then positioned at its start again.
    /// </summary>
    /// <exception cref="FormatException">the file starts as JSON does and is not a manifest of this format.</exception>
    private static ManifestFile? ReadManifest(FileStream file)
    {
        var first = file.ReadByte();
        file.Position = 0;
        if (first != '{')
        {
            return null;
        }

        if (file.Length > ChunkManifest.MaxBytes)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"its manifest is {file.Length} bytes, more than a manifest's {ChunkManifest.MaxBytes}"));
        }

        var json = new byte[file.Length];
        file.ReadExactly(json);
        return new ManifestFile(ChunkManifest.Parse(json), json.Length);
    }

    private sealed record ManifestFile(ChunkManifest Manifest, long Bytes);

    /// <summary>A chunk a manifest names was not in the folder when it was copied.</summary>
    private sealed class MissingChunkException(ChunkRef chunk, string path, Exception innerException)
        : Exception($"The chunk at offset {chunk.Offset}, {path}, is missing.", innerException)
    {
        public ChunkRef Chunk { get; } = chunk;

        public string Path { get; } = path;
    }

    /// <summary>The version being read was replaced, pruned, and its chunks collected while it was read.</summary>
    private sealed class ChunkCollectedException(MissingChunkException missing)
        : Exception($"The version was replaced and its chunks collected while it was read ({missing.Message})", missing);
}
