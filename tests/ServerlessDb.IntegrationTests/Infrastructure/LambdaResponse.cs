namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>A proxy response as API Gateway would read it from the Lambda; header look-ups ignore case. <see cref="Bytes"/> is the body as sent to the client.</summary>
public sealed record LambdaResponse(int StatusCode, IReadOnlyDictionary<string, string> Headers, string Body, bool IsBase64Encoded, byte[] Bytes)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}
