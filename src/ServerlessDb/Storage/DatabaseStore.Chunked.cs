using System.Globalization;
using System.Runtime.InteropServices;
using ServerlessDb.Errors;
using ServerlessDb.Storage.Chunked;

namespace ServerlessDb.Storage;

/// <summary>
/// The chunked layout (STORAGE_LAYOUT=chunked): the database's key holds a small manifest
/// (<see cref="ChunkManifest"/>, marked by <see cref="StoredMetadata.LayoutKey"/>) instead of the file, and its chunks live at
/// <c>{Prefix}_chunks/{NAME}/{sha256}</c>. A commit uploads the chunks its base does not hold, then PUTs the manifest
/// exactly as a whole-file commit PUTs the file: conditional on the version read, judged and settled the same way.
/// Either layout reads either: a reader tells them apart by the metadata, so a database converts on its first commit
/// under the other layout, as one conditional commit.
/// </summary>
internal sealed partial class DatabaseStore
{
    // The manifests of the versions of each database this process read or committed last, when they were chunked:
    // the base a commit finds its changed chunks against, and what a cached or spare file is known to hold.
    private readonly KnownManifests _manifests = new();

    /// <summary>
    /// Cuts the working copy into chunks, uploads those the base version's manifest (when this process knows it)
    /// does not hold, and returns the manifest to commit. The chunks are immutable and named by their content, so
    /// uploading one again, or leaving one behind when the commit then fails, harms nothing: garbage collection
    /// removes chunks no kept manifest names.
    /// </summary>
    private async Task<CommitBody> PrepareChunkedCommitAsync(string database, DatabaseETag basedOn, string filePath, int chunkSize, CancellationToken cancellationToken)
    {
        var commit = await ChunkedFiles.DescribeAsync(filePath, chunkSize, _manifests.Of(database, basedOn), cancellationToken);
        await ChunkedFiles.UploadEachAsync(filePath, commit.ToUpload, (chunk, bytes, token) => PutChunkAsync(database, chunk, bytes, token), cancellationToken);
        return CommitBody.ForManifest(commit.Manifest.ToJson(), commit.UploadBytes, commit.Manifest);
    }

