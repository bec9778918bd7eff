using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ServerlessDb.Api;
using ServerlessDb.Errors;
using ServerlessDb.Protocol;

namespace QueryRunner.ApiGateway;

/// <summary>
/// Writes an <see cref="ApiResponse"/> as the proxy response of the payload version the event came in,
/// holding Lambda's response limit on the bytes actually returned: the body is escaped as little as JSON
/// allows, sent base64-encoded only when that is what fits, and a response that fits neither way becomes a 413.
/// A binary answer (<see cref="ApiResponse.File"/>) is always base64 (<c>isBase64Encoded: true</c>); the writer
/// reads the file but does not dispose it.
/// </summary>
internal static class ProxyResponseWriter
{
    /// <summary>Lambda's limit on a synchronous invocation's response payload (6 MB).</summary>
    private const int MaxResponseBytes = ApiResponse.LambdaResponseLimitBytes;

    // The default encoder writes '"' as \u0022 (six bytes), so a JSON body full of quotes grew
    // fourfold inside the proxy response; relaxed escaping writes \" instead.
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = Encoder };

    public static Stream Write(PayloadVersion version, ApiResponse response)
    {
        if (response.File is { } file)
        {
            // A file over the limit cannot fit as base64 (4/3 of it); it is not read at all.
            var binary = file.Length <= MaxResponseBytes ? Serialize(version, response, asBase64: true) : null;
            return binary is not null && binary.Length <= MaxResponseBytes
                ? binary
                : TooLarge(version, binary?.Length ?? response.ProxyBytesWithBinaryBody(file.Length));
        }

        var output = Serialize(version, response, asBase64: false);
        if (output.Length <= MaxResponseBytes)
        {
            return output;
        }

        // Text that escaping inflated (quotes, control characters) may still fit as base64, a flat 4/3;
        // only then, because a REST API without binary media types would hand base64 to the client.
        var encoded = Serialize(version, response, asBase64: true);
        if (encoded.Length <= MaxResponseBytes)
        {
            return encoded;
        }

        return TooLarge(version, Math.Min(output.Length, encoded.Length));
    }

    private static MemoryStream TooLarge(PayloadVersion version, long size) =>
        Serialize(version, ErrorResponses.Answer(new PayloadTooLargeException(ProtocolMessages.ResponseTooLarge(size, MaxResponseBytes))), asBase64: false);

    /// <summary>The headers of a proxy response: the API's headers plus its content type, unless it set one itself.</summary>
    public static Dictionary<string, string> Headers(ApiResponse response)
    {
        var headers = new Dictionary<string, string>(response.Headers, StringComparer.OrdinalIgnoreCase);
        if (!string.IsNullOrEmpty(response.ContentType))
        {
            headers.TryAdd("Content-Type", response.ContentType);
        }

        return headers;
    }

    private static MemoryStream Serialize(PayloadVersion version, ApiResponse response, bool asBase64)
    {
        var body = response.File is { } file ? Convert.ToBase64String(File.ReadAllBytes(file.Path))
            : asBase64 ? Convert.ToBase64String(Encoding.UTF8.GetBytes(response.Body))
            : response.Body;
        var output = new MemoryStream();
        using (var json = new Utf8JsonWriter(output, WriterOptions))
        {
            if (version == PayloadVersion.HttpApiV2)
            {
                JsonSerializer.Serialize(json, HttpApiV2Response.From(response, body, asBase64), ApiGatewayJsonContext.Default.HttpApiV2Response);
            }
            else
            {
                JsonSerializer.Serialize(json, RestApiV1Response.From(response, body, asBase64), ApiGatewayJsonContext.Default.RestApiV1Response);
            }
        }

        output.Position = 0;
        return output;
    }
}
