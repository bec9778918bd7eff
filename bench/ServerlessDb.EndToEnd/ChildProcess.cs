using System.Diagnostics;
using System.Globalization;

namespace ServerlessDb.EndToEnd;

/// <summary>A process this run started: its output kept (the last lines), its peak memory read from /proc, killed on dispose.</summary>
internal sealed class ChildProcess : IDisposable
{
    private const int LinesKept = 40;
    private readonly Queue<string> _lines = new();

    private readonly Action<string>? _onLine;

    private ChildProcess(Process process, bool readsStdout, Action<string>? onLine)
    {
        Process = process;
        _onLine = onLine;
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginErrorReadLine();
        if (!readsStdout)
        {
            process.OutputDataReceived += (_, e) => Keep(e.Data);
            process.BeginOutputReadLine();
        }
    }

    public Process Process { get; }

    public DateTime StartedAt { get; } = DateTime.UtcNow;

    /// <param name="readsStdout">the caller reads standard output itself (a line protocol); otherwise it is kept with stderr.</param>
    /// <param name="onLine">called with every line the process writes (stdout unless the caller reads it, and stderr), as it comes.</param>
    public static ChildProcess Start(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment, bool readsStdout = false, bool writesStdin = false, Action<string>? onLine = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = writesStdin,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        return new ChildProcess(Process.Start(info) ?? throw new InvalidOperationException($"{file} did not start."), readsStdout, onLine);
    }

    /// <summary>The most memory the process has held (VmHWM: peak resident set), in bytes.</summary>
    public long PeakMemoryBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Process.Id}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{Process.Id}/status has no VmHWM line.");
    }

    /// <summary>The CPU time the process has used so far, user and system (utime and stime of /proc/PID/stat, in Linux's 100 Hz ticks).</summary>
    public TimeSpan CpuTime()
    {
        var stat = File.ReadAllText($"/proc/{Process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // after "pid (comm) ": field 3 (state) onward
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    public string Output()
    {
        lock (_lines)
        {
            return string.Join(Environment.NewLine, _lines);
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _onLine?.Invoke(line);
        lock (_lines)
        {
            _lines.Enqueue(line);
            while (_lines.Count > LinesKept)
            {
                _lines.Dequeue();
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        Process.Dispose();
    }
}
