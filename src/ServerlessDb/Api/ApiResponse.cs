using System.Globalization;
using ServerlessDb.Protocol;

namespace ServerlessDb.Api;

/// <summary>
/// An HTTP response as the API produces it; the entry points turn it into their own shape. Build one with
/// <see cref="Json"/> or <see cref="Text"/>, which add the headers every answer carries (rqlite's version
/// header, CORS); error answers come from <see cref="ErrorResponses"/>.
/// </summary>
public sealed record ApiResponse(int StatusCode, string ContentType, string Body, IReadOnlyDictionary<string, string> Headers)
{
    public const string JsonContentType = "application/json; charset=utf-8";
    public const string TextContentType = "text/plain; charset=utf-8";

    public static ApiResponse Json(int status, string body, IEnumerable<KeyValuePair<string, string>>? extraHeaders = null) =>
        new(status, JsonContentType, body, CommonHeaders(extraHeaders));

    /// <summary>A plain-text answer, as rqlite gives for errors: the message and a final newline.</summary>
    public static ApiResponse Text(int status, string message, IEnumerable<KeyValuePair<string, string>>? extraHeaders = null) =>
        new(status, TextContentType, message.EndsWith('\n') ? message : message + "\n", CommonHeaders(extraHeaders));

    public static ApiResponse Preflight()
    {
        var headers = CommonHeaders();
        headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS";
        headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization, X-Amz-Date, X-Amz-Security-Token, X-Amz-Content-Sha256, Idempotency-Key";
        headers["Access-Control-Max-Age"] = "86400";
        return new ApiResponse(200, TextContentType, string.Empty, headers);
    }

    public static KeyValuePair<string, string> RetryAfter(TimeSpan wait) =>
        new("Retry-After", Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture));

    private static Dictionary<string, string> CommonHeaders(IEnumerable<KeyValuePair<string, string>>? extraHeaders = null)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["X-RQLITE-VERSION"] = StatusDocuments.RqliteVersion,
            ["Access-Control-Allow-Origin"] = "*",
        };
        foreach (var (name, value) in extraHeaders ?? [])
        {
            headers[name] = value;
        }

        return headers;
    }
}
