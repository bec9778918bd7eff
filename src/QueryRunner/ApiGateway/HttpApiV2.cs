using ServerlessDb.Api;
using ServerlessDb.Errors;

namespace QueryRunner.ApiGateway;

/// <summary>
/// The fields we read from an HTTP API event, payload format 2.0; everything else is ignored. Its parts are
/// nested, as in Amazon.Lambda.APIGatewayEvents' <c>APIGatewayHttpApiV2ProxyRequest</c>.
/// </summary>
internal sealed record HttpApiV2Request(
    string? Version,
    string? RawPath,
    string? RawQueryString,
    IReadOnlyList<string>? Cookies,
    IReadOnlyDictionary<string, string>? Headers,
    IReadOnlyDictionary<string, string>? QueryStringParameters,
    HttpApiV2Request.ContextV2? RequestContext,
    string? Body,
    bool IsBase64Encoded)
{
    /// <exception cref="InvalidEventException">the event lacks its method or path, or its body is not the base64 it claims.</exception>
    public ApiRequest ToApiRequest(string fallbackRequestId)
    {
        var context = RequestContext;
        var method = context?.Http?.Method;
        var path = RawPath ?? context?.Http?.Path;
        if (string.IsNullOrEmpty(method) || string.IsNullOrEmpty(path))
        {
            throw new InvalidEventException(EventMessages.MissingV2Fields);
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in Headers ?? new Dictionary<string, string>())
        {
            headers[name] = value;
        }

        // Payload 2.0 moves the Cookie header into "cookies"; put it back so the request is whole.
        if (Cookies is { Count: > 0 } cookies && !headers.ContainsKey("cookie"))
        {
            headers["cookie"] = string.Join("; ", cookies);
        }

        // rawQueryString is what the client sent; queryStringParameters has duplicates comma-joined.
        var query = RawQueryString is not null
            ? ProxyEvent.ParseQuery(RawQueryString)
            : new Dictionary<string, string>(QueryStringParameters ?? new Dictionary<string, string>(), StringComparer.Ordinal);

        return new ApiRequest(
            method.ToUpperInvariant(),
            ProxyEvent.StripStage(path, context?.Stage),
            query,
            headers,
            ProxyEvent.DecodeBody(Body, IsBase64Encoded),
            string.IsNullOrEmpty(context?.RequestId) ? fallbackRequestId : context.RequestId);
    }

    /// <summary><c>requestContext</c> of a payload 2.0 event.</summary>
    internal sealed record ContextV2(string? RequestId, string? Stage, HttpDescription? Http);

    /// <summary><c>requestContext.http</c> of a payload 2.0 event.</summary>
    internal sealed record HttpDescription(string? Method, string? Path);
}

/// <summary>The response API Gateway expects from a payload 2.0 integration.</summary>
internal sealed record HttpApiV2Response(
    int StatusCode,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    bool IsBase64Encoded)
{
    /// <param name="body">The body as sent: <paramref name="response"/>'s, or its base64 when <paramref name="isBase64Encoded"/>.</param>
    public static HttpApiV2Response From(ApiResponse response, string body, bool isBase64Encoded) =>
        new(response.StatusCode, ProxyResponseWriter.Headers(response), body, isBase64Encoded);
}
