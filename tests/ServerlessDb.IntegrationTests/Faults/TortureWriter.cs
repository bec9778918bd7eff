using ServerlessDb.IntegrationTests.LocalServer;

namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>
/// One writer of the torture test: a local server process in S3 mode whose S3 and EC2 calls go through
/// a proxy of its own (so a fault, and a kill, can be aimed at this writer), with a cache folder of its own per start. It can be SIGKILLed mid-write and restarted
/// (on a new port); <see cref="WhenUpAsync"/> gives the address of the running process.
/// </summary>
public sealed class TortureWriter(string name, IReadOnlyDictionary<string, string?> environment, string cacheRoot, FaultProxy proxy) : IAsyncDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(30);
    private const string ListeningPrefix = "ServerlessDb local server listening on ";

    private readonly object _gate = new();
    private TaskCompletionSource<Uri> _up = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private LocalServerProcess? _process;
    private int _starts;

    public string Name { get; } = name;

    public FaultProxy Proxy { get; } = proxy;

    public int Kills { get; private set; }

    public async Task StartAsync()
    {
        var cache = Directory.CreateDirectory(Path.Combine(cacheRoot, $"{Name}-{++_starts}")).FullName;
        var process = LocalServerProcess.Start(
            new Dictionary<string, string?>(environment) { ["CACHE_DIR"] = cache, ["AWS_ENDPOINT_URL"] = Proxy.Url.ToString() },
            "--host", "127.0.0.1", "--port", "0", "--data", cache);
        var line = await process.WaitForLineAsync(ListeningPrefix, StartDeadline);
        var url = new Uri(line[ListeningPrefix.Length..].Trim() + "/");
        await WarmUpAsync(url);
        lock (_gate)
        {
            _process = process;
            _up.TrySetResult(url);
        }
    }

    // A fresh process compiles its code paths on its first request, which on a busy machine takes
    // longer than the S3 budget: one read (no lock, no write) first, so the clients meet a warm server.
    private static async Task WarmUpAsync(Uri url)
    {
        using var http = new HttpClient { BaseAddress = url, Timeout = StartDeadline };
        for (var attempt = 1; ; attempt++)
        {
            using var response = await http.GetAsync("db/query?q=SELECT%20n%20FROM%20counter");
            if (response.IsSuccessStatusCode || attempt == 3)
            {
                Assert.True(response.IsSuccessStatusCode, $"the warm-up read of {url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                return;
            }
        }
    }

    /// <summary>The running process's address; waits (up to <paramref name="timeout"/>) while it is being restarted.</summary>
    public Task<Uri> WhenUpAsync(TimeSpan timeout)
    {
        lock (_gate)
        {
            return _up.Task.WaitAsync(timeout);
        }
    }

    /// <summary>SIGKILLs the process, whatever it is doing; <see cref="StartAsync"/> starts a new one.</summary>
    public async Task KillAsync()
    {
        LocalServerProcess? process;
        lock (_gate)
        {
            process = _process;
            _process = null;
            _up = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        if (process is not null)
        {
            await process.KillAsync();
            process.Dispose();
            Kills++;
        }
    }

    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _process?.Dispose();
            _process = null;
        }

        return ValueTask.CompletedTask;
    }
}
