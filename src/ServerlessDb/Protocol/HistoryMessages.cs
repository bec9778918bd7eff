namespace ServerlessDb.Protocol;

/// <summary>The messages users see for time travel's requests (<c>as_of</c>, <c>version</c>, <c>/db/versions</c>, <c>/db/restore</c>).</summary>
public static class HistoryMessages
{
    public const string BothAsOfAndVersion = "as_of and version name a version each: send one of them";

    public const string WriteWithPointInTime =
        "as_of and version read an old version: they are for reads (/db/query, read-only requests, /db/backup); to make an old version current, POST /db/restore";

    public const string MissingPointInTime = "POST /db/restore needs version=ID or as_of=TIME (RFC 3339): which version to make current";

    public static string InvalidAsOf(string value) =>
        $"invalid as_of '{value}': use an RFC 3339 time such as 2026-01-02T15:04:05Z or 2026-01-02T15:04:05.5+01:00 (in a URL, write + as %2B)";

    public static string InvalidVersionId(string value, int maxLength) =>
        $"invalid version '{Shorten(value)}': a version id is 1 to {maxLength} letters, digits or . _ - + / = (GET /db/versions lists them)";

    public static string InvalidNext(string value) => $"invalid next '{Shorten(value)}': pass the next token of the previous page as it was";

    private static string Shorten(string value) => value.Length > 80 ? value[..80] + "..." : value;
}
