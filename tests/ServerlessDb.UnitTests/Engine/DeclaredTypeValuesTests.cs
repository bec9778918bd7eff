using ServerlessDb.Engine;

namespace ServerlessDb.UnitTests.Engine;

/// <summary>
/// go-sqlite3's reading of time columns (sqlite3.go SQLiteRows.Next, SQLiteTimestampFormats, parsed with
/// Go's time.ParseInLocation), as rqlite answers it (time.Time MarshalText). The first group is go-sqlite3's
/// own TestTimestamp, each value as it is stored.
/// </summary>
public sealed class DeclaredTypeValuesTests
{
    private static string FromText(string stored)
    {
        Assert.True(DeclaredTypeValues.TryTimeFromText(stored, out var text), text);
        return text;
    }

    private static string FromInteger(long stored)
    {
        Assert.True(DeclaredTypeValues.TryTimeFromInteger(stored, out var text), text);
        return text;
    }

    [Theory]
    [InlineData("nonsense", "0001-01-01T00:00:00Z")]
    [InlineData("0000-00-00 00:00:00", "0001-01-01T00:00:00Z")]
    [InlineData("2012-04-06 22:50:00+00:00", "2012-04-06T22:50:00Z")]
    [InlineData("2012-04-06 13:37:00-09:13", "2012-04-06T13:37:00-09:13")]
    [InlineData("2012-04-06 22:50:00.000", "2012-04-06T22:50:00Z")]
    [InlineData("2012-04-06T22:50:00.000", "2012-04-06T22:50:00Z")]
    [InlineData("2012-04-06 22:50:00", "2012-04-06T22:50:00Z")]
    [InlineData("2012-04-06T22:50:00", "2012-04-06T22:50:00Z")]
    [InlineData("2006-01-02 15:04:05.123456789+00:00", "2006-01-02T15:04:05.123456789Z")]
    [InlineData("2006-01-02 15:04:05.123456789", "2006-01-02T15:04:05.123456789Z")]
    [InlineData("2006-01-02T15:04:05.123456789", "2006-01-02T15:04:05.123456789Z")]
    [InlineData("2006-01-02T05:51:05.123456789-09:13", "2006-01-02T05:51:05.123456789-09:13")]
    [InlineData("2012-11-04", "2012-11-04T00:00:00Z")]
    [InlineData("2012-11-04 00:00", "2012-11-04T00:00:00Z")]
    [InlineData("2012-11-04 00:00:00", "2012-11-04T00:00:00Z")]
    [InlineData("2012-11-04 00:00:00.000", "2012-11-04T00:00:00Z")]
    [InlineData("2012-11-04T00:00", "2012-11-04T00:00:00Z")]
    [InlineData("2012-11-04T00:00:00", "2012-11-04T00:00:00Z")]
    [InlineData("2012-11-04T00:00:00.000", "2012-11-04T00:00:00Z")]
    [InlineData("2006-01-02T15:04:05.123456789Z", "2006-01-02T15:04:05.123456789Z")]
    [InlineData("2012-11-04Z", "2012-11-04T00:00:00Z")]
    [InlineData("2012-11-04 00:00Z", "2012-11-04T00:00:00Z")]
    [InlineData("2012-11-04 00:00:00Z", "2012-11-04T00:00:00Z")]
    [InlineData("2012-11-04 00:00:00.000Z", "2012-11-04T00:00:00Z")]
    [InlineData("2012-11-04T00:00Z", "2012-11-04T00:00:00Z")]
    [InlineData("2012-11-04T00:00:00Z", "2012-11-04T00:00:00Z")]
    [InlineData("2012-11-04T00:00:00.000Z", "2012-11-04T00:00:00Z")]
    public void Go_sqlite3_timestamp_test_cases(string stored, string expected) => Assert.Equal(expected, FromText(stored));

    [Theory]
    [InlineData("2004-02-14", "2004-02-14T00:00:00Z")]
    [InlineData("2004-02-14 07:15:00", "2004-02-14T07:15:00Z")]
    [InlineData("2021-10-22 19:39:32.016087", "2021-10-22T19:39:32.016087Z")]
    public void Rqlite_sqlite_time_types_test_cases(string stored, string expected) => Assert.Equal(expected, FromText(stored));

