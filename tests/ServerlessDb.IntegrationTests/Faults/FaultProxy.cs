using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>
/// An HTTP proxy on 127.0.0.1 and a free port that forwards every request to an upstream (moto_server)
/// unchanged: method, target, headers (the SigV4 Authorization, the x-amz-* headers, and Host as the
/// client sent it, so the signature still covers what arrives), body streamed; and acts out the first
/// <see cref="FaultRule"/> that fires on a request instead. Every request is recorded with what
/// was done to it and whether it landed (<see cref="Exchanges"/>).
/// </summary>
/// <remarks>
/// The rules are consulted in order and the first that fires wins; a rule counts only the matches it
/// was asked about. moto does not verify signatures, so forwarding to its URL with the client's Host works;
/// <c>FaultProxyTests</c> checks that what arrives upstream is byte for byte what the client sent.
/// </remarks>
public sealed class FaultProxy : IAsyncDisposable
{
    private const string Ec2FormContentType = "application/x-www-form-urlencoded";
    private static readonly TimeSpan UpstreamTimeout = TimeSpan.FromSeconds(30);

    // Hop-by-hop headers are the connection's, not the request's; Host is set on its own; Expect
    // is answered by Kestrel (100-continue) and by HttpClient on the upstream connection.
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Connection", "Expect",
    };

    private readonly WebApplication _app;
    private readonly Uri _upstream;
    private readonly HttpClient _http;
    private readonly List<FaultRule> _rules = [];
    private readonly ConcurrentQueue<ProxiedExchange> _exchanges = new();
    private int _sequence;

    private FaultProxy(WebApplication app, Uri upstream)
    {
        _app = app;
        _upstream = upstream;
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            Timeout = UpstreamTimeout,
        };
    }

    /// <summary>The proxy's base URL, such as http://127.0.0.1:40123/: give it to the client as its endpoint.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Every request so far, in the order they finished.</summary>
    public IReadOnlyList<ProxiedExchange> Exchanges => _exchanges.OrderBy(e => e.Sequence).ToList();

    public static async Task<FaultProxy> StartAsync(Uri upstream)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var proxy = new FaultProxy(app, upstream);
        app.Run(proxy.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        proxy.Url = new Uri(address.TrimEnd('/') + "/");
        return proxy;
    }

    /// <summary>Adds a rule after those already there.</summary>
    public FaultRule Add(FaultRule rule)
    {
        lock (_rules)
        {
            _rules.Add(rule);
        }

        return rule;
    }

    /// <summary>Adds a rule before those already there, so it is consulted first.</summary>
    public FaultRule Insert(FaultRule rule)
    {
        lock (_rules)
        {
            _rules.Insert(0, rule);
        }

        return rule;
    }

    public void Remove(FaultRule rule)
    {
        lock (_rules)
        {
            _rules.Remove(rule);
        }
    }

    /// <summary>Removes every rule: from now on every request is forwarded untouched.</summary>
    public void ClearRules()
    {
        lock (_rules)
        {
            _rules.Clear();
        }
    }

    /// <summary>The exchanges whose request <paramref name="matches"/> (a <see cref="FaultRule.S3"/> or <see cref="FaultRule.Ec2"/> matcher).</summary>
    public IReadOnlyList<ProxiedExchange> Where(Func<ProxiedRequest, bool> matches) =>
        Exchanges.Where(e => matches(e.Request)).ToList();

    /// <summary>Every exchange on one line each, for assertion messages; a run of alike exchanges is one line with its count.</summary>
    public string Describe()
    {
        var lines = new List<string>();
        var exchanges = Exchanges;
        for (var i = 0; i < exchanges.Count;)
        {
            var alike = 1;
            while (i + alike < exchanges.Count && Alike(exchanges[i], exchanges[i + alike]))
            {
                alike++;
            }

            lines.Add(alike == 1 ? exchanges[i].ToString() : $"{exchanges[i]} (x{alike}, to #{exchanges[i + alike - 1].Sequence})");
            i += alike;
        }

        return string.Join(Environment.NewLine, lines);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var aborted = context.RequestAborted;
        byte[]? formBody = null;
        string? action = null;
        if (request.ContentType?.StartsWith(Ec2FormContentType, StringComparison.OrdinalIgnoreCase) == true)
        {
            // An EC2 Query API call: small, and its Action is in the body.
            formBody = await ReadAllAsync(request.Body, aborted);
            action = HttpUtility.ParseQueryString(Encoding.UTF8.GetString(formBody))["Action"];
        }

        var range = request.Headers.Range.Count > 0 ? request.Headers.Range.ToString() : null;
        var proxied = new ProxiedRequest(request.Method, request.Path.Value ?? "/", request.QueryString.Value ?? "", action, range);
        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var rule = Pick(proxied);
        int? upstreamStatus = null;
        var clientSaw = "?";
        long responseBytes = 0;
        try
        {
            switch (rule?.Kind)
            {
                case FaultKind.ResetBeforeForward:
                    rule.NoteActed();
                    context.Abort();
                    clientSaw = "reset";
                    break;
                case FaultKind.S3Error:
                    await DrainAsync(request, formBody, aborted);
                    rule.NoteActed();
                    await WriteErrorAsync(context, rule.Status, S3ErrorBody(rule.Code, proxied.Path), "application/xml");
                    clientSaw = rule.Status.ToString(CultureInfo.InvariantCulture);
                    break;
                case FaultKind.Ec2Throttle:
                    await DrainAsync(request, formBody, aborted);
                    rule.NoteActed();
                    await WriteErrorAsync(context, 503, Ec2ThrottleBody(), "text/xml;charset=UTF-8");
                    clientSaw = "503";
                    break;
                default:
                    using (var upstream = await ForwardAsync(context, formBody))
                    {
                        upstreamStatus = (int)upstream.StatusCode;
                        if (rule is not null)
                        {
                            // moto has answered in full: the request landed, whatever the client sees now.
                            await upstream.Content.LoadIntoBufferAsync(aborted);
                            rule.NoteActed();
                        }

                        if (rule?.Kind == FaultKind.DropAnswer)
                        {
                            context.Abort();
                            clientSaw = "reset after it landed";
                            break;
                        }

                        if (rule?.Kind == FaultKind.DelayAnswer)
                        {
                            await Task.Delay(rule.Delay, aborted);
                        }

                        if (rule?.Kind == FaultKind.HoldAnswer)
                        {
                            await rule.Released.WaitAsync(aborted);
                        }

                        if (rule?.Kind == FaultKind.TruncateBody)
                        {
                            responseBytes = await WriteHalfThenResetAsync(upstream, context, aborted);
                            clientSaw = $"{upstreamStatus.Value.ToString(CultureInfo.InvariantCulture)} with {responseBytes} bytes of its body, then a reset";
                            break;
                        }

                        if (rule?.Kind == FaultKind.ShortBody)
                        {
                            var whole = await upstream.Content.ReadAsByteArrayAsync(aborted);
                            CopyStatusAndHeaders(upstream, context.Response);
                            context.Response.ContentLength = whole.Length / 2;
                            await context.Response.Body.WriteAsync(whole.AsMemory(0, whole.Length / 2), aborted);
                            responseBytes = whole.Length / 2;
                            clientSaw = $"{upstreamStatus.Value.ToString(CultureInfo.InvariantCulture)} with {responseBytes} of its {whole.Length} bytes, ended cleanly";
                            break;
                        }

                        if (rule?.Kind == FaultKind.CorruptBody)
                        {
                            responseBytes = await WriteCorruptedAsync(upstream, context, FlipAt(rule, proxied), aborted);
                            clientSaw = $"{upstreamStatus.Value.ToString(CultureInfo.InvariantCulture)} with a byte of its body flipped";
                            break;
                        }

                        responseBytes = await CopyResponseAsync(upstream, context, aborted);
                        clientSaw = upstreamStatus.Value.ToString(CultureInfo.InvariantCulture);
                    }

                    break;
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            clientSaw = "client gave up";
        }
        catch (IOException) when (aborted.IsCancellationRequested)
        {
            clientSaw = "client gave up";
        }
        catch (HttpRequestException e)
        {
            // moto did not answer (or the client's body broke off while it was being forwarded).
            clientSaw = $"upstream failed: {e.Message}";
            context.Abort();
        }
        finally
        {
            _exchanges.Enqueue(new ProxiedExchange(
                Interlocked.Increment(ref _sequence), proxied, headers, rule?.Kind, upstreamStatus, clientSaw, responseBytes));
        }
    }

    private static bool Alike(ProxiedExchange a, ProxiedExchange b) =>
        a.Request == b.Request && a.Fault == b.Fault && a.UpstreamStatus == b.UpstreamStatus && a.ClientSaw == b.ClientSaw;

    private FaultRule? Pick(ProxiedRequest request)
    {
        lock (_rules)
        {
            return _rules.FirstOrDefault(r => r.TryFire(request));
        }
    }

    private async Task<HttpResponseMessage> ForwardAsync(HttpContext context, byte[]? formBody)
    {
        var request = context.Request;
        // The target exactly as the client sent it: the signature covers its encoding.
        var target = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(_upstream, target))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var hasBody = formBody is not null || request.ContentLength > 0 || request.Headers.ContainsKey("Transfer-Encoding");
        if (hasBody)
        {
            // Not disposed with the message: Kestrel owns the request body stream.
            message.Content = formBody is not null ? new ByteArrayContent(formBody) : new StreamContent(request.Body);
        }
        else if (request.ContentLength == 0)
        {
            message.Content = new ByteArrayContent([]);
        }

        foreach (var (name, values) in request.Headers)
        {
            if (NotForwarded.Contains(name))
            {
                continue;
            }

            if (!message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                message.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        message.Headers.Host = request.Host.Value;
        // Not the client's token: a request that reached moto runs to its end there whatever the client does.
        return await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, CancellationToken.None);
    }

    /// <summary>Sends moto's answer on to the client; returns the bytes of its body sent.</summary>
    private static async Task<long> CopyResponseAsync(HttpResponseMessage upstream, HttpContext context, CancellationToken cancellationToken)
    {
        CopyStatusAndHeaders(upstream, context.Response);
        var noBody = HttpMethods.IsHead(context.Request.Method) || upstream.StatusCode is HttpStatusCode.NotModified or HttpStatusCode.NoContent;
        if (noBody)
        {
            return 0;
        }

        await using var body = await upstream.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[81920];
        long sent = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            sent += read;
        }

        return sent;
    }

    /// <summary>
    /// moto's status and headers (its Content-Length included, so the client expects the whole body), then the first
    /// half of the (buffered) body, flushed, and a reset of the connection; returns the bytes of the body sent.
    /// </summary>
    private static async Task<long> WriteHalfThenResetAsync(HttpResponseMessage upstream, HttpContext context, CancellationToken cancellationToken)
    {
        var body = await upstream.Content.ReadAsByteArrayAsync(cancellationToken);
        var response = context.Response;
        CopyStatusAndHeaders(upstream, response);
        response.ContentLength = body.Length;
        var half = body.Length / 2;
        await response.Body.WriteAsync(body.AsMemory(0, half), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
        // Let the half reach the client before the reset, so it reads a body that breaks off rather than no answer at all.
        await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        context.Abort();
        return half;
    }

    /// <summary>moto's status, headers and whole (buffered) body, with the byte in the middle of the body flipped; returns the body's length.</summary>
    private static async Task<long> WriteCorruptedAsync(HttpResponseMessage upstream, HttpContext context, long? flipAt, CancellationToken cancellationToken)
    {
        var body = await upstream.Content.ReadAsByteArrayAsync(cancellationToken);
        var at = flipAt ?? body.Length / 2;
        if (at >= 0 && at < body.Length)
        {
            body[at] ^= 0x5A;
        }

        CopyStatusAndHeaders(upstream, context.Response);
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, cancellationToken);
        return body.Length;
    }

    /// <summary>The byte of the body to flip: the rule's object offset less where the asked range starts, or null for the middle.</summary>
    private static long? FlipAt(FaultRule rule, ProxiedRequest request)
    {
        if (rule.ObjectOffset is not { } offset)
        {
            return null;
        }

        var match = request.Range is null ? null : System.Text.RegularExpressions.Regex.Match(request.Range, "^bytes=([0-9]+)-");
        return match is { Success: true } ? offset - long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : offset;
    }

    private static void CopyStatusAndHeaders(HttpResponseMessage upstream, HttpResponse response)
    {
        response.StatusCode = (int)upstream.StatusCode;
        foreach (var (name, values) in upstream.Headers.Concat(upstream.Content.Headers))
        {
            if (!NotForwarded.Contains(name))
            {
                response.Headers[name] = values.ToArray();
            }
        }
    }

    private static async Task DrainAsync(HttpRequest request, byte[]? formBody, CancellationToken cancellationToken)
    {
        if (formBody is null)
        {
            await request.Body.CopyToAsync(Stream.Null, cancellationToken);
        }
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, string body, string contentType)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.Headers["x-amz-request-id"] = "FAULTPROXY";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            // S3 answers HEAD errors with the status alone.
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(body);
        response.ContentType = contentType;
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    private static string S3ErrorBody(string code, string resource) =>
        $"""<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{S3Message(code)}</Message><Resource>{resource}</Resource><RequestId>FAULTPROXY</RequestId></Error>""";

    private static string S3Message(string code) => code switch
    {
        "SlowDown" => "Please reduce your request rate.",
        "InternalError" => "We encountered an internal error. Please try again.",
        _ => "Injected by the fault proxy.",
    };

    private static string Ec2ThrottleBody() =>
        """<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>00000000-0000-0000-0000-00000000fa01</RequestID></Response>""";

    private static async Task<byte[]> ReadAllAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }
}
