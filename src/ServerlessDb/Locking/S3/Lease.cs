using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ServerlessDb.Locking.S3;

/// <summary>
/// What a lease object holds: who holds the lock, a lease id new for every acquisition (so no two
/// leases have the same ETag, and a writer recognises its own lease after a lost answer), and when it
/// was taken and ends. Past <see cref="ExpiresAt"/> the holder is surely gone, and another writer may
/// take the lease over.
/// </summary>
internal sealed record Lease(string Holder, string LeaseId, DateTimeOffset AcquiredAt, DateTimeOffset ExpiresAt)
{
    public bool IsExpiredAt(DateTimeOffset now) => now > ExpiresAt;

    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("holder", Holder);
            json.WriteString("leaseId", LeaseId);
            json.WriteString("acquiredAt", AcquiredAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("expiresAt", ExpiresAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The lease <paramref name="json"/> describes, or null when it is not a whole lease (written by hand, truncated).</summary>
    public static Lease? TryParse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || Text(root, "holder") is not { } holder
                || Text(root, "leaseId") is not { Length: > 0 } leaseId
                || Time(root, "acquiredAt") is not { } acquiredAt
                || Time(root, "expiresAt") is not { } expiresAt)
            {
                return null;
            }

            return new Lease(holder, leaseId, acquiredAt, expiresAt);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public override string ToString() => Encoding.UTF8.GetString(ToJson());

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static DateTimeOffset? Time(JsonElement root, string name) =>
        Text(root, name) is { } text
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : null;
}