    [Theory]
    [InlineData("2012-11-04 1:02", "2012-11-04T01:02:00Z")] // Go's "15" takes one or two digits
    [InlineData("2012-11-04   10:02:03", "2012-11-04T10:02:03Z")] // a layout space matches a run of spaces
    [InlineData("2012-11-04 10:02:03,5", "2012-11-04T10:02:03.5Z")] // ',' is a decimal separator too
    [InlineData("2012-11-04 10:02:03.1234567891234", "2012-11-04T10:02:03.123456789Z")] // nanoseconds kept, the rest dropped
    [InlineData("2012-11-04 10:02:03.5+01:00", "2012-11-04T10:02:03.5+01:00")]
    [InlineData("2012-11-04 10:02:03-00:00", "2012-11-04T10:02:03Z")] // a zero offset is UTC
    [InlineData("2012-11-04 10:02:03+01:60", "2012-11-04T10:02:03+02:00")] // minutes up to 60
    [InlineData("2012-11-04T10:02:03+05:30Z", "2012-11-04T10:02:03+05:30")] // one trailing Z dropped first
    [InlineData("0000-02-29", "0000-02-29T00:00:00Z")] // year 0 is a leap year
    [InlineData("2000-02-29 23:59:59", "2000-02-29T23:59:59Z")]
    [InlineData("9999-12-31 23:59:59.999999999", "9999-12-31T23:59:59.999999999Z")]
    public void Go_parse_rules_apply(string stored, string expected) => Assert.Equal(expected, FromText(stored));

    [Theory]
    [InlineData("")]
    [InlineData(" 2012-11-04")]
    [InlineData("2012-11-04ZZ")]
    [InlineData("2012-11-04 ")]
    [InlineData("2012-11-04t10:02")]
    [InlineData("2012-1-04")]
    [InlineData("2012-11-4")]
    [InlineData("12012-11-04")]
    [InlineData("2012-13-01")]
    [InlineData("2012-02-30")]
    [InlineData("2100-02-29")]
    [InlineData("2012-11-04 24:00")]
    [InlineData("2012-11-04 10:60")]
    [InlineData("2012-11-04 10:02:60")]
    [InlineData("2012-11-04 10:02:03.")]
    [InlineData("2012-11-04 10:02:03+0100")]
    [InlineData("2012-11-04 10:02:03+25:00")]
    [InlineData("2012-11-04 10:02:03+01:61")]
    [InlineData("2012-11-04 10:02:03 +01:00")]
    [InlineData("2012-11-04 10:02:03 UTC")]
    [InlineData("１２３４-11-04")]
    [InlineData("1700000000")]
    public void Text_that_no_format_parses_is_go_zero_time(string stored) => Assert.Equal(DeclaredTypeValues.ZeroTime, FromText(stored));

    [Theory]
    [InlineData("2012-11-04 10:02:03+24:00", "Time.MarshalText: timezone hour outside of range [0,23]")]
    [InlineData("2012-11-04 10:02:03-23:60", "Time.MarshalText: timezone hour outside of range [0,23]")]
    public void An_offset_go_parses_but_cannot_write_fails(string stored, string message)
    {
        Assert.False(DeclaredTypeValues.TryTimeFromText(stored, out var text));
        Assert.Equal(message, text);
    }

    [Theory]
    [InlineData(0L, "1970-01-01T00:00:00Z")]
    [InlineData(-62_135_596_800L, "0001-01-01T00:00:00Z")] // go-sqlite3's test: time.Time{}.Unix()
    [InlineData(1_136_214_245L, "2006-01-02T15:04:05Z")] // go-sqlite3's test: seconds
    [InlineData(1_136_214_245_123L, "2006-01-02T15:04:05.123Z")] // go-sqlite3's test: milliseconds
    [InlineData(1_000_000_000_001L, "2001-09-09T01:46:40.001Z")]
    [InlineData(-1_000_000_000_001L, "1938-04-24T22:13:19.999Z")]
    [InlineData(253_402_300_799L, "9999-12-31T23:59:59Z")]
    [InlineData(-62_167_219_200L, "0000-01-01T00:00:00Z")]
    [InlineData(long.MaxValue, "1969-12-31T23:59:59.999Z")] // Go's milliseconds-to-nanoseconds multiplication wraps
    [InlineData(long.MinValue, "1970-01-01T00:00:00Z")]
    public void Integers_are_unix_seconds_or_beyond_1e12_milliseconds(long stored, string expected) =>
        Assert.Equal(expected, FromInteger(stored));

    [Theory]
    [InlineData(999_999_999_999L)] // year 33658
    [InlineData(1_000_000_000_000L)]
    [InlineData(-1_000_000_000_000L)]
    [InlineData(253_402_300_800L)]
    [InlineData(-62_167_219_201L)]
    public void Seconds_whose_year_go_cannot_write_fail(long stored)
    {
        Assert.False(DeclaredTypeValues.TryTimeFromInteger(stored, out var error));
        Assert.Equal("Time.MarshalText: year outside of range [0,9999]", error);
    }

    [Theory]
    [InlineData("date", "Time")]
    [InlineData("datetime", "Time")]
    [InlineData("timestamp", "Time")]
    [InlineData("boolean", "Boolean")]
    [InlineData("datetime(3)", "None")]
    [InlineData("timestamp with time zone", "None")]
    [InlineData("time", "None")]
    [InlineData("bool", "None")]
    [InlineData("text", "None")]
    [InlineData("", "None")]
    public void Declared_types_are_compared_whole(string declared, string conversion) =>
        Assert.Equal(conversion, DeclaredTypeValues.ConversionFor(declared).ToString());
}
