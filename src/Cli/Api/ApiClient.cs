using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using Cli.Output;

namespace Cli.Api;

/// <summary>
/// HTTP to the ServerlessDb API, signed when the target says so. Redirects are never followed with the
/// signature: a backup's 307 to a presigned S3 link is fetched unsigned (the link carries its own authorization).
/// Every failure becomes a <see cref="CliException"/> whose exit code says what kind it was.
/// </summary>
internal sealed class ApiClient : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromMinutes(10);

    private readonly HttpClient _http;
    private readonly HttpClient _links;
    private readonly ApiTarget _target;
    private readonly TimeProvider _time;
    private RequestSigner? _signer;

    public ApiClient(ApiTarget target, TimeProvider time)
    {
        _target = target;
        _time = time;
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = RequestTimeout };
        _links = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = true }) { Timeout = RequestTimeout };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("serverlessdb-cli", "0.1"));
    }

    public Uri BaseUrl => _target.BaseUrl;

    public bool Signs => _target.Sign;

    /// <summary>Sends one request; the caller owns the response. Network failures throw; HTTP errors are returned.</summary>
    public async Task<HttpResponseMessage> SendAsync(
        HttpMethod method, string pathAndQuery, RequestBody? body, CancellationToken cancellationToken, Progress? progress = null, bool streamResponse = false)
    {
        // Relative to the base URL, so a base with a path (a custom domain's mapping) keeps it.
        var uri = new Uri(_target.BaseUrl, pathAndQuery.TrimStart('/'));
        using var request = new HttpRequestMessage(method, uri);
        if (body is not null)
        {
            request.Content = body.CreateContent(progress);
        }

        if (_target.Sign)
        {
            _signer ??= await AwsCredentialSource.CreateSignerAsync(_target, _time, cancellationToken);
            var hash = body is null ? RequestSigner.EmptyPayloadHash : await body.Sha256Async(cancellationToken);
            await _signer.SignAsync(request, hash, cancellationToken);
        }

        return await SendOrExplainAsync(_http, request, uri, streamResponse, cancellationToken);
    }

    /// <summary>Sends one request and returns its body as JSON, or throws for an error answer (naming <paramref name="operation"/>).</summary>
    public async Task<JsonDocument> SendForJsonAsync(
        HttpMethod method, string pathAndQuery, RequestBody? body, string operation, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(method, pathAndQuery, body, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        ThrowIfError(response, text, operation);
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new CliException(ExitCodes.ServiceError, $"{operation}: {_target.BaseUrl} answered {(int)response.StatusCode} with a body that is not JSON: {Shorten(text)}", e);
        }
    }

    /// <summary>
    /// Downloads a backup to <paramref name="destination"/>, streamed, with a progress bar: the API's body, or
    /// for a 307 the presigned link it names, fetched without the signature.
    /// </summary>
    public async Task<long> DownloadAsync(string pathAndQuery, Stream destination, string operation, string label, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, pathAndQuery, null, cancellationToken, streamResponse: true);
        if (response.StatusCode is HttpStatusCode.TemporaryRedirect or HttpStatusCode.Found or HttpStatusCode.SeeOther
            && response.Headers.Location is { } location)
        {
            var link = location.IsAbsoluteUri ? location : new Uri(_target.BaseUrl, location);
            using var linkRequest = new HttpRequestMessage(HttpMethod.Get, link);
            using var linked = await SendOrExplainAsync(_links, linkRequest, link, streamResponse: true, cancellationToken);
            if (!linked.IsSuccessStatusCode)
            {
                var text = await linked.Content.ReadAsStringAsync(cancellationToken);
                throw new CliException(ExitCodes.ServiceError, $"{operation}: the backup's link answered {(int)linked.StatusCode}: {Shorten(text)}");
            }

            return await CopyWithProgressAsync(linked, destination, label, cancellationToken);
        }

        if (!response.IsSuccessStatusCode)
        {
            ThrowIfError(response, await response.Content.ReadAsStringAsync(cancellationToken), operation);
        }

        return await CopyWithProgressAsync(response, destination, label, cancellationToken);
    }

    /// <summary>PUTs a file to a presigned link (a staged load), unsigned, streamed with a progress bar.</summary>
    public async Task PutToLinkAsync(Uri link, RequestBody body, string operation, CancellationToken cancellationToken)
    {
        using var progress = Progress.Start("uploading", body.Length);
        using var request = new HttpRequestMessage(HttpMethod.Put, link) { Content = body.CreateContent(progress) };
        using var response = await SendOrExplainAsync(_links, request, link, streamResponse: false, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new CliException(ExitCodes.ServiceError, $"{operation}: the upload link answered {(int)response.StatusCode}: {Shorten(text)}");
        }
    }

    /// <summary>Throws the <see cref="CliException"/> an error answer stands for; does nothing for a 2xx.</summary>
    public void ThrowIfError(HttpResponseMessage response, string body, string operation)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var status = (int)response.StatusCode;
        var message = MessageOf(body);
        throw status switch
        {
            401 or 403 => new CliException(
                ExitCodes.Auth,
                $"{operation}: {_target.BaseUrl} refused the request ({status}{(message.Length > 0 ? ": " + message : "")})" +
                (_target.Sign ? "; check the credentials, the region and that the role may call execute-api:Invoke on the API" : "; it needs signing: pass --sign always or an execute-api URL")),
            400 => new CliException(ExitCodes.StatementError, $"{operation}: {message}"),
            _ => new CliException(ExitCodes.ServiceError, $"{operation}: {_target.BaseUrl} answered {status} {response.ReasonPhrase}{(message.Length > 0 ? ": " + message : "")}"),
        };
    }

    public void Dispose()
    {
        _http.Dispose();
        _links.Dispose();
    }

    private static async Task<long> CopyWithProgressAsync(HttpResponseMessage response, Stream destination, string label, CancellationToken cancellationToken)
    {
        using var progress = Progress.Start(label, response.Content.Headers.ContentLength);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            total += read;
            progress?.Advance(read);
        }

        await destination.FlushAsync(cancellationToken);
        return total;
    }

    private static async Task<HttpResponseMessage> SendOrExplainAsync(
        HttpClient http, HttpRequestMessage request, Uri uri, bool streamResponse, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, streamResponse ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            var reason = e.InnerException switch
            {
                SocketException socket => socket.Message,
                AuthenticationException tls => "TLS: " + tls.Message,
                _ => e.Message,
            };
            throw new CliException(ExitCodes.Network, $"Cannot reach {uri.GetLeftPart(UriPartial.Authority)}: {reason}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Network, $"{uri.GetLeftPart(UriPartial.Authority)} did not answer within {RequestTimeout.TotalMinutes:0} minutes.", e);
        }
    }

    /// <summary>The API's error bodies are plain text; API Gateway's own are <c>{"message": "..."}</c>.</summary>
    private static string MessageOf(string body)
    {
        var text = body.Trim();
        if (text.StartsWith('{'))
        {
            try
            {
                using var json = JsonDocument.Parse(text);
                if (json.RootElement.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                {
                    return message.GetString()!;
                }
            }
            catch (JsonException)
            {
                // Not JSON after all: shown as it is.
            }
        }

        return Shorten(text);
    }

    private static string Shorten(string text) => text.Length <= 500 ? text : new StringBuilder(text, 0, 500, 503).Append("...").ToString();
}
