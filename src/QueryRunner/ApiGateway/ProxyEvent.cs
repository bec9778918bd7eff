using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessDb.Api;
using ServerlessDb.Errors;

namespace QueryRunner.ApiGateway;

/// <summary>Which API Gateway proxy payload an event came in, so the response goes back in the same one.</summary>
internal enum PayloadVersion
{
    RestApiV1,
    HttpApiV2,
}

/// <summary>
/// A recognized event: the plain request, and the payload version to answer in. <see cref="ReadAsync"/>
/// tells the payload versions apart: 2.0 says <c>"version": "2.0"</c>; 1.0 has <c>httpMethod</c> (REST APIs
/// send no version, HTTP APIs send "1.0"). The helpers below decode the fields both versions share.
/// </summary>
internal sealed record ProxyEvent(PayloadVersion Version, ApiRequest Request)
{
    private const string DefaultStage = "$default";

    /// <exception cref="InvalidEventException">the input is not JSON, or not a proxy event we can map.</exception>
    public static async Task<ProxyEvent> ReadAsync(Stream input, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(input, default, cancellationToken);
        }
        catch (JsonException e)
        {
            throw new InvalidEventException(EventMessages.NotJson, e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidEventException(EventMessages.NotAnEvent);
            }

            var fallbackRequestId = Guid.NewGuid().ToString("D");
            try
            {
                if (root.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.String && version.GetString() == "2.0")
                {
                    var v2 = root.Deserialize(ApiGatewayJsonContext.Default.HttpApiV2Request) ?? throw new InvalidEventException(EventMessages.NotAnEvent);
                    return new ProxyEvent(PayloadVersion.HttpApiV2, v2.ToApiRequest(fallbackRequestId));
                }

                if (root.TryGetProperty("httpMethod", out _))
                {
                    var v1 = root.Deserialize(ApiGatewayJsonContext.Default.RestApiV1Request) ?? throw new InvalidEventException(EventMessages.NotAnEvent);
                    return new ProxyEvent(PayloadVersion.RestApiV1, v1.ToApiRequest(fallbackRequestId));
                }
            }
            catch (JsonException e)
            {
                throw new InvalidEventException($"invalid event: {e.Message}", e);
            }

            throw new InvalidEventException(EventMessages.NotAnEvent);
        }
    }

    /// <summary>
    /// Removes the "/{stage}" that API Gateway leaves at the start of the path for a named stage (the
    /// execute-api URL of an HTTP API's named stage, or a 1.0 event that carries it), so routes see "/db/query".
    /// </summary>
    public static string StripStage(string? path, string? stage)
    {
        var normalized = string.IsNullOrEmpty(path) ? "/" : path[0] == '/' ? path : "/" + path;
        if (string.IsNullOrEmpty(stage) || stage == DefaultStage)
        {
            return normalized;
        }

        var prefix = "/" + stage;
        if (normalized == prefix)
        {
            return "/";
        }

        return normalized.StartsWith(prefix + "/", StringComparison.Ordinal) ? normalized[prefix.Length..] : normalized;
    }

    /// <summary>Turns an event's body string into the bytes the client sent.</summary>
    /// <exception cref="InvalidEventException">the event says base64 and the body is not.</exception>
    public static ReadOnlyMemory<byte> DecodeBody(string? body, bool isBase64Encoded)
    {
        if (string.IsNullOrEmpty(body))
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        if (!isBase64Encoded)
        {
            return Encoding.UTF8.GetBytes(body);
        }

        try
        {
            return Convert.FromBase64String(body);
        }
        catch (FormatException e)
        {
            throw new InvalidEventException(EventMessages.BodyNotBase64, e);
        }
    }

    /// <summary>
    /// Parses a raw query string as Go's url.ParseQuery does, which is what rqlite clients expect: splits on
    /// '&amp;', then on the first '='; a name without '=' is a flag and maps to "". Names and values are
    /// percent-decoded with '+' as a space. The first occurrence of a name wins, as Go's <c>Query().Get</c> does.
    /// </summary>
    public static Dictionary<string, string> ParseQuery(string? rawQueryString)
    {
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(rawQueryString))
        {
            return query;
        }

        foreach (var pair in rawQueryString.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = WebUtility.UrlDecode(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? string.Empty : WebUtility.UrlDecode(pair[(equals + 1)..]);
            if (name.Length > 0)
            {
                query.TryAdd(name, value);
            }
        }

        return query;
    }
}

/// <summary>The messages of the 400 answered to an input that is not a proxy event, together in one place.</summary>
internal static class EventMessages
{
    public const string NotJson = "invalid event: not JSON";
    public const string NotAnEvent = "invalid event: expected an API Gateway proxy event (HTTP API payload 2.0 or REST API payload 1.0)";
    public const string MissingV2Fields = "invalid event: a payload 2.0 event needs requestContext.http.method and rawPath";
    public const string MissingV1Fields = "invalid event: a payload 1.0 event needs httpMethod and path";
    public const string BodyNotBase64 = "invalid event: isBase64Encoded is true but the body is not base64";
}

/// <summary>Source-generated (de)serializers for the event and response shapes: no reflection at run time.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HttpApiV2Request))]
[JsonSerializable(typeof(HttpApiV2Response))]
[JsonSerializable(typeof(RestApiV1Request))]
[JsonSerializable(typeof(RestApiV1Response))]
internal sealed partial class ApiGatewayJsonContext : JsonSerializerContext;
