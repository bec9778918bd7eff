using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace LocalServer;

/// <summary>
/// Writes an HTTP request as the event API Gateway's HTTP API sends a Lambda (payload format 2.0):
/// the raw path and query string, headers with lower-cased names (repeated ones joined with commas,
/// cookies in <c>cookies</c>), and the body base64-encoded.
/// </summary>
internal static class HttpApiV2EventWriter
{
    public static async Task<MemoryStream> WriteAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var request = context.Request;
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, cancellationToken);

        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.ToUriComponent();
        var rawPath = rawTarget.Split('?', 2)[0];
        var now = DateTimeOffset.UtcNow;

        var output = new MemoryStream();
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteString("version", "2.0");
            json.WriteString("routeKey", "$default");
            json.WriteString("rawPath", rawPath);
            json.WriteString("rawQueryString", request.QueryString.HasValue ? request.QueryString.Value![1..] : "");

            if (request.Cookies.Count > 0)
            {
                json.WriteStartArray("cookies");
                foreach (var cookie in request.Headers.Cookie.SelectMany(h => (h ?? "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
                {
                    json.WriteStringValue(cookie);
                }

                json.WriteEndArray();
            }

            json.WriteStartObject("headers");
            foreach (var (name, values) in request.Headers)
            {
                if (!string.Equals(name, "cookie", StringComparison.OrdinalIgnoreCase))
                {
                    json.WriteString(name.ToLowerInvariant(), string.Join(',', values.ToArray()));
                }
            }

            json.WriteEndObject();

            json.WriteStartObject("requestContext");
            json.WriteString("accountId", "local");
            json.WriteString("apiId", "local");
            json.WriteString("domainName", request.Host.Host);
            json.WriteString("requestId", Guid.NewGuid().ToString("N"));
            json.WriteString("routeKey", "$default");
            json.WriteString("stage", "$default");
            json.WriteString("time", now.ToString("dd/MMM/yyyy:HH:mm:ss +0000", CultureInfo.InvariantCulture));
            json.WriteNumber("timeEpoch", now.ToUnixTimeMilliseconds());
            json.WriteStartObject("http");
            json.WriteString("method", request.Method);
            json.WriteString("path", rawPath);
            json.WriteString("protocol", request.Protocol);
            json.WriteString("sourceIp", context.Connection.RemoteIpAddress?.ToString() ?? "127.0.0.1");
            json.WriteString("userAgent", request.Headers.UserAgent.ToString());
            json.WriteEndObject();
            json.WriteEndObject();

            if (body.Length > 0)
            {
                json.WriteString("body", Convert.ToBase64String(body.GetBuffer(), 0, (int)body.Length));
                json.WriteBoolean("isBase64Encoded", true);
            }
            else
            {
                json.WriteBoolean("isBase64Encoded", false);
            }

            json.WriteEndObject();
        }

        output.Position = 0;
        return output;
    }
}
