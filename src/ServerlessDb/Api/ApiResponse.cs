using System.Globalization;
using ServerlessDb.Protocol;

namespace ServerlessDb.Api;

/// <summary>
/// An HTTP response as the API produces it; the entry points turn it into their own shape. Build one with
/// <see cref="Json"/> or <see cref="Text"/>, which add the headers every answer carries (rqlite's version
/// header, CORS); error answers come from <see cref="ErrorResponses"/>. A binary answer (<see cref="Binary"/>)
/// carries its bytes in <see cref="File"/> instead of <see cref="Body"/>; whoever sends it disposes the file.
/// </summary>
public sealed record ApiResponse(int StatusCode, string ContentType, string Body, IReadOnlyDictionary<string, string> Headers)
{
    public const string JsonContentType = "application/json; charset=utf-8";
    public const string TextContentType = "text/plain; charset=utf-8";
    public const string OctetStreamContentType = "application/octet-stream";

    /// <summary>Lambda's limit on a synchronous invocation's response payload (6 MB), which the proxy response must fit.</summary>
    public const int LambdaResponseLimitBytes = 6 * 1024 * 1024;

    /// <summary>The body as a file, for a binary answer; null for a text one, whose bytes are <see cref="Body"/>.</summary>
    public ResponseFile? File { get; init; }

    public static ApiResponse Binary(int status, string contentType, ResponseFile file) =>
        new(status, contentType, string.Empty, CommonHeaders()) { File = file };

    /// <summary>A 307 to <paramref name="location"/>: the client repeats its GET there.</summary>
    public static ApiResponse TemporaryRedirect(Uri location) =>
        new(307, TextContentType, string.Empty, CommonHeaders([new("Location", location.AbsoluteUri)]));

    /// <summary>
    /// About how many bytes a proxy response carrying <paramref name="bodyBytes"/> of binary body takes: the
    /// body as base64 (4/3) and the envelope with this response's headers, generously counted.
    /// </summary>
    public long ProxyBytesWithBinaryBody(long bodyBytes) =>
        ((bodyBytes + 2) / 3 * 4) + 1024 + ContentType.Length + Headers.Sum(h => (long)h.Key.Length + h.Value.Length + 8);

    public static ApiResponse Json(int status, string body, IEnumerable<KeyValuePair<string, string>>? extraHeaders = null) =>
        new(status, JsonContentType, body, CommonHeaders(extraHeaders));

    /// <summary>A plain-text answer, as rqlite gives for errors: the message and a final newline.</summary>
    public static ApiResponse Text(int status, string message, IEnumerable<KeyValuePair<string, string>>? extraHeaders = null) =>
        new(status, TextContentType, message.EndsWith('\n') ? message : message + "\n", CommonHeaders(extraHeaders));

    /// <summary>A plain-text answer of exactly <paramref name="body"/>, for the bodies rqlite writes without a final newline.</summary>
    public static ApiResponse TextExactly(int status, string body) =>
        new(status, TextContentType, body, CommonHeaders());

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

/// <summary>
/// A response body in a local file of <see cref="Length"/> bytes, sent as it is (streamed by the local
/// server, base64 in a Lambda proxy response). Disposing it tells its owner the file is no longer needed.
/// </summary>
public sealed class ResponseFile : IDisposable
{
    private readonly IDisposable _owner;

    internal ResponseFile(string path, long length, IDisposable owner)
    {
        Path = path;
        Length = length;
        _owner = owner;
    }

    public string Path { get; }

    public long Length { get; }

    /// <summary>The file for reading from its start.</summary>
    public FileStream OpenRead() =>
        new(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);

    public void Dispose() => _owner.Dispose();
}