    private async Task PutChunkAsync(string database, ChunkRef chunk, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        var key = _keys.Chunk(database, chunk.Sha256);
        if (!MemoryMarshal.TryGetArray(bytes, out var segment) || segment.Array is null)
        {
            throw new ArgumentException("A chunk's bytes must be an array segment.", nameof(bytes));
        }

        var body = new ObjectBody(() => new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false), bytes.Length, ObjectChecksum.Of(bytes.Span));
        await RunAsync("PutObject", key, token => _objects.PutAsync(key, body, PutCondition.Always, ChunkMetadata, token), cancellationToken);
    }

    private static readonly ObjectMetadata ChunkMetadata = new("application/octet-stream");

    /// <summary>
    /// A chunked version's working copy is the spare (the file of a version this process replaced, which no snapshot
    /// holds) patched into <paramref name="snapshot"/>'s version by copying from the snapshot only the chunks the two
    /// manifests say differ: a one-row write then copies a few megabytes, not the whole file. Without a spare whose
    /// manifest is known, a plain copy.
    /// </summary>
    public async Task CopyForWriteAsync(string database, DatabaseSnapshot snapshot, string targetPath, CancellationToken cancellationToken)
    {
        if (_manifests.Of(database, snapshot.ETag) is { } target
            && _caches.For(database).TakeSpare(targetPath) is { } spare)
        {
            if (_manifests.Of(database, spare) is { } spareManifest)
            {
                await ChunkedFiles.AssembleAsync(
                    target, targetPath, new ChunkedBasis(snapshot.FilePath, target),
                    (chunk, _, _) => throw new InvalidOperationException($"Chunk {chunk.Sha256} of '{database}' is not in the snapshot it was cut from."),
                    cancellationToken, recycled: spareManifest);
                return;
            }

            File.Delete(targetPath);
        }

        File.Copy(snapshot.FilePath, targetPath);
    }

    /// <summary>
    /// Writes the file <paramref name="manifest"/> (of <paramref name="version"/>, just read) describes to a new file in the
    /// cache folder, starting from the spare or a copy of the newest cached version whose manifest is known, so only the
    /// chunks that changed are fetched, each its own backend call (<see cref="FetchChunkAsync"/>).
    /// </summary>
    private async Task<FetchedVersion> AssembleManifestAsync(CachedDatabase cache, DatabaseETag version, ChunkManifest manifest, long manifestBytes, string source, CancellationToken token)
    {
        var temp = cache.NewTempPath();
        var start = _manifests.HoldBasis(cache);
        using (start?.Held)
        {
            var basis = start?.Basis;
            ChunkManifest? recycled = null;
            if (cache.TakeSpare(temp) is { } spare)
            {
                recycled = _manifests.Of(cache.Name, spare);
                if (recycled is null)
                {
                    File.Delete(temp);
                }
            }

            var fetched = await ChunkedFiles.AssembleAsync(manifest, temp, basis, (chunk, sink, t) => FetchChunkAsync(cache.Name, source, chunk, sink, t), token, recycled);
            _manifests.Remember(cache.Name, version.ETag!, manifest);
            return FetchedVersion.Downloaded(version, temp, source) with { IsStoredObject = false, BytesFetched = manifestBytes + fetched };
        }
    }

    private async Task<(ChunkManifest Manifest, long Bytes)> ReadManifestAsync(string database, ObjectRead read, string source, CancellationToken token)
    {
        if (read.Info!.Size > ChunkManifest.MaxBytes)
        {
            throw new DatabaseCorruptException(database, source, string.Create(CultureInfo.InvariantCulture, $"its manifest is {read.Info.Size} bytes, more than a manifest's {ChunkManifest.MaxBytes}"));
        }

        var (json, mismatch) = await StoredMetadata.ReadManifestBodyAsync(read, token);
        if (mismatch is not null)
        {
            throw new TransferCorruptedException($"the manifest downloaded from {source}: {mismatch}");
        }

        try
        {
            return (ChunkManifest.Parse(json), json.Length);
        }
        catch (FormatException e)
        {
            throw new DatabaseCorruptException(database, source, e.Message, e);
        }
    }

    /// <summary>
    /// Fetches one chunk into its place. Bytes that are not the chunk's are fetched once more (they may have been damaged
    /// on the way); the same again means the stored chunk is damaged, a corrupt database naming it, not a reason to retry
    /// until the deadline.
    /// </summary>
    private Task FetchChunkAsync(string database, string source, ChunkRef chunk, ChunkSink sink, CancellationToken cancellationToken)
    {
        var key = _keys.Chunk(database, chunk.Sha256);
        var mismatches = 0;
        return RunAsync("GetObject", key, async token =>
        {
            using var read = await _objects.GetAsync(key, new ObjectSelector(Range: ObjectRange.All), token);
            if (!read.Found)
            {
                throw new DatabaseCorruptException(database, source, string.Create(CultureInfo.InvariantCulture,
                    $"its manifest names the chunk at offset {chunk.Offset}, {_objects.Describe(key)}, which is not stored"));
            }

            try
            {
                await sink.WriteAsync(read.Body!, _objects.Describe(key), token);
            }
            catch (TransferCorruptedException e) when (++mismatches >= 2)
            {
                throw new DatabaseCorruptException(database, source, e.Message, e);
            }

            return true;
        }, cancellationToken);
    }

    /// <summary>Remembers the manifest of the version of <paramref name="database"/> just read or committed, when it is chunked.</summary>
    private void RememberLayout(string database, string etag, ChunkManifest? manifest)
    {
        if (manifest is not null)
        {
            _manifests.Remember(database, etag, manifest);
        }
    }
}
