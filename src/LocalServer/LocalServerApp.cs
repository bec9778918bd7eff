using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using QueryRunner;
using QueryRunner.ApiGateway;
using ServerlessDb.Api;
using ServerlessDb.Configuration;
using ServerlessDb.Errors;
using ServerlessDb.Hosting;
using ServerlessDb.Logging;
using WebConsole;

namespace LocalServer;

/// <summary>
/// The local server: Kestrel on one address, turning each HTTP request into the API Gateway HTTP API
/// event (payload 2.0) that the QueryRunner Lambda takes, and answering with what
/// <see cref="Function.HandleAsync"/> returns. The API runs exactly as in Lambda; only the store and
/// the lock differ (see <see cref="CompositionRoot.CreateLocalMode"/>). A request that fails before or after
/// the handler (a body over the server's limit, a malformed chunked body, a bug here) is answered and logged by
/// <see cref="ErrorResponses"/>, as the handler's own error answers are.
/// </summary>
internal sealed class LocalServerApp : IAsyncDisposable
{
    /// <summary>API Gateway's payload limit; the API's own MAX_REQUEST_BYTES applies below it.</summary>
    private const long MaxRequestBodyBytes = 10 * 1024 * 1024;

    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How often the chunk collector runs over the data folder: as often as the LockReaper's schedule in AWS.</summary>
    private static readonly TimeSpan ChunkCollectionInterval = TimeSpan.FromMinutes(1);

    private readonly WebApplication _app;
    private readonly string? _ownedCacheDirectory;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _collecting;
    private int _disposed;

    private LocalServerApp(WebApplication app, Uri url, string? ownedCacheDirectory, LocalMode mode)
    {
        _app = app;
        Url = url;
        _ownedCacheDirectory = ownedCacheDirectory;
        _collecting = mode.CollectsChunks ? CollectChunksAsync(mode, _stopping.Token) : Task.CompletedTask;
    }

    /// <summary>The address the server answers on, with the port it really bound.</summary>
    public Uri Url { get; }

    /// <summary>The command line: parses <paramref name="args"/>, serves until Ctrl+C (exit code 0); a server that cannot start prints one line to stderr and exits with 1.</summary>
    public static Task<int> Main(string[] args) => LocalServerCommand.InvokeAsync(args, ProcessEnvironment.Instance, Console.Out, Console.Error);

    /// <summary>
    /// Starts a server and prints where it listens and where the data lives to <paramref name="output"/>,
    /// where the API's request log lines go too; the lines of the answers the entry point and the server give
    /// themselves go to <paramref name="errorLog"/>. <paramref name="environment"/> supplies the rest of the
    /// configuration (LOCK_WAIT_SECONDS, ...); the settings win over it. Without CACHE_DIR the server uses
    /// a temporary folder of its own, deleted when it stops.
    /// </summary>
    /// <exception cref="LocalServerStartException">the port is taken, the data folder is not writable, or the configuration is invalid.</exception>
    public static async Task<LocalServerApp> StartAsync(
        LocalServerSettings settings, IEnvironment environment, TextWriter output, TextWriter errorLog, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var address = ParseHost(settings.Host);
        var ownedCacheDirectory = environment.Get("CACHE_DIR") is null
            ? Directory.CreateTempSubdirectory("serverlessdb-local-").FullName
            : null;

        try
        {
            var mode = Compose(settings.Over(environment, ownedCacheDirectory), settings.DataDirectory, new TextWriterLogSink(output));
            var entryLog = new TextWriterLogSink(errorLog);
            var app = Build(address, settings.Port, new Function(mode.Handler, entryLog, TimeProvider.System), entryLog);
            await StartListeningAsync(app, address, settings.Port, cancellationToken);

            var url = new Uri(app.Urls.First());
            var server = new LocalServerApp(app, url, ownedCacheDirectory, mode);
            output.WriteLine($"ServerlessDb local server listening on {url.ToString().TrimEnd('/')}");
            output.WriteLine($"storage: {mode.Storage}");
            output.WriteLine($"lock: {mode.Lock}");
            output.WriteLine($"console: {url.ToString().TrimEnd('/')}{ConsoleAssets.Root}/");
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
            await _stopping.CancelAsync();
            await _collecting;
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        finally
        {
            _stopping.Dispose();
            DeleteOwnedCache(_ownedCacheDirectory);
        }
    }

    /// <summary>Runs the chunk collector over the data folder every minute until the server stops; a pass logs its own outcome.</summary>
    private static async Task CollectChunksAsync(LocalMode mode, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(ChunkCollectionInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                await mode.CollectChunksAsync(stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The server is stopping.
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

    private static LocalMode Compose(IEnvironment environment, string dataDirectory, ILogSink log)
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

    private static WebApplication Build(IPAddress address, int port, Function function, ILogSink log)
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
        // The web console's page (GET /console/...); every other request is the API's, as in Lambda.
        app.Run(context => ConsoleEndpoint.Handles(context) ? ConsoleEndpoint.ServeAsync(context) : AnswerAsync(context, function, log));
        return app;
    }

    /// <summary>Answers one HTTP request through <paramref name="function"/>; a failure around it is answered and logged as the handler's are.</summary>
    internal static async Task AnswerAsync(HttpContext context, Function function, ILogSink log)
    {
        var cancellationToken = context.RequestAborted;
        try
        {
            using var proxyEvent = await HttpApiV2EventWriter.WriteAsync(context, cancellationToken);
            var (version, answer) = await function.AnswerAsync(proxyEvent);
            if (answer.File is { } file)
            {
                // A binary answer (a backup) is streamed from its file, whatever its size.
                using (file)
                {
                    await ProxyResponseCopier.StreamFileAsync(answer, file, context.Response, cancellationToken);
                }

                return;
            }

            await using var proxyResponse = ProxyResponseWriter.Write(version, answer);
            await ProxyResponseCopier.CopyAsync(proxyResponse, context.Response, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && !context.Response.HasStarted)
        {
            // Kestrel refuses a body over its limit or a malformed one while the event is written: the client's fault.
            var failure = e switch
            {
                BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => new PayloadTooLargeException(e.Message),
                BadHttpRequestException => new BadRequestException(e.Message),
                _ => e,
            };
            var answer = ErrorResponses.Answer(failure);
            ErrorResponses.Log(log, TimeProvider.System, "request", request: null, answer.StatusCode, failure, line => line
                .Add("method", context.Request.Method)
                .Add("path", context.Request.Path.Value));
            context.Response.Clear();
            await using var proxyResponse = ProxyResponseWriter.Write(PayloadVersion.HttpApiV2, answer);
            await ProxyResponseCopier.CopyAsync(proxyResponse, context.Response, CancellationToken.None);
        }
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

    /// <summary>
    /// A host lifetime that listens to no signals: the server decides when to stop (the command line on
    /// Ctrl+C, a test when it is done), and several servers may run in one test process.
    /// </summary>
    private sealed class ManualHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>The local server could not start; the message is one line saying why and what to do.</summary>
internal sealed class LocalServerStartException(string message, Exception? innerException = null)
    : Exception(message, innerException);
