using System.Buffers.Binary;
using System.IO.Hashing;

namespace ServerlessDb.Storage;

/// <summary>
/// End-to-end integrity of database objects at a fraction of the SDK's cost: the SDK's own CRC32 and MD5 are
/// managed, byte at a time, and were a quarter of a container's CPU on each transfer. Instead a commit computes
/// the file's CRC32 once (System.IO.Hashing, vectorized) and sends it as the object's full-object checksum, which
/// S3 verifies before it stores anything, and as user metadata, which every GET brings back; a download computes
/// the CRC32 of what it writes to disk as it goes and refuses bytes that differ. With the SDK's checksums off
/// (WHEN_REQUIRED) and downloads asked as a range of the whole object (the SDK checks a ranged body against no
/// MD5), no byte is hashed twice.
/// </summary>
internal static class ObjectChecksum
{
    /// <summary>User metadata (<c>x-amz-meta-serverlessdb-crc32</c> in S3): the object's CRC32, base64 of its 4 big-endian bytes, as S3 writes checksums.</summary>
    public const string MetadataKey = "serverlessdb-crc32";

    private const int BufferSize = 81920;

    /// <summary>The CRC32 of the file at <paramref name="path"/>, in S3's form.</summary>
    public static async Task<string> OfFileAsync(string path, CancellationToken cancellationToken)
    {
        var crc = new Crc32();
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await crc.AppendAsync(file, cancellationToken);
        return Format(crc);
    }

    /// <summary>The CRC32 of <paramref name="bytes"/>, in S3's form.</summary>
    public static string Of(ReadOnlySpan<byte> bytes)
    {
        var crc = new Crc32();
        crc.Append(bytes);
        return Format(crc);
    }

    /// <summary>Copies <paramref name="body"/> to <paramref name="target"/> and returns the CRC32 of what was copied, in S3's form.</summary>
    public static async Task<string> CopyAsync(Stream body, Stream target, CancellationToken cancellationToken)
    {
        var crc = new Crc32();
        var buffer = new byte[BufferSize];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            crc.Append(buffer.AsSpan(0, read));
            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }

        return Format(crc);
    }

    /// <summary>The CRC32 a commit stored with the object; null for an object written some other way.</summary>
    public static string? Stored(ObjectMetadata metadata) => metadata.Value(MetadataKey);

    private static string Format(Crc32 crc)
    {
        Span<byte> value = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(value, crc.GetCurrentHashAsUInt32());
        return Convert.ToBase64String(value);
    }
}
