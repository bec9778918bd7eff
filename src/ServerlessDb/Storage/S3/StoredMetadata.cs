using Amazon.S3.Model;
using ServerlessDb.Storage.Chunked;

namespace ServerlessDb.Storage.S3;

/// <summary>
/// What a stored version's metadata and body say, read the same way by the store and the chunk collector:
/// a user metadata value by name (the collection keeps the header names' case as the server sent them), its time in
/// UTC, whether the version is a manifest, and a manifest's body checked against the CRC32 its commit stored.
/// </summary>
internal static class StoredMetadata
{
    public static string? Value(MetadataCollection metadata, string name) => metadata.Keys
        .Where(key => string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
        .Select(key => metadata[key])
        .FirstOrDefault();

    /// <summary>A time S3 sent (in UTC), which the SDK gives as a local or unspecified DateTime; the minimum when there is none.</summary>
    public static DateTimeOffset Utc(DateTime? time) => time is { } value
        ? new DateTimeOffset(value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero)
        : DateTimeOffset.MinValue;

    /// <summary>The version is a manifest (STORAGE_LAYOUT=chunked), not a SQLite file.</summary>
    public static bool IsManifest(MetadataCollection metadata) =>
        string.Equals(Value(metadata, S3DatabaseStore.LayoutMetadataKey), S3DatabaseStore.ChunkedLayoutName, StringComparison.Ordinal);

    /// <summary>
    /// Reads a manifest's body (small: at most <see cref="ChunkManifest.MaxBytes"/>, which the caller checks first) and
    /// says why it cannot be trusted: its CRC32 differs from the one its commit stored; null when it matches or none was stored.
    /// </summary>
    public static async Task<(byte[] Json, string? Mismatch)> ReadManifestBodyAsync(GetObjectResponse response, CancellationToken cancellationToken)
    {
        byte[] json;
        await using (var body = response.ResponseStream)
        using (var buffer = new MemoryStream())
        {
            await body.CopyToAsync(buffer, cancellationToken);
            json = buffer.ToArray();
        }

        var stored = ObjectChecksum.Stored(response.Metadata);
        var crc32 = ObjectChecksum.Of(json);
        return (json, stored is not null && crc32 != stored ? $"its {json.Length} bytes have CRC32 {crc32}, and its commit stored {stored}" : null);
    }
}
