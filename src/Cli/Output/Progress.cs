using System.Diagnostics;
using System.Globalization;

namespace Cli.Output;

/// <summary>
/// A progress bar on stderr for a file being moved, drawn only when stderr is a terminal (quiet when piped or
/// redirected), at most ten times a second, and cleared when done.
/// </summary>
internal sealed class Progress : IDisposable
{
    private const int BarWidth = 30;
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private readonly TextWriter _terminal;
    private readonly string _label;
    private readonly long? _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastDrawn = TimeSpan.MinValue;
    private long _done;
    private bool _drawn;

    private Progress(TextWriter terminal, string label, long? total)
    {
        _terminal = terminal;
        _label = label;
        _total = total;
    }

    /// <summary>A bar when stderr is a terminal (or SERVERLESSDB_PROGRESS=always), else null: nothing to draw.</summary>
    public static Progress? Start(string label, long? total)
    {
        var forced = Environment.GetEnvironmentVariable("SERVERLESSDB_PROGRESS");
        if (forced == "never" || (Console.IsErrorRedirected && forced != "always"))
        {
            return null;
        }

        var progress = new Progress(Console.Error, label, total);
        progress.Draw(force: true);
        return progress;
    }

    public void Advance(long bytes)
    {
        Interlocked.Add(ref _done, bytes);
        Draw(force: false);
    }

    public void Dispose()
    {
        Draw(force: true);
        if (_drawn)
        {
            _terminal.Write("\r\x1b[2K");
            _terminal.Flush();
        }
    }

    private void Draw(bool force)
    {
        var now = _clock.Elapsed;
        if (!force && now - _lastDrawn < Interval)
        {
            return;
        }

        _lastDrawn = now;
        var done = Interlocked.Read(ref _done);
        string line;
        if (_total is > 0 and var total)
        {
            var fraction = Math.Clamp((double)done / total, 0, 1);
            var filled = (int)Math.Round(fraction * BarWidth);
            line = string.Create(
                CultureInfo.InvariantCulture,
                $"{_label} [{new string('#', filled)}{new string('.', BarWidth - filled)}] {fraction * 100,3:0}% {Bytes(done)}/{Bytes(total)}");
        }
        else
        {
            line = $"{_label} {Bytes(done)}";
        }

        _terminal.Write("\r" + line + "\x1b[K");
        _terminal.Flush();
        _drawn = true;
    }

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.00} GiB"),
    };
}
