namespace QueryRunner.ApiGateway;

/// <summary>
/// The fields we read from a REST API proxy event, payload format 1.0 (also what an HTTP API sends
/// with payloadFormatVersion 1.0); everything else is ignored.
/// </summary>
internal sealed record RestApiV1Request(
    string? HttpMethod,
    string? Path,
    IReadOnlyDictionary<string, string?>? Headers,
    IReadOnlyDictionary<string, IReadOnlyList<string>?>? MultiValueHeaders,
    IReadOnlyDictionary<string, string?>? QueryStringParameters,
    IReadOnlyDictionary<string, IReadOnlyList<string>?>? MultiValueQueryStringParameters,
    RestApiV1RequestContext? RequestContext,
    string? Body,
    bool IsBase64Encoded);
