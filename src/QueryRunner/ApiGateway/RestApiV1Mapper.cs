using ServerlessDb.Api;

namespace QueryRunner.ApiGateway;

/// <summary>Maps a REST API payload 1.0 proxy event to an <see cref="ApiRequest"/> and an <see cref="ApiResponse"/> back.</summary>
internal static class RestApiV1Mapper
{
    public static ApiRequest ToApiRequest(RestApiV1Request apiEvent, string fallbackRequestId)
    {
        var context = apiEvent.RequestContext;
        if (string.IsNullOrEmpty(apiEvent.HttpMethod) || string.IsNullOrEmpty(apiEvent.Path))
        {
            throw new InvalidEventException(EventMessages.MissingV1Fields);
        }

        return new ApiRequest(
            apiEvent.HttpMethod.ToUpperInvariant(),
            StagePrefix.Strip(apiEvent.Path, context?.Stage),
            Query(apiEvent),
            Headers(apiEvent),
            EventBody.Decode(apiEvent.Body, apiEvent.IsBase64Encoded),
            string.IsNullOrEmpty(context?.RequestId) ? fallbackRequestId : context.RequestId);
    }

    /// <param name="body">The body as sent: <paramref name="response"/>'s, or its base64 when <paramref name="isBase64Encoded"/>.</param>
    public static RestApiV1Response ToResponse(ApiResponse response, string body, bool isBase64Encoded) =>
        new(response.StatusCode, ResponseHeaders.From(response), MultiValueHeaders: null, body, isBase64Encoded);

    // API Gateway has already percent-decoded these (and turned '+' into a space); decoding again
    // would corrupt values such as "LIKE '100%25'" or "1+1", so they are taken as they are.
    private static Dictionary<string, string> Query(RestApiV1Request apiEvent)
    {
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, values) in apiEvent.MultiValueQueryStringParameters ?? Empty<IReadOnlyList<string>?>())
        {
            query.TryAdd(name, values is { Count: > 0 } ? values[0] : string.Empty);
        }

        foreach (var (name, value) in apiEvent.QueryStringParameters ?? Empty<string?>())
        {
            query.TryAdd(name, value ?? string.Empty);
        }

        return query;
    }

    // multiValueHeaders has every value; headers only the last one of each name.
    private static Dictionary<string, string> Headers(RestApiV1Request apiEvent)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in apiEvent.MultiValueHeaders ?? Empty<IReadOnlyList<string>?>())
        {
            if (values is { Count: > 0 })
            {
                headers[name] = string.Join(",", values);
            }
        }

        foreach (var (name, value) in apiEvent.Headers ?? Empty<string?>())
        {
            if (value is not null)
            {
                headers.TryAdd(name, value);
            }
        }

        return headers;
    }

    private static IReadOnlyDictionary<string, T> Empty<T>() => new Dictionary<string, T>();
}
