namespace ServerlessDb.Api;

/// <summary>
/// An HTTP request as the API sees it, free of any Lambda or API Gateway shape.
/// </summary>
/// <param name="Method">Upper-case HTTP method.</param>
/// <param name="Path">Path without any API Gateway stage prefix, starting with '/'.</param>
/// <param name="Query">Query-string parameters, decoded; a flag without a value maps to "".</param>
/// <param name="Headers">Request headers; look-ups ignore case.</param>
/// <param name="Body">The raw body bytes (already base64-decoded where the event said so).</param>
/// <param name="RequestId">An identifier for logs and lock holders.</param>
public sealed record ApiRequest(
    string Method,
    string Path,
    IReadOnlyDictionary<string, string> Query,
    IReadOnlyDictionary<string, string> Headers,
    ReadOnlyMemory<byte> Body,
    string RequestId)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public bool HasFlag(string name) => Query.ContainsKey(name);

    public string? QueryValue(string name) => Query.TryGetValue(name, out var value) ? value : null;
}
