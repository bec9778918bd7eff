using ServerlessDb.Storage.Chunked;

namespace ServerlessDb.Storage;

/// <summary>
/// What the store writes in a stored version's metadata, and its one reading back, for the store and the chunk collector:
/// the commit that wrote the version and its lineage (<see cref="StoredCommit"/>), whether it is a manifest, and a
/// manifest's body checked against the CRC32 its commit stored. Names are the port's (S3 sends them as
/// <c>x-amz-meta-{name}</c>).
/// </summary>
internal static class StoredMetadata
{
    /// <summary>The commit that wrote a version (<c>x-amz-meta-serverlessdb-commit-id</c> in S3).</summary>
    public const string CommitIdKey = "serverlessdb-commit-id";

    /// <summary>The ETag of the version a commit was based on (<c>none</c> for a create).</summary>
    public const string ParentETagKey = "serverlessdb-parent-etag";

    /// <summary>The commit's nearest ancestors (<see cref="StoredCommit.Format"/>), newest first.</summary>
    public const string LineageKey = "serverlessdb-lineage";

    /// <summary>Marks a stored version as a manifest; absent on a whole SQLite file.</summary>
    public const string LayoutKey = "serverlessdb-layout";

    /// <summary>The value of <see cref="LayoutKey"/> on a manifest.</summary>
    public const string ChunkedLayoutName = "chunked";

    /// <summary>The version is a manifest (STORAGE_LAYOUT=chunked), not a SQLite file.</summary>
    public static bool IsManifest(ObjectMetadata metadata) =>
        string.Equals(metadata.Value(LayoutKey), ChunkedLayoutName, StringComparison.Ordinal);

    /// <summary>The metadata of a commit: its checksum, its layout, itself and its lineage.</summary>
    public static Dictionary<string, string> OfCommit(string crc32, bool manifest, IReadOnlyList<CommitLink> lineage)
    {
        var user = new Dictionary<string, string>(StringComparer.Ordinal) { [ObjectChecksum.MetadataKey] = crc32 };
        if (manifest)
        {
            user[LayoutKey] = ChunkedLayoutName;
        }

        user[CommitIdKey] = lineage[0].CommitId;
        user[ParentETagKey] = lineage[0].ParentETag;
        if (lineage.Count > 1)
        {
            user[LineageKey] = StoredCommit.Format(lineage.Skip(1));
        }

        return user;
    }

    /// <summary>The stored version <paramref name="etag"/> and the commits its metadata records (none when ServerlessDb did not write it).</summary>
    public static StoredCommit CommitOf(string etag, ObjectMetadata metadata)
    {
        if (metadata.Value(CommitIdKey) is not { } commitId || metadata.Value(ParentETagKey) is not { } parent)
        {
            return new StoredCommit(etag, []);
        }

        return new StoredCommit(etag, [new CommitLink(commitId, parent), .. StoredCommit.Parse(metadata.Value(LineageKey))]);
    }

    /// <summary>
    /// Reads a manifest's body (small: at most <see cref="ChunkManifest.MaxBytes"/>, which the caller checks first) and
    /// says why it cannot be trusted: its CRC32 differs from the one its commit stored; null when it matches or none was stored.
    /// </summary>
    public static async Task<(byte[] Json, string? Mismatch)> ReadManifestBodyAsync(ObjectRead read, CancellationToken cancellationToken)
    {
        byte[] json;
        using (var buffer = new MemoryStream())
        {
            await read.Body!.CopyToAsync(buffer, cancellationToken);
            json = buffer.ToArray();
        }

        var stored = ObjectChecksum.Stored(read.Info!.Metadata);
        var crc32 = ObjectChecksum.Of(json);
        return (json, stored is not null && crc32 != stored ? $"its {json.Length} bytes have CRC32 {crc32}, and its commit stored {stored}" : null);
    }
}
