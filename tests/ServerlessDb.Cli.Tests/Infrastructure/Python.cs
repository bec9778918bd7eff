using System.ComponentModel;
using System.Diagnostics;

namespace ServerlessDb.Cli.Tests.Infrastructure;

/// <summary>Runs a script of Scripts/ with python3, stdin in and stdout out; a missing python3 or botocore fails the test with what to install.</summary>
public static class Python
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public static async Task<string> RunAsync(string script, string stdin)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Scripts", script);
        var start = new ProcessStartInfo("python3", [path])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            throw new Xunit.Sdk.XunitException($"This test needs python3 with botocore on PATH (pip install botocore); starting python3 failed: {e.Message}");
        }

        using (process)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(Deadline);
            await process.WaitForExitAsync(deadline.Token);
            Assert.True(process.ExitCode == 0, $"python3 {script} failed (exit {process.ExitCode}); it needs python3 with botocore: {await stderr}");
            return await stdout;
        }
    }
}
