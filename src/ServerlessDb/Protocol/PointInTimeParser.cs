using System.Globalization;
using System.Text.RegularExpressions;
using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Protocol;

/// <summary>
/// Reads time travel's flags: <c>as_of=</c>, an RFC 3339 time with its offset (<c>Z</c> or <c>±hh:mm</c>), and
/// <c>version=</c>, a stored version's id. Anything else, or both together, is a 400: a typo must not read
/// the current version as though it were the old one.
/// </summary>
internal static partial class PointInTimeParser
{
    public const string AsOfFlag = "as_of";
    public const string VersionFlag = "version";

    /// <summary>Null when neither flag is present.</summary>
    public static PointInTime? Parse(IReadOnlyDictionary<string, string> query)
    {
        var asOf = query.TryGetValue(AsOfFlag, out var time) ? time : null;
        var version = query.TryGetValue(VersionFlag, out var id) ? id : null;
        return (asOf, version) switch
        {
            (null, null) => null,
            ({ }, { }) => throw new BadRequestException(HistoryMessages.BothAsOfAndVersion),
            ({ } t, null) => PointInTime.At(ParseTime(t)),
            (null, { } v) => PointInTime.IsVersionId(v) ? PointInTime.Version(v) : throw new BadRequestException(HistoryMessages.InvalidVersionId(v, PointInTime.MaxVersionIdLength)),
        };
    }

    /// <exception cref="BadRequestException"><paramref name="value"/> is not an RFC 3339 date-time.</exception>
    public static DateTimeOffset ParseTime(string value)
    {
        var match = Rfc3339().Match(value);
        if (!match.Success)
        {
            throw new BadRequestException(HistoryMessages.InvalidAsOf(value));
        }

        // .NET parses at most seven fraction digits (100 ns ticks); RFC 3339 allows any number.
        var fraction = match.Groups["fraction"].Value;
        var text = match.Groups["datetime"].Value + (fraction.Length > 8 ? fraction[..8] : fraction) + match.Groups["offset"].Value.ToUpperInvariant();
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed.ToUniversalTime()
            : throw new BadRequestException(HistoryMessages.InvalidAsOf(value));
    }

    [GeneratedRegex(@"\A(?<datetime>[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2})(?<fraction>\.[0-9]{1,9})?(?<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();
}
