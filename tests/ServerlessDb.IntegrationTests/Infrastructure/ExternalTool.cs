using System.ComponentModel;
using System.Diagnostics;

namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>Runs a program the tests need (node, npm, bash and curl) to its end, within a deadline; a missing program fails the test saying what to install.</summary>
internal static class ExternalTool
{
    /// <param name="needs">what to tell when the program cannot be started, such as "node 18+ and npm on PATH".</param>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        string tool,
        IReadOnlyList<string> arguments,
        TimeSpan deadline,
        string needs,
        IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        var startInfo = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new InvalidOperationException($"{tool} did not start.");
        }
        catch (Win32Exception e)
        {
            throw new Xunit.Sdk.XunitException($"'{tool}' could not be started ({e.Message}). This test needs {needs}; it fails rather than skips without it.");
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(deadline);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new Xunit.Sdk.XunitException($"{tool} {string.Join(' ', arguments)} did not finish within {deadline.TotalSeconds:0} s.");
            }

            return (process.ExitCode, await stdout, await stderr);
        }
    }
}
