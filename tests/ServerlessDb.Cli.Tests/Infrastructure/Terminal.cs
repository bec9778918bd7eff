using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace ServerlessDb.Cli.Tests.Infrastructure;

/// <summary>
/// serverlessdb in a pseudo-terminal, through util-linux's <c>script</c>: stdin, stdout and stderr are a
/// terminal to it, as at a person's keyboard. Keys are typed once the screen shows what the test waits for.
/// </summary>
public sealed class Terminal : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _screen = new();
    private readonly Task _reader;

    private Terminal(Process process)
    {
        _process = process;
        _reader = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int read;
            while ((read = await process.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (_screen)
                {
                    _screen.Append(buffer, 0, read);
                }
            }
        });
    }

    /// <summary>Everything written to the terminal so far, escape sequences and carriage returns included.</summary>
    public string Screen
    {
        get
        {
            lock (_screen)
            {
                return _screen.ToString();
            }
        }
    }

    public static Terminal Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
        // script runs the command through $SHELL -c. "exec" leaves no shell between the terminal and serverlessdb:
        // a non-interactive dash that stayed would die of the SIGINT that Ctrl+C sends the foreground group, and
        // script would report 130 for a shell that in fact went on.
        var command = "exec " + string.Join(' ', new[] { "dotnet", CliRun.Dll }.Concat(arguments).Select(Quote));
        var start = new ProcessStartInfo("script", ["-qefc", command, "/dev/null"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in CliRun.CleanEnvironment().Concat(environment ?? new Dictionary<string, string?>()))
        {
            start.Environment[name] = value;
        }

        start.Environment["TERM"] = "xterm";
        start.Environment["SHELL"] = "/bin/sh";
        try
        {
            return new Terminal(Process.Start(start)!);
        }
        catch (Win32Exception e)
        {
            throw new Xunit.Sdk.XunitException($"util-linux's script (a pseudo-terminal) could not be started: {e.Message}. This test needs it (apt-get install bsdutils).");
        }
    }

    /// <summary>Waits until <paramref name="text"/> has appeared <paramref name="times"/> times on the screen.</summary>
    public async Task WaitForAsync(string text, int times = 1, double seconds = 60)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            if (Count(Screen, text) >= times)
            {
                return;
            }

            if (_process.HasExited)
            {
                break;
            }

            await Task.Delay(50);
        }

        throw new Xunit.Sdk.XunitException($"'{text}' did not appear {times} time(s) within {seconds:0} s (exited: {_process.HasExited}). Screen:\n{Screen}");
    }

    public async Task TypeAsync(string keys)
    {
        await _process.StandardInput.WriteAsync(keys);
        await _process.StandardInput.FlushAsync();
    }

    public async Task<int> WaitForExitAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(deadline.Token);
        await _reader;
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
