namespace QueryRunner.ApiGateway;

/// <summary>
/// The response API Gateway expects from a payload 1.0 (REST API proxy) integration.
/// <c>multiValueHeaders</c> is left out when null: our headers have one value each.
/// </summary>
internal sealed record RestApiV1Response(
    int StatusCode,
    IReadOnlyDictionary<string, string> Headers,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? MultiValueHeaders,
    string Body,
    bool IsBase64Encoded);
