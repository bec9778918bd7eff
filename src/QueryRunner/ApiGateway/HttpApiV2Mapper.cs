using ServerlessDb.Api;

namespace QueryRunner.ApiGateway;

/// <summary>Maps an HTTP API payload 2.0 event to an <see cref="ApiRequest"/> and an <see cref="ApiResponse"/> back.</summary>
internal static class HttpApiV2Mapper
{
    public static ApiRequest ToApiRequest(HttpApiV2Request apiEvent, string fallbackRequestId)
    {
        var context = apiEvent.RequestContext;
        var method = context?.Http?.Method;
        var path = apiEvent.RawPath ?? context?.Http?.Path;
        if (string.IsNullOrEmpty(method) || string.IsNullOrEmpty(path))
        {
            throw new InvalidEventException(EventMessages.MissingV2Fields);
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in apiEvent.Headers ?? new Dictionary<string, string>())
        {
            headers[name] = value;
        }

        // Payload 2.0 moves the Cookie header into "cookies"; put it back so the request is whole.
        if (apiEvent.Cookies is { Count: > 0 } cookies && !headers.ContainsKey("cookie"))
        {
            headers["cookie"] = string.Join("; ", cookies);
        }

        // rawQueryString is what the client sent; queryStringParameters has duplicates comma-joined.
        var query = apiEvent.RawQueryString is not null
            ? QueryStringParser.Parse(apiEvent.RawQueryString)
            : new Dictionary<string, string>(apiEvent.QueryStringParameters ?? new Dictionary<string, string>(), StringComparer.Ordinal);

        return new ApiRequest(
            method.ToUpperInvariant(),
            StagePrefix.Strip(path, context?.Stage),
            query,
            headers,
            EventBody.Decode(apiEvent.Body, apiEvent.IsBase64Encoded),
            string.IsNullOrEmpty(context?.RequestId) ? fallbackRequestId : context.RequestId);
    }

    /// <param name="body">The body as sent: <paramref name="response"/>'s, or its base64 when <paramref name="isBase64Encoded"/>.</param>
    public static HttpApiV2Response ToResponse(ApiResponse response, string body, bool isBase64Encoded) =>
        new(response.StatusCode, ResponseHeaders.From(response), body, isBase64Encoded);
}
