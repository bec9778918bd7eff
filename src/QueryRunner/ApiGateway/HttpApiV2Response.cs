namespace QueryRunner.ApiGateway;

/// <summary>The response API Gateway expects from a payload 2.0 integration.</summary>
internal sealed record HttpApiV2Response(
    int StatusCode,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    bool IsBase64Encoded);
