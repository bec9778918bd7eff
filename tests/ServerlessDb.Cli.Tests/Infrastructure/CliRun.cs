using System.Diagnostics;

namespace ServerlessDb.Cli.Tests.Infrastructure;

/// <summary>Runs <c>serverlessdb</c> as a user does (<c>dotnet ServerlessDb.Cli.dll ARGS</c>), with stdin from a string, to its end.</summary>
public static class CliRun
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "ServerlessDb.Cli.dll");

    /// <summary>Environment for every run: no credentials, profile or URL from the machine, so a test sees only what it sets.</summary>
    public static Dictionary<string, string?> CleanEnvironment() => new()
    {
        ["AWS_ACCESS_KEY_ID"] = null,
        ["AWS_SECRET_ACCESS_KEY"] = null,
        ["AWS_SESSION_TOKEN"] = null,
        ["AWS_PROFILE"] = null,
        ["AWS_REGION"] = null,
        ["AWS_DEFAULT_REGION"] = null,
        ["SERVERLESSDB_URL"] = null,
        ["SERVERLESSDB_STACK"] = null,
        ["SERVERLESSDB_DB"] = null,
        ["AWS_EC2_METADATA_DISABLED"] = "true",
        ["AWS_CONFIG_FILE"] = "/nonexistent/serverlessdb-tests/config",
        ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/serverlessdb-tests/credentials",
        ["SERVERLESSDB_HISTORY"] = Path.Combine(Path.GetTempPath(), "serverlessdb-tests-history"),
    };

    public static async Task<Result> RunAsync(IEnumerable<string> arguments, string? stdin = null, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        Assert.True(File.Exists(Dll), $"{Dll} is missing: the test project must reference src/Cli.");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        start.ArgumentList.Add(Dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in CleanEnvironment())
        {
            start.Environment[name] = value;
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var deadline = new CancellationTokenSource(Deadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"serverlessdb {string.Join(' ', arguments)} did not finish within {Deadline.TotalSeconds:0} s.\nstdout:\n{await stdout}\nstderr:\n{await stderr}");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
