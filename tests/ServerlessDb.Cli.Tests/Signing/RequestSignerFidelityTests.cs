using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon;
using Amazon.Runtime;
using Cli.Api;
using ServerlessDb.Cli.Tests.Infrastructure;

namespace ServerlessDb.Cli.Tests.Signing;

/// <summary>
/// The tool's SigV4 signing for execute-api against an independent implementation: botocore's SigV4Auth signs
/// the same request (same URL, headers before signing, body, credentials and time) and the Authorization
/// header must be the same, byte for byte.
/// </summary>
public sealed class RequestSignerFidelityTests
{
    private static readonly DateTimeOffset SignedAt = new(2026, 12, 2, 10, 15, 30, TimeSpan.Zero);

    public static TheoryData<string, string, string?, string> Requests => new()
    {
        { "GET", "https://abc123.execute-api.eu-west-3.amazonaws.com/db/query?db=shop&q=SELECT%20%2A%20FROM%20foo%20WHERE%20name%20%3D%20%27a%20b%27&level=strong", null, "" },
        { "POST", "https://abc123.execute-api.eu-west-3.amazonaws.com/db/execute?db=shop&transaction", "application/json", """[["INSERT INTO foo(name) VALUES(?)","fiona"]]""" },
        { "POST", "https://abc123.execute-api.eu-west-3.amazonaws.com/sql?db=default&as_of=2026-12-02T10%3A15%3A00Z", "text/plain; charset=utf-8", "SELECT 1; SELECT 'ü';" },
        { "GET", "https://abc123.execute-api.eu-west-3.amazonaws.com/db/versions?db=a-b_c&limit=2&next=MDAxNzk2%2B%2F%3D", null, "" },
        { "POST", "http://127.0.0.1:4001/prefix/db/load?db=shop", "application/octet-stream", "SQLite format 3\0 and more bytes" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task The_signature_is_botocores_byte_for_byte(string method, string url, string? contentType, string body)
    {
        await AssertSameAsBotocoreAsync(method, url, contentType, body, token: TestCredentials.SessionToken);
    }

    [Fact]
    public async Task Long_term_keys_sign_without_a_security_token_as_botocore_does()
    {
        var headers = await AssertSameAsBotocoreAsync("POST", "https://abc123.execute-api.eu-west-3.amazonaws.com/db/query", "application/json", """["SELECT 1"]""", token: null);

        Assert.False(headers.ContainsKey("X-Amz-Security-Token"));
    }

    private static async Task<IReadOnlyDictionary<string, string>> AssertSameAsBotocoreAsync(string method, string url, string? contentType, string body, string? token)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        AWSCredentials credentials = token is null
            ? new BasicAWSCredentials(TestCredentials.AccessKey, TestCredentials.SecretKey)
            : new SessionAWSCredentials(TestCredentials.AccessKey, TestCredentials.SecretKey, token);
        var signer = new RequestSigner(credentials, RegionEndpoint.GetBySystemName(TestCredentials.Region), new FixedTime(SignedAt));
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (contentType is not null)
        {
            request.Content = new ByteArrayContent(bytes);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        await signer.SignAsync(request, hash, CancellationToken.None);
        var ours = request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);

        var before = new JsonObject { ["X-Amz-Content-SHA256"] = hash };
        if (contentType is not null)
        {
            before["Content-Type"] = contentType;
        }

        var output = await Python.RunAsync("botocore_sign.py", new JsonObject
        {
            ["method"] = method,
            ["url"] = url,
            ["headers"] = before,
            ["body_base64"] = Convert.ToBase64String(bytes),
            ["region"] = TestCredentials.Region,
            ["access_key"] = TestCredentials.AccessKey,
            ["secret_key"] = TestCredentials.SecretKey,
            ["token"] = token,
            ["timestamp"] = SignedAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture),
        }.ToJsonString());
        var botocore = JsonDocument.Parse(output).RootElement.GetProperty("headers").EnumerateObject()
            .ToDictionary(h => h.Name, h => h.Value.GetString()!, StringComparer.OrdinalIgnoreCase);

        Assert.Equal(botocore["Authorization"], ours["Authorization"]);
        Assert.Equal(botocore["X-Amz-Date"], ours["X-Amz-Date"]);
        Assert.Equal(hash, ours["X-Amz-Content-SHA256"]);
        Assert.Equal(botocore.GetValueOrDefault("X-Amz-Security-Token"), ours.GetValueOrDefault("X-Amz-Security-Token"));
        Assert.Contains("/eu-west-3/execute-api/aws4_request", ours["Authorization"]);
        return ours;
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
