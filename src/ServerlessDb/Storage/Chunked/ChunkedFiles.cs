using System.Buffers;
using System.Globalization;
using System.IO.Hashing;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace ServerlessDb.Storage.Chunked;

/// <summary>
/// The local side of the chunked layout, the same for every store: cutting a database file into the chunks of
/// its manifest (finding those a commit changed), and putting a file together from a manifest, copying from a
/// cached version what it already holds and fetching only the rest. Chunks move between the store and the file
/// one at a time; nothing holds more than one chunk per transfer in memory.
/// </summary>
internal static class ChunkedFiles
{
    /// <summary>How many chunks move at once in one commit or one download.</summary>
    public const int Parallelism = 4;

    /// <summary>
    /// The manifest of the file at <paramref name="path"/> cut into <paramref name="chunkSize"/>-byte chunks, and
    /// the chunks <paramref name="basedOn"/> (the manifest of the version the file was made from, if it was
    /// chunked) does not hold: the ones a commit uploads. A chunk whose XXH128 equals the base's at the same offset
    /// is the base's chunk; only the others are hashed with SHA-256.
    /// </summary>
    public static async Task<ChunkedCommit> DescribeAsync(string path, int chunkSize, ChunkManifest? basedOn, CancellationToken cancellationToken)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        return await DescribeAsync(
            RandomAccess.GetLength(file), DatabaseFileHeader.ReadPageSize(path), chunkSize, basedOn,
            (offset, into, token) => new ValueTask(ReadExactlyAsync(file, into, offset, token)), unchanged: null, cancellationToken);
    }

    /// <summary>
    /// The manifest of a file of <paramref name="length"/> bytes that <paramref name="read"/> reads, cut as
    /// <see cref="DescribeAsync(string, int, ChunkManifest?, CancellationToken)"/> cuts a local file. A chunk of the
    /// base that <paramref name="unchanged"/> (given its offset and length) vouches for is the base's chunk, not read.
    /// </summary>
    public static async Task<ChunkedCommit> DescribeAsync(
        long length, int pageSize, int chunkSize, ChunkManifest? basedOn, ReadBytes read, Func<long, int, bool>? unchanged, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, ChunkManifest.ChunkAlignment);
        var comparable = basedOn is not null && basedOn.ChunkSize == chunkSize;
        var stored = basedOn is null ? [] : basedOn.Chunks.Select(c => c.Sha256).ToHashSet(StringComparer.Ordinal);
        var chunks = new List<ChunkRef>((int)((length + chunkSize - 1) / chunkSize));
        var toUpload = new List<ChunkRef>();
        var buffer = ArrayPool<byte>.Shared.Rent(chunkSize);
        try
        {
            for (long offset = 0; offset < length; offset += chunkSize)
            {
                var size = (int)Math.Min(chunkSize, length - offset);
                var index = chunks.Count;
                var previous = comparable && index < basedOn!.Chunks.Count && basedOn.Chunks[index] is { } atIndex
                    && atIndex.Offset == offset && atIndex.Length == size ? atIndex : null;
                if (previous is not null && unchanged is not null && unchanged(offset, size))
                {
                    chunks.Add(previous);
                    continue;
                }

                var bytes = buffer.AsMemory(0, size);
                await read(offset, bytes, cancellationToken);
                var xxh = Convert.ToHexStringLower(XxHash128.Hash(bytes.Span));
                if (previous?.XxHash128 == xxh)
                {
                    chunks.Add(previous);
                    continue;
                }

                var chunk = new ChunkRef(offset, size, Convert.ToHexStringLower(SHA256.HashData(bytes.Span)), xxh, ChunkRef.PieceChecksumsOf(bytes.Span));
                chunks.Add(chunk);
                if (stored.Add(chunk.Sha256))
                {
                    toUpload.Add(chunk);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return new ChunkedCommit(new ChunkManifest(length, pageSize, chunkSize, chunks), toUpload);
    }

    /// <summary>
    /// Writes the file <paramref name="target"/> describes at <paramref name="targetPath"/>. The file starts as
    /// <paramref name="recycled"/> says: a file already there, an old version of the database described by that
    /// manifest, patched in place; else a copy of <paramref name="basis"/> (a cached version and its manifest);
    /// else empty. Then every chunk the file does not hold at its place is copied from the basis when the basis has
    /// those bytes anywhere, else fetched with <paramref name="fetch"/>, which streams the chunk into the
    /// <see cref="ChunkSink"/> it is given (and retries as its store does). Deletes the file if anything fails.
    /// </summary>
    /// <returns>the bytes fetched from the store.</returns>
    public static async Task<long> AssembleAsync(
        ChunkManifest target,
        string targetPath,
        ChunkedBasis? basis,
        Func<ChunkRef, ChunkSink, CancellationToken, Task> fetch,
        CancellationToken cancellationToken,
        ChunkManifest? recycled = null)
    {
        try
        {
            var bySha = new Dictionary<string, ChunkRef>(StringComparer.Ordinal);
            foreach (var chunk in basis?.Manifest.Chunks ?? [])
            {
                bySha.TryAdd(chunk.Sha256, chunk);
            }

            // What the file holds before any chunk is written.
            var held = recycled ?? basis?.Manifest;
            if (recycled is null && basis is { } from)
            {
                File.Copy(from.FilePath, targetPath);
            }

            var byOffset = (held?.Chunks ?? []).ToDictionary(c => c.Offset);
            using var file = File.OpenHandle(targetPath, held is null ? FileMode.CreateNew : FileMode.Open, FileAccess.ReadWrite, FileShare.None, FileOptions.Asynchronous);
            RandomAccess.SetLength(file, target.Length);
            var missing = new List<ChunkRef>();
            foreach (var chunk in target.Chunks)
            {
                if (chunk.SameAs(byOffset.GetValueOrDefault(chunk.Offset)))
                {
                    continue;
                }

                if (basis is { } source && bySha.TryGetValue(chunk.Sha256, out var elsewhere))
                {
                    await CopyWithinAsync(source.FilePath, elsewhere, file, chunk.Offset, cancellationToken);
                    continue;
                }

                missing.Add(chunk);
            }

            long fetched = 0;
            await Parallel.ForEachAsync(
                missing,
                new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
                async (chunk, token) =>
                {
                    await fetch(chunk, new ChunkSink(file, chunk), token);
                    Interlocked.Add(ref fetched, chunk.Length);
                });
            return fetched;
        }
        catch
        {
            File.Delete(targetPath);
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="upload"/> for each chunk of <paramref name="chunks"/>, <see cref="Parallelism"/> at a time,
    /// giving it the chunk's bytes read from <paramref name="path"/> (valid only during the call).
    /// </summary>
    public static async Task UploadEachAsync(
        string path,
        IReadOnlyList<ChunkRef> chunks,
        Func<ChunkRef, ReadOnlyMemory<byte>, CancellationToken, Task> upload,
        CancellationToken cancellationToken)
    {
        if (chunks.Count == 0)
        {
            return;
        }

        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
        await UploadEachAsync((offset, into, token) => new ValueTask(ReadExactlyAsync(file, into, offset, token)), chunks, upload, cancellationToken);
    }

    /// <summary>As <see cref="UploadEachAsync(string, IReadOnlyList{ChunkRef}, Func{ChunkRef, ReadOnlyMemory{byte}, CancellationToken, Task}, CancellationToken)"/>, reading the chunks with <paramref name="read"/>.</summary>
    public static async Task UploadEachAsync(
        ReadBytes read,
        IReadOnlyList<ChunkRef> chunks,
        Func<ChunkRef, ReadOnlyMemory<byte>, CancellationToken, Task> upload,
        CancellationToken cancellationToken) =>
        await Parallel.ForEachAsync(
            chunks,
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (chunk, token) =>
            {
                var buffer = ArrayPool<byte>.Shared.Rent(chunk.Length);
                try
                {
                    var bytes = buffer.AsMemory(0, chunk.Length);
                    await read(chunk.Offset, bytes, token);
                    await upload(chunk, bytes, token);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            });

    private static async Task CopyWithinAsync(string sourcePath, ChunkRef from, SafeFileHandle target, long targetOffset, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(from.Length);
        try
        {
            using var source = File.OpenHandle(sourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
            var bytes = buffer.AsMemory(0, from.Length);
            await ReadExactlyAsync(source, bytes, from.Offset, cancellationToken);
            await RandomAccess.WriteAsync(target, bytes, targetOffset, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    internal static async Task ReadExactlyAsync(SafeFileHandle file, Memory<byte> bytes, long offset, CancellationToken cancellationToken)
    {
        var done = 0;
        while (done < bytes.Length)
        {
            var read = await RandomAccess.ReadAsync(file, bytes[done..], offset + done, cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException(string.Create(CultureInfo.InvariantCulture, $"The file ended at byte {offset + done}, inside a chunk that ends at {offset + bytes.Length}."));
            }

            done += read;
        }
    }
}

/// <summary>Fills <c>into</c> with the bytes of a file from <c>offset</c> (a local file, or a write's overlay over its pinned version), or throws.</summary>
internal delegate ValueTask ReadBytes(long offset, Memory<byte> into, CancellationToken cancellationToken);

/// <summary>What a chunked commit stores: the new manifest, and the chunks to upload before it (none the base already holds).</summary>
internal sealed record ChunkedCommit(ChunkManifest Manifest, IReadOnlyList<ChunkRef> ToUpload)
{
    public long UploadBytes => ToUpload.Sum(c => (long)c.Length);
}

/// <summary>A cached version a download starts from: its file and the manifest it was made from.</summary>
internal readonly record struct ChunkedBasis(string FilePath, ChunkManifest Manifest);

/// <summary>
/// Where one fetched chunk goes: its place in the file being assembled. <see cref="WriteAsync"/> may be called again
/// (a retry) and writes the same place; it refuses bytes that are not the chunk.
/// </summary>
internal sealed class ChunkSink(SafeFileHandle file, ChunkRef chunk)
{
    private const int BufferSize = 81920;

    public ChunkRef Chunk { get; } = chunk;

    /// <summary>Copies <paramref name="body"/> into the chunk's place, checking its length and XXH128.</summary>
    /// <exception cref="TransferCorruptedException">the body is not the chunk's bytes.</exception>
    public async Task WriteAsync(Stream body, string source, CancellationToken cancellationToken)
    {
        var hash = new XxHash128();
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long written = 0;
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken)) > 0)
            {
                if (written + read > Chunk.Length)
                {
                    throw Corrupted(source, $"more than its {Chunk.Length} bytes");
                }

                hash.Append(buffer.AsSpan(0, read));
                await RandomAccess.WriteAsync(file, buffer.AsMemory(0, read), Chunk.Offset + written, cancellationToken);
                written += read;
            }

            if (written != Chunk.Length)
            {
                throw Corrupted(source, string.Create(CultureInfo.InvariantCulture, $"{written} bytes of its {Chunk.Length}"));
            }

            var xxh = Convert.ToHexStringLower(hash.GetCurrentHash());
            if (xxh != Chunk.XxHash128)
            {
                throw Corrupted(source, $"bytes whose XXH128 is {xxh}, not the manifest's {Chunk.XxHash128}");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private TransferCorruptedException Corrupted(string source, string what) =>
        new(string.Create(CultureInfo.InvariantCulture, $"the chunk at offset {Chunk.Offset} ({source}) brought {what}"));
}
