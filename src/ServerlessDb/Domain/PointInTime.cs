using System.Globalization;

namespace ServerlessDb.Domain;

/// <summary>
/// Which stored version a time-travel request reads (<c>version=</c> or <c>as_of=</c>): one by its id, or
/// the one that was current at a time, the newest committed at or before it. Exactly one of the two is set.
/// </summary>
internal sealed record PointInTime
{
    private PointInTime(string? versionId, DateTimeOffset? asOf)
    {
        VersionId = versionId;
        AsOf = asOf;
    }

    /// <summary>The store's id of the version (S3's VersionId; the local folder's version tag).</summary>
    public string? VersionId { get; }

    public DateTimeOffset? AsOf { get; }

    /// <summary>The longest version id taken: S3's limit.</summary>
    public const int MaxVersionIdLength = 1024;

    public static PointInTime Version(string versionId) => new(versionId, null);

    /// <summary>Characters an id of S3's or the local folder's may have; checked whole (no regex, whose <c>$</c> lets a final newline through).</summary>
    public static bool IsVersionId(string value) =>
        value.Length is >= 1 and <= MaxVersionIdLength && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '+' or '/' or '=');

    public static PointInTime At(DateTimeOffset asOf) => new(null, asOf.ToUniversalTime());

    public override string ToString() => VersionId is { } id
        ? "version " + id
        : "as of " + AsOf!.Value.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}
