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
/// allows, sent base64-encoded when that is smaller, and a response still over the limit becomes a 413.
/// </summary>
internal static class ProxyResponseWriter
{
    /// <summary>Lambda's limit on a synchronous invocation's response payload (6 MB).</summary>
    public const int MaxResponseBytes = 6 * 1024 * 1024;

    // The default encoder writes '"' as \u0022 (six bytes), so a JSON body full of quotes grew
    // fourfold inside the proxy response; relaxed escaping writes \" instead.
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = Encoder };

    public static Stream Write(PayloadVersion version, ApiResponse response)
    {
        var output = Serialize(version, response);
        if (output.Length <= MaxResponseBytes)
        {
            return output;
        }

        var tooLarge = ErrorResponses.For(new PayloadTooLargeException(ProtocolMessages.ResponseTooLarge(output.Length, MaxResponseBytes)))!;
        return Serialize(version, tooLarge);
    }

    private static MemoryStream Serialize(PayloadVersion version, ApiResponse response)
    {
        var (body, isBase64Encoded) = EncodeBody(response.Body);
        var output = new MemoryStream();
        using (var json = new Utf8JsonWriter(output, WriterOptions))
        {
            if (version == PayloadVersion.HttpApiV2)
            {
                JsonSerializer.Serialize(json, HttpApiV2Mapper.ToResponse(response, body, isBase64Encoded), ApiGatewayJsonContext.Default.HttpApiV2Response);
            }
            else
            {
                JsonSerializer.Serialize(json, RestApiV1Mapper.ToResponse(response, body, isBase64Encoded), ApiGatewayJsonContext.Default.RestApiV1Response);
            }
        }

        output.Position = 0;
        return output;
    }

    /// <summary>The body as the proxy response carries it: JSON-escaped text, or base64 when that is smaller (API Gateway decodes it for the client).</summary>
    private static (string Body, bool IsBase64Encoded) EncodeBody(string body)
    {
        var utf8Length = Encoding.UTF8.GetByteCount(body);
        var base64Length = 4L * ((utf8Length + 2) / 3);
        long escapedLength;
        try
        {
            escapedLength = JsonEncodedText.Encode(body, Encoder).EncodedUtf8Bytes.Length;
        }
        catch (ArgumentException)
        {
            // Text that JSON cannot carry as a string (a lone surrogate) still travels as base64 of its UTF-8.
            escapedLength = long.MaxValue;
        }

        return escapedLength <= base64Length
            ? (body, false)
            : (Convert.ToBase64String(Encoding.UTF8.GetBytes(body)), true);
    }
}
