using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ServerlessDb.Protocol;

/// <summary>
/// Go-style durations: parsed ("500ms", "5s", "1m30s", "2h"), as rqlite's flags take them, and written
/// as Go's <c>time.Duration.String()</c> writes them ("3m52.7s", "1h2m3.456789s", "512.3ms"), as
/// rqlite's /status reports uptime.
/// </summary>
internal static partial class GoDuration
{
    /// <summary>Go's <c>Duration.String()</c>, to the nanosecond (a TimeSpan holds 100 ns ticks).</summary>
    public static string Format(TimeSpan duration)
    {
        var nanoseconds = (UInt128)(ulong)Math.Abs(duration.Ticks) * TimeSpan.NanosecondsPerTick;
        var text = new StringBuilder();
        if (nanoseconds < NanosecondsPerSecond)
        {
            // Below a second Go picks the unit: ns, µs or ms.
            var (unit, decimals) = (ulong)nanoseconds switch
            {
                0 => ("s", 0),
                < 1_000 => ("ns", 0),
                < 1_000_000 => ("µs", 3),
                _ => ("ms", 6),
            };
            text.Append(Decimal(nanoseconds, decimals)).Append(unit);
        }
        else
        {
            var seconds = nanoseconds / NanosecondsPerSecond;
            var (minutes, hours) = (seconds / 60 % 60, seconds / 3600);
            if (hours > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"{hours}h");
            }

            if (hours > 0 || minutes > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"{minutes}m");
            }

            text.Append(Decimal((seconds % 60 * NanosecondsPerSecond) + (nanoseconds % NanosecondsPerSecond), 9)).Append('s');
        }

        return duration < TimeSpan.Zero ? "-" + text : text.ToString();
    }

    private const ulong NanosecondsPerSecond = 1_000_000_000;

    // Go's fmtFrac and fmtInt: value / 10^decimals with the fraction's trailing zeros (and a bare point) dropped.
    private static string Decimal(UInt128 value, int decimals)
    {
        var scale = UInt128.One;
        for (var i = 0; i < decimals; i++)
        {
            scale *= 10;
        }

        var whole = (value / scale).ToString(CultureInfo.InvariantCulture);
        var fraction = decimals == 0 ? string.Empty : (value % scale).ToString(CultureInfo.InvariantCulture).PadLeft(decimals, '0').TrimEnd('0');
        return fraction.Length == 0 ? whole : $"{whole}.{fraction}";
    }

    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var whole = WholePattern().Match(text);
        if (!whole.Success)
        {
            return false;
        }

        var ticks = 0.0;
        foreach (Match part in PartPattern().Matches(text))
        {
            var number = double.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            ticks += number * part.Groups[2].Value switch
            {
                "ns" => TimeSpan.TicksPerMicrosecond / 1000.0,
                "us" or "µs" => TimeSpan.TicksPerMicrosecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                _ => TimeSpan.TicksPerHour,
            };
        }

        // As doubles, TimeSpan.MaxValue.Ticks rounds up to 2^63, which a long cannot hold.
        if (!(ticks < TimeSpan.MaxValue.Ticks))
        {
            return false;
        }

        duration = TimeSpan.FromTicks((long)ticks);
        return true;
    }

    [GeneratedRegex(@"\A(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+\z")]
    private static partial Regex WholePattern();

    [GeneratedRegex(@"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)")]
    private static partial Regex PartPattern();
}
