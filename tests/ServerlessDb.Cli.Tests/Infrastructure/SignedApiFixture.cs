namespace ServerlessDb.Cli.Tests.Infrastructure;

/// <summary>
/// What the deployed API looks like to a client, on this machine: a local server behind a stand-in for API
/// Gateway's IAM check (Scripts/apigw_iam_standin.py: botocore recomputes each request's SigV4 signature and
/// answers 403 to a bad one), and <c>serverlessdb proxy</c> in front of it, signing with the test credentials.
/// </summary>
public sealed class SignedApiFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    private LocalServerProcess? _server;
    private ChildProcess? _standIn;
    private ChildProcess? _proxy;

    public LocalServerProcess Server => _server!;

    /// <summary>The stand-in's URL: what --url names for the deployed API.</summary>
    public string SignedApi { get; private set; } = "";

    /// <summary>The proxy's URL, which rqlite clients are pointed at.</summary>
    public string Proxy { get; private set; } = "";

    public string StandInLog => _standIn?.Stderr ?? "";

    public string ProxyLog => (_proxy?.Stdout ?? "") + (_proxy?.Stderr ?? "");

    public async Task InitializeAsync()
    {
        // A load of several MB through the proxy: the most MAX_REQUEST_BYTES allows (6 MiB).
        _server = await LocalServerProcess.StartAsync(new Dictionary<string, string?> { ["MAX_REQUEST_BYTES"] = "6291456" });
        _standIn = ChildProcess.Start(
            "python3",
            [Path.Combine(AppContext.BaseDirectory, "Scripts", "apigw_iam_standin.py"), _server.Address, TestCredentials.Region, TestCredentials.AccessKey, TestCredentials.SecretKey],
            "python3 with botocore (pip install botocore)");
        SignedApi = (await _standIn.WaitForLineAsync("listening on ", StartDeadline))["listening on ".Length..];
        (_proxy, Proxy) = await StartProxyAsync(SignedApi, TestCredentials.Environment());
    }

    /// <summary>Starts <c>serverlessdb proxy</c> on a free port, signing for <paramref name="upstream"/> with the credentials in <paramref name="environment"/>.</summary>
    public static async Task<(ChildProcess Process, string Url)> StartProxyAsync(string upstream, Dictionary<string, string?> environment, string sign = "always")
    {
        var variables = CliRun.CleanEnvironment();
        foreach (var (name, value) in environment)
        {
            variables[name] = value;
        }

        var process = ChildProcess.Start("dotnet", [CliRun.Dll, "proxy", "--url", upstream, "--sign", sign, "--port", "0"], "the .NET SDK", variables);
        var line = await process.WaitForLineAsync("serverlessdb proxy listening on ", StartDeadline);
        return (process, line["serverlessdb proxy listening on ".Length..]);
    }

    public Task DisposeAsync()
    {
        _proxy?.Dispose();
        _standIn?.Dispose();
        _server?.Dispose();
        return Task.CompletedTask;
    }
}
