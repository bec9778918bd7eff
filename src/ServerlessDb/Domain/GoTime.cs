using System.Globalization;
using System.Text;

namespace ServerlessDb.Domain;

/// <summary>
/// An instant with a UTC offset, written as Go's <c>time.Time</c> writes itself in JSON and text
/// (<c>MarshalText</c>: RFC 3339 with nanoseconds, trailing zeros dropped, <c>Z</c> for a zero offset).
/// rqlite answers date columns and /status times this way. Years 0 to 9999 only, as Go's MarshalText
/// (.NET's DateTime has no year 0, so the calendar arithmetic is done here).
/// </summary>
/// <param name="UnixSeconds">Whole seconds since 1970-01-01T00:00:00Z.</param>
/// <param name="Nanoseconds">0 to 999,999,999.</param>
/// <param name="OffsetSeconds">The zone's offset east of UTC, in seconds.</param>
internal readonly record struct GoTime(long UnixSeconds, int Nanoseconds, int OffsetSeconds)
{
    private const long SecondsPerDay = 86_400;
    private const long NanosecondsPerSecond = 1_000_000_000;

    /// <summary>Go's <c>time.Unix(0, nanoseconds)</c>, in UTC.</summary>
    public static GoTime FromUnixNanoseconds(long nanoseconds)
    {
        var seconds = Math.DivRem(nanoseconds, NanosecondsPerSecond, out var rest);
        return rest < 0 ? new GoTime(seconds - 1, (int)(rest + NanosecondsPerSecond), 0) : new GoTime(seconds, (int)rest, 0);
    }

    public static GoTime FromDateTimeOffset(DateTimeOffset value)
    {
        var ticks = value.UtcTicks - DateTime.UnixEpoch.Ticks;
        var seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var rest);
        if (rest < 0)
        {
            seconds--;
            rest += TimeSpan.TicksPerSecond;
        }

        return new GoTime(seconds, (int)(rest * TimeSpan.NanosecondsPerTick), (int)value.Offset.TotalSeconds);
    }

    /// <summary>The instant of a wall-clock time in a zone <paramref name="offsetSeconds"/> east of UTC.</summary>
    public static GoTime FromWallClock(int year, int month, int day, int hour, int minute, int second, int nanoseconds, int offsetSeconds) =>
        new((DaysFromCivil(year, month, day) * SecondsPerDay) + (hour * 3600L) + (minute * 60L) + second - offsetSeconds, nanoseconds, offsetSeconds);

    public static int DaysInMonth(int year, int month) => month switch
    {
        2 => (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28,
        4 or 6 or 9 or 11 => 30,
        _ => 31,
    };

    /// <summary>
    /// Go's <c>MarshalText</c> (RFC3339Nano), or false with Go's error message when Go refuses: a year
    /// outside 0 to 9999, or an offset of 24 hours or more.
    /// </summary>
    public bool TryFormat(out string text)
    {
        var local = UnixSeconds + OffsetSeconds;
        var days = Math.DivRem(local, SecondsPerDay, out var secondOfDay);
        if (secondOfDay < 0)
        {
            days--;
            secondOfDay += SecondsPerDay;
        }

        var (year, month, day) = CivilFromDays(days);
        if (year is < 0 or > 9999)
        {
            text = "Time.MarshalText: year outside of range [0,9999]";
            return false;
        }

        // Go writes the offset in whole minutes, truncated toward zero.
        var zoneMinutes = OffsetSeconds / 60;
        if (Math.Abs(zoneMinutes) / 60 >= 24)
        {
            text = "Time.MarshalText: timezone hour outside of range [0,23]";
            return false;
        }

        var builder = new StringBuilder(35);
        builder.Append(CultureInfo.InvariantCulture, $"{year:D4}-{month:D2}-{day:D2}T{secondOfDay / 3600:D2}:{secondOfDay / 60 % 60:D2}:{secondOfDay % 60:D2}");
        if (Nanoseconds != 0)
        {
            builder.Append('.').Append(Nanoseconds.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0'));
        }

        if (OffsetSeconds == 0)
        {
            builder.Append('Z');
        }
        else
        {
            builder.Append(zoneMinutes < 0 ? '-' : '+');
            var minutes = Math.Abs(zoneMinutes);
            builder.Append(CultureInfo.InvariantCulture, $"{minutes / 60:D2}:{minutes % 60:D2}");
        }

        text = builder.ToString();
        return true;
    }

    // Howard Hinnant's days_from_civil and civil_from_days: the proleptic Gregorian calendar, year 0 included.
    private static long DaysFromCivil(long year, int month, int day)
    {
        year -= month <= 2 ? 1 : 0;
        var era = (year >= 0 ? year : year - 399) / 400;
        var yearOfEra = year - (era * 400);
        var dayOfYear = ((153 * (month > 2 ? month - 3 : month + 9)) + 2) / 5 + day - 1;
        var dayOfEra = (yearOfEra * 365) + (yearOfEra / 4) - (yearOfEra / 100) + dayOfYear;
        return (era * 146_097) + dayOfEra - 719_468;
    }

    private static (long Year, int Month, int Day) CivilFromDays(long days)
    {
        days += 719_468;
        var era = (days >= 0 ? days : days - 146_096) / 146_097;
        var dayOfEra = days - (era * 146_097);
        var yearOfEra = (dayOfEra - (dayOfEra / 1460) + (dayOfEra / 36_524) - (dayOfEra / 146_096)) / 365;
        var dayOfYear = dayOfEra - ((365 * yearOfEra) + (yearOfEra / 4) - (yearOfEra / 100));
        var monthIndex = ((5 * dayOfYear) + 2) / 153;
        var day = (int)(dayOfYear - (((153 * monthIndex) + 2) / 5) + 1);
        var month = (int)(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9);
        return ((yearOfEra + (era * 400)) + (month <= 2 ? 1 : 0), month, day);
    }
}
