using System.Globalization;

namespace Cli.Api;

/// <summary>
/// What <c>.at</c>, <c>--at</c> and <c>restore</c> take: an RFC 3339 time (read as <c>as_of</c>), or else a
/// version id as <c>versions</c> lists it (read as <c>version</c>).
/// </summary>
internal sealed record PointInTime(string Parameter, string Value)
{
    public static PointInTime Parse(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            throw new CliException(ExitCodes.Usage, "A time (RFC 3339, such as 2026-12-02T10:15:00Z) or a version id is needed.");
        }

        return LooksLikeTime(trimmed) && DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? new PointInTime("as_of", time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture))
            : new PointInTime("version", trimmed);
    }

    public bool IsTime => Parameter == "as_of";

    public override string ToString() => IsTime ? $"as of {Value}" : $"version {Value}";

    // A version id may be digits and dashes too (the local folder's "2-66582e39..."): only a date-shaped text is a time.
    private static bool LooksLikeTime(string text) =>
        text.Length >= 10 && char.IsAsciiDigit(text[0]) && text[4] == '-' && text[7] == '-' && (text.Length == 10 || text[10] is 'T' or 't' or ' ');
}
