namespace QueryRunner.ApiGateway;

/// <summary>The fields we read from an HTTP API event, payload format 2.0; everything else is ignored.</summary>
internal sealed record HttpApiV2Request(
    string? Version,
    string? RawPath,
    string? RawQueryString,
    IReadOnlyList<string>? Cookies,
    IReadOnlyDictionary<string, string>? Headers,
    IReadOnlyDictionary<string, string>? QueryStringParameters,
    HttpApiV2RequestContext? RequestContext,
    string? Body,
    bool IsBase64Encoded);
