using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using QueryRunner;
using ServerlessDb.Configuration;
using ServerlessDb.Hosting;

namespace LocalServer;

/// <summary>
/// The local server: Kestrel on one address, turning each HTTP request into the API Gateway HTTP API
/// event (payload 2.0) that the QueryRunner Lambda takes, and answering with what
/// <see cref="Function.HandleAsync"/> returns. The API runs exactly as in Lambda; only the store and
/// the lock differ (see <see cref="CompositionRoot.CreateLocalMode"/>).
/// </summary>
public sealed class LocalServerApp : IAsyncDisposable
{
    /// <summary>API Gateway's payload limit; the API's own MAX_REQUEST_BYTES applies below it.</summary>
    private const long MaxRequestBodyBytes = 10 * 1024 * 1024;

    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    private readonly WebApplication _app;
    private readonly string? _ownedCacheDirectory;
    private int _disposed;

    private LocalServerApp(WebApplication app, Uri url, LocalMode mode, string? ownedCacheDirectory)
    {
        _app = app;
        Url = url;
        Storage = mode.Storage;
        Lock = mode.Lock;
        _ownedCacheDirectory = ownedCacheDirectory;
    }

    /// <summary>The address the server answers on, with the port it really bound.</summary>
    public Uri Url { get; }

    /// <summary>Where the databases live: "folder /path (...)" or "S3 bucket ...".</summary>
    public string Storage { get; }

    /// <summary>How writers take turns.</summary>
    public string Lock { get; }

    /// <summary>The command line: parses <paramref name="args"/>, serves until Ctrl+C (exit code 0); a server that cannot start prints one line to stderr and exits with 1.</summary>
    public static Task<int> RunAsync(string[] args) => LocalServerCommand.InvokeAsync(args, ProcessEnvironment.Instance, Console.Out, Console.Error);

    /// <summary>
    /// Starts a server and prints where it listens and where the data lives to <paramref name="output"/>,
    /// where the API's request log lines go too. <paramref name="environment"/> supplies the rest of the
    /// configuration (LOCK_WAIT_SECONDS, ...); the settings win over it. Without CACHE_DIR the server uses
    /// a temporary folder of its own, deleted when it stops.
    /// </summary>
    /// <exception cref="LocalServerStartException">the port is taken, the data folder is not writable, or the configuration is invalid.</exception>
    public static async Task<LocalServerApp> StartAsync(
        LocalServerSettings settings, IEnvironment environment, TextWriter output, TextWriter errorLog, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var address = ParseHost(settings.Host);
        var overrides = new Dictionary<string, string>();
        if (settings.S3Endpoint is { } endpoint)
        {
            overrides["AWS_ENDPOINT_URL"] = endpoint.ToString();
        }

        if (settings.Bucket is { } bucket)
        {
            overrides["DB_BUCKET"] = bucket;
        }

        string? ownedCacheDirectory = null;
        if (environment.Get("CACHE_DIR") is null)
        {
            ownedCacheDirectory = Directory.CreateTempSubdirectory("serverlessdb-local-").FullName;
            overrides["CACHE_DIR"] = ownedCacheDirectory;
        }

        try
        {
            var log = new TextWriterLogSink(output);
            var mode = Compose(new OverlayEnvironment(environment, overrides), settings.DataDirectory, log);
            var app = Build(address, settings.Port, new Function(mode.Handler, new TextWriterLogSink(errorLog), TimeProvider.System));
            await StartListeningAsync(app, address, settings.Port, cancellationToken);

            var url = new Uri(app.Urls.First());
            var server = new LocalServerApp(app, url, mode, ownedCacheDirectory);
            output.WriteLine($"ServerlessDb local server listening on {url.ToString().TrimEnd('/')}");
            output.WriteLine($"storage: {mode.Storage}");
            output.WriteLine($"lock: {mode.Lock}");
            output.Flush();
            return server;
        }
        catch
        {
            DeleteOwnedCache(ownedCacheDirectory);
            throw;
        }
    }

    /// <summary>Stops accepting requests, lets those under way finish (up to a few seconds), and removes the server's own cache folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        finally
        {
            DeleteOwnedCache(_ownedCacheDirectory);
        }
    }

    private static IPAddress ParseHost(string host)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        return IPAddress.TryParse(host, out var address)
            ? address
            : throw new LocalServerStartException($"--host must be an IP address (such as 127.0.0.1 or 0.0.0.0) or localhost; got '{host}'.");
    }

    private static LocalMode Compose(IEnvironment environment, string dataDirectory, TextWriterLogSink log)
    {
        try
        {
            return CompositionRoot.CreateLocalMode(environment, dataDirectory, TimeProvider.System, log);
        }
        catch (OptionsException e)
        {
            throw new LocalServerStartException("Invalid configuration: " + string.Join(" ", e.Problems), e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LocalServerStartException(e.Message, e);
        }
    }

    private static WebApplication Build(IPAddress address, int port, Function function)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, ManualHostLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(address, port);
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
        });

        var app = builder.Build();
        app.Run(context => HandleAsync(context, function));
        return app;
    }

    private static async Task HandleAsync(HttpContext context, Function function)
    {
        var cancellationToken = context.RequestAborted;
        using var proxyEvent = await HttpApiV2EventWriter.WriteAsync(context, cancellationToken);
        await using var proxyResponse = await function.HandleAsync(proxyEvent);
        await ProxyResponseCopier.CopyAsync(proxyResponse, context.Response, cancellationToken);
    }

    private static async Task StartListeningAsync(WebApplication app, IPAddress address, int port, CancellationToken cancellationToken)
    {
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e) when (e.InnerException is AddressInUseException)
        {
            await app.DisposeAsync();
            throw new LocalServerStartException(
                $"Port {port} on {address} is already in use: stop what is listening there or choose another port with --port.", e);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            await app.DisposeAsync();
            throw new LocalServerStartException($"Cannot listen on {address}:{port}: {e.Message}", e);
        }
    }

    private static void DeleteOwnedCache(string? directory)
    {
        if (directory is not null && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
