using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ServerlessDb.Domain;

namespace ServerlessDb.UnitTests.Domain;

/// <summary>Go's time.Time MarshalText (RFC3339Nano), which rqlite uses for dates and /status times.</summary>
public sealed class GoTimeTests
{
    private static string Format(GoTime time)
    {
        Assert.True(time.TryFormat(out var text), text);
        return text;
    }

    [Fact]
    public void Go_zero_time_is_year_one() => Assert.Equal("0001-01-01T00:00:00Z", Format(new GoTime(-62_135_596_800, 0, 0)));

    [Theory]
    [InlineData(0L, 0, 0, "1970-01-01T00:00:00Z")]
    [InlineData(1_136_214_245L, 123_456_789, 0, "2006-01-02T15:04:05.123456789Z")]
    [InlineData(1_136_214_245L, 120_000_000, 0, "2006-01-02T15:04:05.12Z")]
    [InlineData(1_136_214_245L, 1, 0, "2006-01-02T15:04:05.000000001Z")]
    [InlineData(1_333_752_600L, 0, -((9 * 3600) + (13 * 60)), "2012-04-06T13:37:00-09:13")]
    [InlineData(1_333_752_600L, 0, 5 * 3600 + 30 * 60, "2012-04-07T04:20:00+05:30")]
    [InlineData(-62_167_219_200L, 0, 0, "0000-01-01T00:00:00Z")]
    [InlineData(253_402_300_799L, 999_999_999, 0, "9999-12-31T23:59:59.999999999Z")]
    [InlineData(-1L, 999_000_000, 0, "1969-12-31T23:59:59.999Z")]
    public void It_writes_rfc3339_with_nanoseconds_and_the_offset(long seconds, int nanoseconds, int offset, string expected) =>
        Assert.Equal(expected, Format(new GoTime(seconds, nanoseconds, offset)));

    [Theory]
    [InlineData(-62_167_219_201L, 0, "Time.MarshalText: year outside of range [0,9999]")]
    [InlineData(253_402_300_800L, 0, "Time.MarshalText: year outside of range [0,9999]")]
    [InlineData(1_000_000_000_000L, 0, "Time.MarshalText: year outside of range [0,9999]")]
    [InlineData(0L, 24 * 3600, "Time.MarshalText: timezone hour outside of range [0,23]")]
    [InlineData(0L, -24 * 3600, "Time.MarshalText: timezone hour outside of range [0,23]")]
    public void It_refuses_what_go_refuses(long seconds, int offset, string message)
    {
        Assert.False(new GoTime(seconds, 0, offset).TryFormat(out var text));
        Assert.Equal(message, text);
    }

    [Fact]
    public void Unix_nanoseconds_are_floored_as_go_time_unix_does() =>
        Assert.Equal(new GoTime(-1, 999_000_000, 0), GoTime.FromUnixNanoseconds(-1_000_000));

    [Theory]
    [InlineData(0, 2, 29)]
    [InlineData(2000, 2, 29)]
    [InlineData(2024, 2, 29)]
    [InlineData(2100, 2, 28)]
    [InlineData(2023, 2, 28)]
    [InlineData(2023, 4, 30)]
    [InlineData(2023, 12, 31)]
    public void Months_have_their_gregorian_length_year_zero_included(int year, int month, int days)
    {
        Assert.Equal(days, GoTime.DaysInMonth(year, month));
        Assert.Equal($"{year:D4}-{month:D2}-{days:D2}T00:00:00Z", Format(GoTime.FromWallClock(year, month, days, 0, 0, 0, 0, 0)));
    }

    [Property]
    public Property Utc_instants_read_as_dotnet_writes_them() => Prop.ForAll(
        Gen.Choose(0, int.MaxValue).Select(i => DateTime.UnixEpoch.AddTicks(i * 1_000_000_007L)).ToArbitrary(),
        instant =>
        {
            var expected = instant.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture).TrimEnd('.') + "Z";
            return Format(GoTime.FromDateTimeOffset(new DateTimeOffset(instant, TimeSpan.Zero))) == expected;
        });

    [Property]
    public Property A_wall_clock_time_is_written_as_given_in_its_zone() => Prop.ForAll(
        Gen.Choose(0, int.MaxValue).ToArbitrary(),
        Gen.Choose(-((23 * 60) + 59), (23 * 60) + 59).ToArbitrary(),
        (seed, offsetMinutes) =>
        {
            var year = seed % 10_000;
            var month = (seed / 7 % 12) + 1;
            var day = (seed / 13 % GoTime.DaysInMonth(year, month)) + 1;
            var (hour, minute, second, nanoseconds) = (seed / 17 % 24, seed / 19 % 60, seed / 23 % 60, seed % 1_000_000_000);
            var zone = offsetMinutes == 0 ? "Z" : $"{(offsetMinutes < 0 ? '-' : '+')}{Math.Abs(offsetMinutes) / 60:D2}:{Math.Abs(offsetMinutes) % 60:D2}";
            var fraction = nanoseconds == 0 ? "" : "." + nanoseconds.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0');
            var time = GoTime.FromWallClock(year, month, day, hour, minute, second, nanoseconds, offsetMinutes * 60);
            return Format(time) == $"{year:D4}-{month:D2}-{day:D2}T{hour:D2}:{minute:D2}:{second:D2}{fraction}{zone}";
        });
}
