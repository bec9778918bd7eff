namespace ServerlessDb.Cli.Tests.Infrastructure;

/// <summary>The local server as a user runs it (<c>dotnet LocalServer.dll</c>), on a free port with a fresh data folder, both removed on dispose.</summary>
public sealed class LocalServerProcess : IDisposable
{
    private readonly ChildProcess _process;
    private readonly string _data;

    private LocalServerProcess(ChildProcess process, string data, Uri url)
    {
        _process = process;
        _data = data;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>The URL without its final slash, as a user types it.</summary>
    public string Address => Url.ToString().TrimEnd('/');

    public string Output => _process.Stdout + _process.Stderr;

    public static async Task<LocalServerProcess> StartAsync(IReadOnlyDictionary<string, string?>? environment = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "LocalServer.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project must reference src/LocalServer.");
        var data = Directory.CreateTempSubdirectory("serverlessdb-cli-data-").FullName;
        var process = ChildProcess.Start(
            "dotnet",
            [dll, "--port", "0", "--data", data],
            "the .NET SDK",
            new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>())
            {
                ["AWS_ENDPOINT_URL"] = null, ["DB_BUCKET"] = null, ["CACHE_DIR"] = null, ["LOCK_VPC_ID"] = null,
            });
        var line = await process.WaitForLineAsync("ServerlessDb local server listening on ", TimeSpan.FromSeconds(60));
        return new LocalServerProcess(process, data, new Uri(line["ServerlessDb local server listening on ".Length..].Trim() + "/"));
    }

    public void Dispose()
    {
        _process.Dispose();
        Directory.Delete(_data, recursive: true);
    }
}
