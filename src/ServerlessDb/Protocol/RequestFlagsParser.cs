using System.Globalization;
using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Protocol;

/// <summary>Reads <see cref="RequestFlags"/> from a query string. Flags count by presence; unknown ones are ignored, as rqlite does.</summary>
internal static class RequestFlagsParser
{
    private static readonly ulong MaxSeconds = (ulong)TimeSpan.MaxValue.TotalSeconds;

    public static RequestFlags Parse(IReadOnlyDictionary<string, string> query)
    {
        var database = query.TryGetValue("db", out var db) ? db : RequestFlags.DefaultDatabase;
        if (!DatabaseName.IsValid(database))
        {
            throw new BadRequestException(ProtocolMessages.InvalidDatabaseName(database));
        }

        return new RequestFlags
        {
            Database = database,
            Transaction = query.ContainsKey("transaction"),
            Timings = query.ContainsKey("timings"),
            Associative = query.ContainsKey("associative"),
            Pretty = query.ContainsKey("pretty"),
            Level = query.TryGetValue("level", out var level) ? ParseLevel(level) : ConsistencyLevel.Weak,
            Freshness = Duration(query, "freshness"),
            StatementTimeout = Duration(query, "db_timeout"),
            At = PointInTimeParser.Parse(query),
        };
    }

    private static ConsistencyLevel ParseLevel(string value) => value.ToLowerInvariant() switch
    {
        "" or "weak" => ConsistencyLevel.Weak,
        "none" => ConsistencyLevel.None,
        "strong" => ConsistencyLevel.Strong,
        "linearizable" => ConsistencyLevel.Linearizable,
        "auto" => ConsistencyLevel.Auto,
        _ => throw new BadRequestException(ProtocolMessages.UnrecognizedLevel(value)),
    };

    private static TimeSpan? Duration(IReadOnlyDictionary<string, string> query, string flag)
    {
        if (!query.TryGetValue(flag, out var value) || value.Length == 0)
        {
            return null;
        }

        // A bare number is taken as seconds, for curl users; anything else must be a Go duration.
        if (value.All(char.IsAsciiDigit))
        {
            return ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds <= MaxSeconds
                ? TimeSpan.FromSeconds(seconds)
                : throw new BadRequestException(ProtocolMessages.DurationOutOfRange(flag, value));
        }

        return GoDuration.TryParse(value, out var duration)
            ? duration
            : throw new BadRequestException(ProtocolMessages.InvalidDuration(flag, value));
    }
}
