namespace ServerlessDb.Api;

/// <summary>
/// An HTTP response as the API produces it; the entry points turn it into their own shape.
/// </summary>
public sealed record ApiResponse(int StatusCode, string ContentType, string Body, IReadOnlyDictionary<string, string> Headers);
