namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>A proxy response as API Gateway would read it from the Lambda; header look-ups ignore case.</summary>
public sealed record LambdaResponse(int StatusCode, IReadOnlyDictionary<string, string> Headers, string Body, bool IsBase64Encoded)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}
