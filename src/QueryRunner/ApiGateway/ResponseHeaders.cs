using ServerlessDb.Api;

namespace QueryRunner.ApiGateway;

/// <summary>The headers of a proxy response: the API's headers plus its content type, unless it set one itself.</summary>
internal static class ResponseHeaders
{
    private const string ContentType = "Content-Type";

    public static Dictionary<string, string> From(ApiResponse response)
    {
        var headers = new Dictionary<string, string>(response.Headers, StringComparer.OrdinalIgnoreCase);
        if (!string.IsNullOrEmpty(response.ContentType))
        {
            headers.TryAdd(ContentType, response.ContentType);
        }

        return headers;
    }
}
