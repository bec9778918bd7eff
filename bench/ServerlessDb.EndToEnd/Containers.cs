using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace ServerlessDb.EndToEnd;

/// <summary>One warm "container" of a system under test: it answers reads and writes, and says what it cost.</summary>
internal interface IContainer : IDisposable
{
    string Name { get; }

    CountingProxy S3 { get; }

    /// <summary>From the process's start to its first answered read.</summary>
    TimeSpan ColdStart { get; }

    Task<TimeSpan> ReadAsync(bool cacheOnly = false);

    Task<TimeSpan> WriteAsync();

    long PeakMemoryBytes();
}

/// <summary>Where the systems under test find moto, the bucket and the lock VPC, and the query both run.</summary>
internal sealed record Backend(Uri Moto, string VpcId, string Bucket, string Key)
{
    public const string PointRead = "SELECT v FROM kv WHERE k = 7";
    public const string PointWrite = "UPDATE kv SET v = v + 1 WHERE k = 7";

    public static Dictionary<string, string?> AwsEnvironment() => new()
    {
        ["AWS_ACCESS_KEY_ID"] = "testing",
        ["AWS_SECRET_ACCESS_KEY"] = "testing",
        ["AWS_SESSION_TOKEN"] = null,
        ["AWS_REGION"] = "us-east-1",
        ["AWS_DEFAULT_REGION"] = "us-east-1",
    };
}

/// <summary>The seed PoC's handler in a Python process of its own (seed_driver.py), S3 through a counting proxy.</summary>
internal sealed class SeedContainer : IContainer
{
    private readonly ChildProcess _process;

    private SeedContainer(ChildProcess process, CountingProxy s3)
    {
        _process = process;
        S3 = s3;
    }

    public string Name => "seed";

    public CountingProxy S3 { get; }

    public TimeSpan ColdStart { get; private set; }

    public static async Task<SeedContainer> StartAsync(Backend backend, string seedHandler)
    {
        var s3 = new CountingProxy(backend.Moto);
        var environment = Backend.AwsEnvironment();
        environment["AWS_ENDPOINT_URL_S3"] = s3.Url.ToString();
        environment["AWS_ENDPOINT_URL_EC2"] = backend.Moto.ToString();
        environment["vpc_id"] = backend.VpcId;
        environment["bucket_name"] = backend.Bucket;
        var started = Stopwatch.GetTimestamp();
        var process = ChildProcess.Start("python3", [Path.Combine(AppContext.BaseDirectory, "seed_driver.py"), seedHandler], environment, readsStdout: true, writesStdin: true);
        var container = new SeedContainer(process, s3);
        var ready = await process.Process.StandardOutput.ReadLineAsync()
            ?? throw new InvalidOperationException($"the seed driver exited before it was ready:\n{process.Output()}");
        if (!ready.Contains("ready", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the seed driver said '{ready}':\n{process.Output()}");
        }

        await container.ReadAsync();
        container.ColdStart = Stopwatch.GetElapsedTime(started);
        return container;
    }

    public Task<TimeSpan> ReadAsync(bool cacheOnly = false) => InvokeAsync(Backend.PointRead);

    public Task<TimeSpan> WriteAsync() => InvokeAsync(Backend.PointWrite);

    private Task<TimeSpan> InvokeAsync(string query) => InvokeSeedAsync(_process, query);

    /// <summary>Sends <paramref name="query"/> to a running seed driver and times its answer, which must be a 200.</summary>
    internal static async Task<TimeSpan> InvokeSeedAsync(ChildProcess process, string query)
    {
        var started = Stopwatch.GetTimestamp();
        await process.Process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["query"] = query }));
        await process.Process.StandardInput.FlushAsync();
        var answer = await process.Process.StandardOutput.ReadLineAsync()
            ?? throw new InvalidOperationException($"the seed driver exited:\n{process.Output()}");
        var elapsed = Stopwatch.GetElapsedTime(started);
        using var json = JsonDocument.Parse(answer);
        if (json.RootElement.GetProperty("status").GetInt32() != 200)
        {
            throw new InvalidOperationException($"the seed answered {answer} to {query}:\n{process.Output()}");
        }

        return elapsed;
    }

    public long PeakMemoryBytes() => _process.PeakMemoryBytes();

    public void Dispose()
    {
        _process.Dispose();
        S3.Dispose();
    }
}

/// <summary>ServerlessDb's QueryRunner handler in a local server process of its own, on S3 through a counting proxy, with the EC2 lock.</summary>
internal sealed class ServerlessDbContainer : IContainer
{
    private readonly ChildProcess _process;
    private readonly HttpClient _http;
    private readonly string _cache;
    private readonly string _database;

    private ServerlessDbContainer(string name, ChildProcess process, CountingProxy s3, Uri url, string cache, string database)
    {
        Name = name;
        _process = process;
        S3 = s3;
        _cache = cache;
        _database = database;
        _http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(2) };
    }

    public string Name { get; }

    public CountingProxy S3 { get; }

    public TimeSpan ColdStart { get; private set; }

    public static async Task<ServerlessDbContainer> StartAsync(string name, Backend backend, string localServerDll, string database, IReadOnlyDictionary<string, string?> settings)
    {
        var s3 = new CountingProxy(backend.Moto);
        var cache = Directory.CreateTempSubdirectory("serverlessdb-e2e-cache-").FullName;
        var environment = Backend.AwsEnvironment();
        environment["AWS_ENDPOINT_URL_EC2"] = backend.Moto.ToString();
        environment["LOCK_VPC_ID"] = backend.VpcId;
        environment["CACHE_DIR"] = cache;
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        var port = FreePort();
        var started = Stopwatch.GetTimestamp();
        var process = ChildProcess.Start(
            "dotnet",
            [localServerDll, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--s3-endpoint", s3.Url.ToString(), "--bucket", backend.Bucket],
            environment);
        var container = new ServerlessDbContainer(name, process, s3, new Uri($"http://127.0.0.1:{port}"), cache, database);
        while (true)
        {
            if (process.Process.HasExited)
            {
                throw new InvalidOperationException($"the local server exited with {process.Process.ExitCode}:\n{process.Output()}");
            }

            try
            {
                await container.ReadAsync();
                break;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(5);
            }
        }

        container.ColdStart = Stopwatch.GetElapsedTime(started);
        return container;
    }

    public async Task<TimeSpan> ReadAsync(bool cacheOnly = false)
    {
        var query = $"/db/query?db={_database}&q={Uri.EscapeDataString(Backend.PointRead)}" + (cacheOnly ? "&level=none" : string.Empty);
        return await SendAsync(() => _http.GetAsync(query));
    }

    public Task<TimeSpan> WriteAsync() =>
        SendAsync(() => _http.PostAsync($"/db/execute?db={_database}", new StringContent(JsonSerializer.Serialize(new[] { Backend.PointWrite }), System.Text.Encoding.UTF8, "application/json")));

    private async Task<TimeSpan> SendAsync(Func<Task<HttpResponseMessage>> send)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await send();
        var body = await response.Content.ReadAsStringAsync();
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (response.StatusCode != HttpStatusCode.OK || body.Contains("\"error\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{Name} answered {(int)response.StatusCode}: {body}\n{_process.Output()}");
        }

        return elapsed;
    }

    public long PeakMemoryBytes() => _process.PeakMemoryBytes();

    public void Dispose()
    {
        _http.Dispose();
        _process.Dispose();
        S3.Dispose();
        Directory.Delete(_cache, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
