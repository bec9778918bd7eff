using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using QueryRunner.ApiGateway;
using ServerlessDb.Api;

namespace LocalServer;

/// <summary>Turns a Lambda proxy response (<c>statusCode</c>, <c>headers</c>, <c>cookies</c>, <c>body</c>, <c>isBase64Encoded</c>) into the HTTP response, as API Gateway does.</summary>
internal static class ProxyResponseCopier
{
    // The server frames the body itself; a Lambda's value for these would be wrong or harmful.
    private static readonly HashSet<string> FramingHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Content-Length", "Transfer-Encoding", "Connection",
    };

    public static async Task CopyAsync(Stream proxyResponse, HttpResponse response, CancellationToken cancellationToken)
    {
        using var document = await JsonDocument.ParseAsync(proxyResponse, cancellationToken: cancellationToken);
        var root = document.RootElement;
        response.StatusCode = root.GetProperty("statusCode").GetInt32();
        if (root.TryGetProperty("headers", out var headers) && headers.ValueKind == JsonValueKind.Object)
        {
            CopyHeaders(headers.EnumerateObject().Select(h => KeyValuePair.Create(h.Name, h.Value.GetString() ?? string.Empty)), response);
        }

        if (root.TryGetProperty("cookies", out var cookies) && cookies.ValueKind == JsonValueKind.Array)
        {
            response.Headers.SetCookie = cookies.EnumerateArray().Select(c => c.GetString()).ToArray();
        }

        var text = root.TryGetProperty("body", out var body) && body.ValueKind == JsonValueKind.String ? body.GetString()! : "";
        var isBase64 = root.TryGetProperty("isBase64Encoded", out var flag) && flag.ValueKind == JsonValueKind.True;
        var bytes = isBase64 ? Convert.FromBase64String(text) : Encoding.UTF8.GetBytes(text);
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, cancellationToken);
    }

    /// <summary>
    /// Sends a binary answer without a proxy response: its status and headers as the proxy response would
    /// carry them, and the body streamed from <paramref name="file"/>, never held in memory.
    /// </summary>
    public static async Task StreamFileAsync(ApiResponse answer, ResponseFile file, HttpResponse response, CancellationToken cancellationToken)
    {
        response.StatusCode = answer.StatusCode;
        CopyHeaders(ProxyResponseWriter.Headers(answer), response);
        response.ContentLength = file.Length;
        await using var body = file.OpenRead();
        await body.CopyToAsync(response.Body, cancellationToken);
    }

    private static void CopyHeaders(IEnumerable<KeyValuePair<string, string>> headers, HttpResponse response)
    {
        foreach (var (name, value) in headers)
        {
            if (!FramingHeaders.Contains(name))
            {
                response.Headers[name] = value;
            }
        }
    }
}
