using System.Globalization;
using System.Text.RegularExpressions;

namespace ServerlessDb.Protocol;

/// <summary>Parses Go-style durations ("500ms", "5s", "1m30s", "2h"), which rqlite's flags use.</summary>
public static partial class GoDuration
{
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
