using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

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
            foreach (var header in headers.EnumerateObject())
            {
                if (!FramingHeaders.Contains(header.Name))
                {
                    response.Headers[header.Name] = header.Value.GetString();
                }
            }
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
}
