using System.Text;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>What <see cref="ScriptedHttpServer"/> answers to one request.</summary>
internal sealed record ScriptedResponse(int Status, byte[] Body, IReadOnlyDictionary<string, string>? Headers = null)
{
    public static ScriptedResponse Ok(string etag, byte[]? body = null) =>
        new(200, body ?? [], new Dictionary<string, string> { ["ETag"] = etag });

    public static ScriptedResponse NotModified(string etag) =>
        new(304, [], new Dictionary<string, string> { ["ETag"] = etag });

    /// <summary>An S3 error document, as S3 sends it.</summary>
    public static ScriptedResponse Error(int status, string code, string message) => new(
        status,
        Encoding.UTF8.GetBytes(
            $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>R1</RequestId><HostId>H1</HostId></Error>"),
        new Dictionary<string, string> { ["Content-Type"] = "application/xml" });
}
