using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessDb.Storage.Chunked;

/// <summary>
/// One version of a database stored in chunks (STORAGE_LAYOUT=chunked): the file's length and page size, and
/// the fixed-size, page-aligned chunks it is cut into, each addressed by its offset and named by the SHA-256
/// of its bytes (the chunk object's name, so a chunk never changes once stored). The manifest is the object a
/// commit replaces conditionally, so it stays the fence; the chunks it names are uploaded before it.
/// </summary>
/// <remarks>
/// Each chunk also records an XXH128 of its bytes: a commit finds the chunks it changed by comparing its
/// working copy's XXH128s with its base's (a few milliseconds for 200 MB, where SHA-256 takes 150), hashes only
/// those with SHA-256, and a download checks every chunk it writes against its XXH128. A chunk is a whole number
/// of pages of any SQLite page size, so a cached chunk is usable on its own by a reader that fetches pages.
/// </remarks>
internal sealed record ChunkManifest(long Length, int PageSize, int ChunkSize, IReadOnlyList<ChunkRef> Chunks)
{
    /// <summary>The format name a manifest carries, so that no other JSON is taken for one.</summary>
    public const string FormatName = "serverlessdb-chunked-v1";

    /// <summary>Manifests are small (about 150 bytes a chunk); anything larger is not one of ours.</summary>
    public const int MaxBytes = 8 * 1024 * 1024;

    /// <summary>The largest SQLite page: every chunk size is a multiple of it, so chunks hold whole pages.</summary>
    public const int ChunkAlignment = 65536;

    /// <summary>
    /// The piece of a chunk a manifest records a CRC32 of (<see cref="ChunkRef.PieceCrc32s"/>): the unit a lazy reader
    /// fetches and caches, so every ranged fetch of a chunk is checked, not only a whole chunk against its SHA-256.
    /// </summary>
    public const int PieceBytes = 128 * 1024;

    /// <summary>The manifest of an empty database: no chunks.</summary>
    public static ChunkManifest Empty(int chunkSize) => new(0, 0, chunkSize, []);

    /// <summary>The manifest as stored: UTF-8 JSON.</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(
        new ManifestDocument(FormatName, Length, PageSize, ChunkSize, [.. Chunks.Select(c => new ChunkDocument(c.Offset, c.Length, c.Sha256, c.XxHash128, c.PieceCrc32s))]),
        ManifestJsonContext.Default.ManifestDocument);

    /// <summary>Reads a stored manifest, checking that its chunks tile the file exactly.</summary>
    /// <exception cref="FormatException">the bytes are not a manifest of this format, or its chunks do not add up.</exception>
    public static ChunkManifest Parse(ReadOnlySpan<byte> json)
    {
        ManifestDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, ManifestJsonContext.Default.ManifestDocument);
        }
        catch (JsonException e)
        {
            throw new FormatException($"The manifest is not valid JSON: {e.Message}", e);
        }

        if (document is null || document.Format != FormatName)
        {
            throw new FormatException($"The object is not a {FormatName} manifest (format '{document?.Format}').");
        }

        if (document.ChunkSize < ChunkAlignment || document.ChunkSize % ChunkAlignment != 0)
        {
            throw new FormatException(Invariant($"The manifest's chunk size {document.ChunkSize} is not a positive multiple of {ChunkAlignment}."));
        }

        var chunks = new List<ChunkRef>(document.Chunks?.Count ?? 0);
        long offset = 0;
        foreach (var chunk in document.Chunks ?? [])
        {
            var last = offset + document.ChunkSize >= document.Length;
            var expected = last ? document.Length - offset : document.ChunkSize;
            if (chunk.Offset != offset || chunk.Length != expected || !IsHex(chunk.Sha256, 64) || !IsHex(chunk.Xxh128, 32)
                || (chunk.PieceCrc32s is not null && !IsHex(chunk.PieceCrc32s, ChunkRef.PieceCount(chunk.Length) * 8)))
            {
                throw new FormatException(Invariant($"The manifest's chunk {chunks.Count} (offset {chunk.Offset}, {chunk.Length} bytes) does not follow the chunk before it at offset {offset} with {expected} bytes and hex hashes."));
            }

            chunks.Add(new ChunkRef(chunk.Offset, chunk.Length, chunk.Sha256!, chunk.Xxh128!, chunk.PieceCrc32s));
            offset += chunk.Length;
        }

        if (offset != document.Length)
        {
            throw new FormatException(Invariant($"The manifest's chunks hold {offset} bytes of a {document.Length}-byte file."));
        }

        return new ChunkManifest(document.Length, document.PageSize, document.ChunkSize, chunks);
    }

    private static bool IsHex(string? value, int length) =>
        value is not null && value.Length == length && value.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One chunk of a <see cref="ChunkManifest"/>: where it sits in the file, how long it is, and its hashes (lower-case hex).</summary>
