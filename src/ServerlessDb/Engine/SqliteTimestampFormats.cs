using ServerlessDb.Domain;

namespace ServerlessDb.Engine;

/// <summary>
/// go-sqlite3's <c>SQLiteTimestampFormats</c>, tried in this order, each parsed as Go's
/// <c>time.ParseInLocation(layout, text, time.UTC)</c> parses it. Go's rules that matter here: the hour
/// takes one or two digits, every other field exactly its width; a space in the layout matches one or
/// more spaces; the fraction is <c>.</c> or <c>,</c> and any number of digits (nanoseconds kept,
/// the rest dropped), accepted after the seconds even by layouts without one; an offset is
/// <c>±hh:mm</c> with hh up to 24 and mm up to 60, and a zero offset is UTC; the day must exist in its
/// month; nothing may follow.
/// </summary>
internal static class SqliteTimestampFormats
{
    /// <summary>One layout: the date-time separator (none for a date alone) and how far it goes.</summary>
    internal readonly record struct Layout(char Separator, LayoutEnd End);

    internal enum LayoutEnd
    {
        /// <summary>"2006-01-02"</summary>
        Date,

        /// <summary>"2006-01-02 15:04"</summary>
        Minutes,

        /// <summary>"2006-01-02 15:04:05"</summary>
        Seconds,

        /// <summary>"2006-01-02 15:04:05.999999999"</summary>
        Fraction,

        /// <summary>"2006-01-02 15:04:05.999999999-07:00"</summary>
        Offset,
    }

    public static readonly IReadOnlyList<Layout> All =
    [
        new(' ', LayoutEnd.Offset),
        new('T', LayoutEnd.Offset),
        new(' ', LayoutEnd.Fraction),
        new('T', LayoutEnd.Fraction),
        new(' ', LayoutEnd.Seconds),
        new('T', LayoutEnd.Seconds),
        new(' ', LayoutEnd.Minutes),
        new('T', LayoutEnd.Minutes),
        new('\0', LayoutEnd.Date),
    ];

    public static bool TryParse(string text, Layout layout, out GoTime time)
    {
        time = default;
        var at = 0;
        int hour = 0, minute = 0, second = 0, nanoseconds = 0, offset = 0;
        if (!Fixed(text, ref at, 4, out var year) || !Literal(text, ref at, '-')
            || !Fixed(text, ref at, 2, out var month) || month is < 1 or > 12 || !Literal(text, ref at, '-')
            || !Fixed(text, ref at, 2, out var day))
        {
            return false;
        }

        if (layout.End != LayoutEnd.Date)
        {
            if (!Separator(text, ref at, layout.Separator) || !Hour(text, ref at, out hour)
                || !Literal(text, ref at, ':') || !Fixed(text, ref at, 2, out minute) || minute > 59)
            {
                return false;
            }

            if (layout.End != LayoutEnd.Minutes)
            {
                if (!Literal(text, ref at, ':') || !Fixed(text, ref at, 2, out second) || second > 59)
                {
                    return false;
                }

                nanoseconds = Fraction(text, ref at);
                if (layout.End == LayoutEnd.Offset && !Offset(text, ref at, out offset))
                {
                    return false;
                }
            }
        }

        if (at != text.Length || day < 1 || day > GoTime.DaysInMonth(year, month))
        {
            return false;
        }

        time = GoTime.FromWallClock(year, month, day, hour, minute, second, nanoseconds, offset);
        return true;
    }

    private static bool IsDigit(string text, int at) => at < text.Length && text[at] is >= '0' and <= '9';

    private static bool Fixed(string text, ref int at, int width, out int value)
    {
        value = 0;
        for (var i = 0; i < width; i++)
        {
            if (!IsDigit(text, at + i))
            {
                return false;
            }

            value = (value * 10) + (text[at + i] - '0');
        }

        at += width;
        return true;
    }

    // Go's "15": one or two digits, below 24.
    private static bool Hour(string text, ref int at, out int hour)
    {
        var width = IsDigit(text, at + 1) ? 2 : 1;
        return Fixed(text, ref at, width, out hour) && hour < 24;
    }

    private static bool Literal(string text, ref int at, char expected)
    {
        if (at < text.Length && text[at] == expected)
        {
            at++;
            return true;
        }

        return false;
    }

    // Go's skip(): a space in the layout matches a run of spaces (or the end of the text).
    private static bool Separator(string text, ref int at, char separator)
    {
        if (separator != ' ')
        {
            return Literal(text, ref at, separator);
        }

        if (at < text.Length && text[at] != ' ')
        {
            return false;
        }

        while (at < text.Length && text[at] == ' ')
        {
            at++;
        }

        return true;
    }

    // Go's fractional seconds: '.' or ',' then at least one digit, all taken, nine kept.
    private static int Fraction(string text, ref int at)
    {
        if (!(at < text.Length && text[at] is '.' or ',') || !IsDigit(text, at + 1))
        {
            return 0;
        }

        at++;
        var nanoseconds = 0;
        var kept = 0;
        for (; IsDigit(text, at); at++)
        {
            if (kept < 9)
            {
                nanoseconds = (nanoseconds * 10) + (text[at] - '0');
                kept++;
            }
        }

        for (; kept < 9; kept++)
        {
            nanoseconds *= 10;
        }

        return nanoseconds;
    }

    // Go's "-07:00": a sign, two digits, ':', two digits; hours up to 24 and minutes up to 60.
    private static bool Offset(string text, ref int at, out int offset)
    {
        offset = 0;
        if (text.Length - at < 6 || text[at + 3] != ':')
        {
            return false;
        }

        var sign = text[at];
        var hoursAt = at + 1;
        var minutesAt = at + 4;
        if (!Fixed(text, ref hoursAt, 2, out var hours) || !Fixed(text, ref minutesAt, 2, out var minutes)
            || hours > 24 || minutes > 60 || sign is not ('+' or '-'))
        {
            return false;
        }

        offset = ((hours * 60) + minutes) * 60 * (sign == '-' ? -1 : 1);
        at = minutesAt;
        return true;
    }
}
