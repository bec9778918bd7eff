using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Cli.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WebConsole;

namespace Cli.Proxy;

/// <summary>
/// <c>serverlessdb proxy</c>: listens on a loopback address and forwards every request to the API, signed,
/// so rqlite clients that cannot sign work unchanged against the deployed database. Bodies stream both ways:
/// a request body is spooled (to memory up to 1 MiB, else to a temporary file) while its SHA-256 is computed,
/// because API Gateway's IAM check verifies the payload hash the signature covers, then streamed upstream; a
/// response streams back as it arrives. Nothing is followed on the client's behalf: a 307 to a presigned S3
/// link reaches the client as it is. With the console on, <c>/console/</c> is served from embedded files.
/// </summary>
internal sealed class SigningProxy : IAsyncDisposable
{
    private const long InMemoryBodyLimit = 1024 * 1024;

    // Hop-by-hop headers (RFC 9110), the framing the proxy redoes itself, and what the signature replaces.
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Content-Length", "Expect", "Authorization", "X-Amz-Date", "X-Amz-Content-SHA256",
        "X-Amz-Security-Token",
    };

    private readonly WebApplication _app;
    private readonly HttpClient _http;

    private SigningProxy(WebApplication app, HttpClient http, Uri url)
    {
        _app = app;
        _http = http;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<SigningProxy> StartAsync(ProxySettings settings, TextWriter log, TimeProvider time, CancellationToken cancellationToken)
    {
        var http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };

        var signer = new Lazy<Task<RequestSigner>>(() => AwsCredentialSource.CreateSignerAsync(settings.Upstream, time, CancellationToken.None));
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, NoSignalsLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(settings.Address, settings.Port);
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        app.Run(context => settings.ServeConsole && ConsoleEndpoint.Handles(context)
            ? ConsoleEndpoint.ServeAsync(context)
            : ForwardAsync(context, settings.Upstream, signer, http, log));

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            await app.DisposeAsync();
            http.Dispose();
            throw new CliException(ExitCodes.Usage, $"Port {settings.Port} on {settings.Address} is already in use: stop what listens there or pass --port.", e);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            await app.DisposeAsync();
            http.Dispose();
            throw new CliException(ExitCodes.Usage, $"Cannot listen on {settings.Address}:{settings.Port}: {e.Message}", e);
        }

        return new SigningProxy(app, http, new Uri(app.Urls.First()));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
    }

    private static async Task ForwardAsync(HttpContext context, ApiTarget upstream, Lazy<Task<RequestSigner>> signer, HttpClient http, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var incoming = context.Request;
        var cancellationToken = context.RequestAborted;
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? incoming.Path.ToUriComponent() + incoming.QueryString;
        var split = rawTarget.IndexOf('?');
        var path = (split < 0 ? rawTarget : rawTarget[..split]).TrimStart('/');
        var uri = new Uri(upstream.BaseUrl, path + CanonicalQuery.Rewrite(split < 0 ? "" : rawTarget[split..]));
        var status = 0;
        try
        {
            await using var spooled = await SpoolAsync(incoming, cancellationToken);
            using var request = new HttpRequestMessage(new HttpMethod(incoming.Method), uri);
            if (spooled.Body is { } body)
            {
                request.Content = new StreamContent(body, 81920);
                request.Content.Headers.ContentLength = body.Length;
            }

            foreach (var (name, values) in incoming.Headers)
            {
                if (!NotForwarded.Contains(name) && !request.Headers.TryAddWithoutValidation(name, values.ToArray()))
                {
                    request.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
                }
            }

            if (upstream.Sign)
            {
                await (await signer.Value).SignAsync(request, spooled.Sha256, cancellationToken);
            }

            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            status = (int)response.StatusCode;
            await CopyResponseAsync(response, context, uri, cancellationToken);
        }
        catch (Exception e) when (!context.Response.HasStarted && e is HttpRequestException or CliException)
        {
            status = StatusCodes.Status502BadGateway;
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/plain; charset=utf-8";
            var reason = e is HttpRequestException { InnerException: SocketException socket } ? socket.Message : e.Message;
            await context.Response.WriteAsync($"serverlessdb proxy: cannot forward to {uri.GetLeftPart(UriPartial.Authority)}: {reason}\n", CancellationToken.None);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            status = 499;
        }
        finally
        {
            lock (log)
            {
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:HH:mm:ss} {incoming.Method} {rawTarget} -> {status} ({clock.ElapsedMilliseconds} ms)"));
                log.Flush();
            }
        }
    }

    /// <summary>The request body, spooled once and hashed on the way: memory up to 1 MiB, a temporary file (deleted on close) beyond or when the length is unknown.</summary>
    private static async Task<SpooledBody> SpoolAsync(HttpRequest incoming, CancellationToken cancellationToken)
    {
        var hasBody = incoming.ContentLength > 0 || (incoming.ContentLength is null && incoming.Headers.TransferEncoding.Count > 0);
        if (!hasBody)
        {
            return new SpooledBody(incoming.ContentLength == 0 ? new MemoryStream([]) : null, RequestSigner.EmptyPayloadHash);
        }

        Stream spool = incoming.ContentLength is <= InMemoryBodyLimit
            ? new MemoryStream((int)incoming.ContentLength.Value)
            : new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[81920];
            int read;
            while ((read = await incoming.Body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await spool.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }

            spool.Position = 0;
            return new SpooledBody(spool, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        catch
        {
            await spool.DisposeAsync();
            throw;
        }
    }

    private static async Task CopyResponseAsync(HttpResponseMessage response, HttpContext context, Uri upstream, CancellationToken cancellationToken)
    {
        var outgoing = context.Response;
        outgoing.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!NotForwarded.Contains(name) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                outgoing.Headers[name] = values.ToArray();
            }
        }

        if (context.Request.Path.Value == "/status" && response.IsSuccessStatusCode)
        {
            // /status names the node clients should talk to (rqlite's leader): here, the proxy, not the API behind it.
            var text = (await response.Content.ReadAsStringAsync(cancellationToken))
                .Replace(upstream.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase);
            var bytes = Encoding.UTF8.GetBytes(text);
            outgoing.ContentLength = bytes.Length;
            await outgoing.Body.WriteAsync(bytes, cancellationToken);
            return;
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        await body.CopyToAsync(outgoing.Body, 81920, cancellationToken);
    }

    private sealed record SpooledBody(Stream? Body, string Sha256) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Body?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    /// <summary>The command decides when to stop (Ctrl+C, through System.CommandLine), not the host.</summary>
    private sealed class NoSignalsLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
