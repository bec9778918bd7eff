using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace ServerlessDb.IntegrationTests.LocalServer;

/// <summary>
/// The local server as a child process (<c>dotnet LocalServer.dll ...</c> from the test output), as a
/// user runs it: its exit code and what it prints are what these tests check. Killed on dispose if still running.
/// </summary>
public sealed class LocalServerProcess : IDisposable
{
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(30);

    private const string DefaultSignalsThenExec =
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); signal.signal(signal.SIGQUIT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])";

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private LocalServerProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Stdout => Read(_stdout);

    public string Stderr => Read(_stderr);

    public static LocalServerProcess Start(params string[] arguments) => Start(new Dictionary<string, string?>(), arguments);

    /// <summary>Starts the server with <paramref name="environment"/> set on top of this process's (S3 mode: AWS_ENDPOINT_URL, DB_BUCKET, ...).</summary>
    public static LocalServerProcess Start(IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "LocalServer.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project must reference src/LocalServer.");
        // A test run started in the background (`dotnet test &` in a script) inherits SIGINT and SIGQUIT ignored,
        // and so would the server, which then rightly ignores Ctrl+C as a background job does. The server must see
        // what a terminal's Ctrl+C reaches, so python3 puts both back to their defaults and execs dotnet in place.
        var startInfo = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(DefaultSignalsThenExec);
        startInfo.ArgumentList.Add("dotnet");
        startInfo.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // The child must use its own folder, not the environment's S3 endpoint or bucket.
        foreach (var name in new[] { "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "DB_BUCKET", "CACHE_DIR", "LOCK_VPC_ID" })
        {
            startInfo.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        return new LocalServerProcess(Process.Start(startInfo) ?? throw new InvalidOperationException("dotnet did not start."));
    }

    /// <summary>Waits until stdout has a line starting with <paramref name="prefix"/>, and returns it.</summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            var line = Stdout.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            if (_process.HasExited)
            {
                break;
            }

            await Task.Delay(50);
        }

        throw new Xunit.Sdk.XunitException($"No line starting with '{prefix}' within {timeout.TotalSeconds:0} s. stdout:\n{Stdout}\nstderr:\n{Stderr}");
    }

    /// <summary>Sends SIGKILL: the server stops at once, mid-request, without releasing anything; waits until it is gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await WaitForExitAsync();
    }

    /// <summary>Sends SIGINT, what Ctrl+C sends.</summary>
    public void Interrupt()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    public async Task<int> WaitForExitAsync()
    {
        using var deadline = new CancellationTokenSource(ExitDeadline);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            var signals = File.Exists($"/proc/{_process.Id}/status")
                ? string.Join(' ', File.ReadAllLines($"/proc/{_process.Id}/status").Where(l => l.StartsWith("Sig", StringComparison.Ordinal)))
                : "";
            throw new Xunit.Sdk.XunitException(
                $"The server did not exit within {ExitDeadline.TotalSeconds:0} s (exited: {_process.HasExited}; {signals}). stdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

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

    private static void Append(StringBuilder buffer, string? line)
    {
        if (line is not null)
        {
            lock (buffer)
            {
                buffer.Append(line).Append('\n');
            }
        }
    }

    private static string Read(StringBuilder buffer)
    {
        lock (buffer)
        {
            return buffer.ToString();
        }
    }
}