/// <param name="PieceCrc32s">
/// the CRC32 of each <see cref="ChunkManifest.PieceBytes"/> piece of the chunk (the last may be shorter), 8 hex digits
/// each, in order; null in manifests written before they were recorded, whose pieces a lazy reader cannot check.
/// </param>
internal sealed record ChunkRef(long Offset, int Length, string Sha256, string XxHash128, string? PieceCrc32s = null)
{
    /// <summary>How many pieces a chunk of <paramref name="length"/> bytes has.</summary>
    public static int PieceCount(int length) => (length + ChunkManifest.PieceBytes - 1) / ChunkManifest.PieceBytes;

    /// <summary>The <see cref="PieceCrc32s"/> of <paramref name="bytes"/>, a chunk's bytes.</summary>
    public static string PieceChecksumsOf(ReadOnlySpan<byte> bytes)
    {
        var text = new System.Text.StringBuilder(PieceCount(bytes.Length) * 8);
        for (var start = 0; start < bytes.Length; start += ChunkManifest.PieceBytes)
        {
            text.Append(Crc32Hex(bytes.Slice(start, Math.Min(ChunkManifest.PieceBytes, bytes.Length - start))));
        }

        return text.ToString();
    }

    /// <summary>
    /// Checks the whole pieces that <paramref name="fetched"/>, the chunk's bytes from <paramref name="offsetInChunk"/>,
    /// holds against <see cref="PieceCrc32s"/>; a part of a piece cannot be checked. Null when they agree (or none are recorded), else what differs.
    /// </summary>
    public string? FindDamage(int offsetInChunk, ReadOnlySpan<byte> fetched)
    {
        if (PieceCrc32s is null)
        {
            return null;
        }

        var first = (offsetInChunk + ChunkManifest.PieceBytes - 1) / ChunkManifest.PieceBytes;
        for (var piece = first; piece < PieceCount(Length); piece++)
        {
            var start = piece * ChunkManifest.PieceBytes;
            var end = Math.Min(start + ChunkManifest.PieceBytes, Length);
            if (end > offsetInChunk + fetched.Length)
            {
                break;
            }

            var crc32 = Crc32Hex(fetched.Slice(start - offsetInChunk, end - start));
            if (!PieceCrc32s.AsSpan(piece * 8, 8).SequenceEqual(crc32))
            {
                return Invariant($"piece {piece} (bytes {start}-{end - 1}) has CRC32 {crc32}, and the manifest says {PieceCrc32s.Substring(piece * 8, 8)}");
            }
        }

        return null;
    }

    private static string Crc32Hex(ReadOnlySpan<byte> bytes) => System.IO.Hashing.Crc32.HashToUInt32(bytes).ToString("x8", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>True when <paramref name="other"/> is the same bytes at the same place.</summary>
    public bool SameAs(ChunkRef? other) =>
        other is not null && other.Offset == Offset && other.Length == Length && other.Sha256 == Sha256;
}

internal sealed record ManifestDocument(
    [property: JsonPropertyName("format")] string? Format,
    [property: JsonPropertyName("length")] long Length,
    [property: JsonPropertyName("page_size")] int PageSize,
    [property: JsonPropertyName("chunk_size")] int ChunkSize,
    [property: JsonPropertyName("chunks")] List<ChunkDocument>? Chunks);

internal sealed record ChunkDocument(
    [property: JsonPropertyName("offset")] long Offset,
    [property: JsonPropertyName("length")] int Length,
    [property: JsonPropertyName("sha256")] string? Sha256,
    [property: JsonPropertyName("xxh128")] string? Xxh128,
    [property: JsonPropertyName("piece_crc32")] string? PieceCrc32s = null);

[JsonSerializable(typeof(ManifestDocument))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
