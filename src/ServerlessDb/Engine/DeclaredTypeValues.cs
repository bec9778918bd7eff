using ServerlessDb.Domain;

namespace ServerlessDb.Engine;

/// <summary>
/// What rqlite's SQLite driver (go-sqlite3, sqlite3.go's <c>SQLiteRows.Next</c>) makes of a value from
/// its column's declared type, and what rqlite then sends (db/db.go's <c>normalizeRowParameters</c>).
/// The declared type is compared whole, in lower case: <c>date</c>, <c>datetime</c> and <c>timestamp</c>
/// are time columns, <c>boolean</c> a boolean one; <c>DATETIME(3)</c> or <c>BOOL</c> are neither.
/// <list type="bullet">
/// <item>INTEGER in a time column: Unix seconds, or milliseconds beyond ±1e12; TEXT in a time column: the
/// first of <see cref="SqliteTimestampFormats"/> that parses, after one trailing <c>Z</c> is dropped, else
/// Go's zero time <c>0001-01-01T00:00:00Z</c>. Either is answered as RFC 3339 text (<see cref="GoTime"/>);
/// a year Go cannot write fails the statement with Go's message.</item>
/// <item>INTEGER in a boolean column: true when above 0.</item>
/// <item>Everything else (REAL, BLOB, NULL, other columns) as SQLite returns it.</item>
/// </list>
/// </summary>
internal static class DeclaredTypeValues
{
    /// <summary>Go's <c>time.Time{}</c>, which go-sqlite3 returns for time text that does not parse.</summary>
    public const string ZeroTime = "0001-01-01T00:00:00Z";

    public static DeclaredConversion ConversionFor(string lowerCaseDeclaredType) => lowerCaseDeclaredType switch
    {
        "date" or "datetime" or "timestamp" => DeclaredConversion.Time,
        "boolean" => DeclaredConversion.Boolean,
        _ => DeclaredConversion.None,
    };

    /// <summary>An INTEGER value of a time column; false with Go's message when Go cannot write its year.</summary>
    public static bool TryTimeFromInteger(long value, out string text)
    {
        // go-sqlite3: "Assume a millisecond unix timestamp if it's 13 digits"; Go's multiplication wraps.
        var time = value is > 1_000_000_000_000 or < -1_000_000_000_000
            ? GoTime.FromUnixNanoseconds(unchecked(value * 1_000_000))
            : new GoTime(value, 0, 0);
        return time.TryFormat(out text);
    }

    /// <summary>A TEXT value of a time column; false with Go's message when Go cannot write it.</summary>
    public static bool TryTimeFromText(string value, out string text)
    {
        var trimmed = value.EndsWith('Z') ? value[..^1] : value;
        foreach (var format in SqliteTimestampFormats.All)
        {
            if (SqliteTimestampFormats.TryParse(trimmed, format, out var time))
            {
                return time.TryFormat(out text);
            }
        }

        text = ZeroTime;
        return true;
    }
}

internal enum DeclaredConversion
{
    None,
    Time,
    Boolean,
}
