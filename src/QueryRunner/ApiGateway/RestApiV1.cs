using ServerlessDb.Api;
using ServerlessDb.Errors;

namespace QueryRunner.ApiGateway;

/// <summary>
/// The fields we read from a REST API proxy event, payload format 1.0 (also what an HTTP API sends
/// with payloadFormatVersion 1.0); everything else is ignored. Its parts are nested, as in
/// Amazon.Lambda.APIGatewayEvents' <c>APIGatewayProxyRequest</c>.
/// </summary>
internal sealed record RestApiV1Request(
    string? HttpMethod,
    string? Path,
    IReadOnlyDictionary<string, string?>? Headers,
    IReadOnlyDictionary<string, IReadOnlyList<string>?>? MultiValueHeaders,
    IReadOnlyDictionary<string, string?>? QueryStringParameters,
    IReadOnlyDictionary<string, IReadOnlyList<string>?>? MultiValueQueryStringParameters,
    RestApiV1Request.ContextV1? RequestContext,
    string? Body,
    bool IsBase64Encoded)
{
    /// <exception cref="InvalidEventException">the event lacks its method or path, or its body is not the base64 it claims.</exception>
    public ApiRequest ToApiRequest(string fallbackRequestId)
    {
        if (string.IsNullOrEmpty(HttpMethod) || string.IsNullOrEmpty(Path))
        {
            throw new InvalidEventException(EventMessages.MissingV1Fields);
        }

        return new ApiRequest(
            HttpMethod.ToUpperInvariant(),
            ProxyEvent.StripStage(Path, RequestContext?.Stage),
            ParseQuery(),
            ParseHeaders(),
            ProxyEvent.DecodeBody(Body, IsBase64Encoded),
            string.IsNullOrEmpty(RequestContext?.RequestId) ? fallbackRequestId : RequestContext.RequestId);
    }

        // API Gateway has already percent-decoded these (and turned '+' into a space); decoding again
        // would corrupt values such as "LIKE '100%25'" or "1+1", so they are taken as they are.
        private Dictionary<string, string> ParseQuery()
        {
            var query = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, values) in MultiValueQueryStringParameters ?? Empty<IReadOnlyList<string>?>())
            {
                query.TryAdd(name, values is { Count: > 0 } ? values[0] : string.Empty);
            }

            foreach (var (name, value) in QueryStringParameters ?? Empty<string?>())
            {
                query.TryAdd(name, value ?? string.Empty);
            }

            return query;
        }

        // multiValueHeaders has every value; headers only the last one of each name.
        private Dictionary<string, string> ParseHeaders()
        {
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, values) in MultiValueHeaders ?? Empty<IReadOnlyList<string>?>())
            {
                if (values is { Count: > 0 })
                {
                    headers[name] = string.Join(",", values);
                }
            }

            foreach (var (name, value) in Headers ?? Empty<string?>())
            {
                if (value is not null)
                {
                    headers.TryAdd(name, value);
                }
            }

            return headers;
        }

        private static IReadOnlyDictionary<string, T> Empty<T>() => new Dictionary<string, T>();

    /// <summary><c>requestContext</c> of a payload 1.0 event.</summary>
    internal sealed record ContextV1(string? RequestId, string? Stage);
}

/// <summary>
/// The response API Gateway expects from a payload 1.0 (REST API proxy) integration.
/// <c>multiValueHeaders</c> is left out when null: our headers have one value each.
/// </summary>
internal sealed record RestApiV1Response(
    int StatusCode,
    IReadOnlyDictionary<string, string> Headers,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? MultiValueHeaders,
    string Body,
    bool IsBase64Encoded)
{
    /// <param name="body">The body as sent: <paramref name="response"/>'s, or its base64 when <paramref name="isBase64Encoded"/>.</param>
    public static RestApiV1Response From(ApiResponse response, string body, bool isBase64Encoded) =>
        new(response.StatusCode, ProxyResponseWriter.Headers(response), MultiValueHeaders: null, body, isBase64Encoded);
}
