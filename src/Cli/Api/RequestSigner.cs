using System.Security.Cryptography;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;

namespace Cli.Api;

/// <summary>
/// Signs a request for API Gateway's IAM authorization (SigV4, service <c>execute-api</c>) with AWSSDK.Core's
/// <see cref="AWSSigV4Signer"/>. The payload is always hashed (API Gateway checks the body against its hash);
/// the caller passes the hash, computed while the body was buffered or spooled, so the signer never reads a stream.
/// </summary>
internal sealed class RequestSigner(AWSCredentials credentials, RegionEndpoint region, TimeProvider time)
{
    public const string Service = "execute-api";

    /// <summary>SHA-256 of an empty body, what a GET signs.</summary>
    public static readonly string EmptyPayloadHash = Convert.ToHexStringLower(SHA256.HashData(ReadOnlySpan<byte>.Empty));

    public RegionEndpoint Region { get; } = region;

    /// <summary>
    /// Adds Authorization, X-Amz-Date, X-Amz-Content-SHA256 and (with temporary credentials) X-Amz-Security-Token to
    /// <paramref name="request"/>. Signed: the host, those headers, and the Content-Type when the request has one.
    /// </summary>
    public async Task SignAsync(HttpRequestMessage request, string payloadSha256, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri ?? throw new ArgumentException("the request has no URI", nameof(request));
        var signing = new AWSSigningRequest { HttpMethod = request.Method, RequestUri = uri };
        signing.Headers["x-amz-content-sha256"] = payloadSha256;
        if (request.Content?.Headers.ContentType is { } contentType)
        {
            signing.Headers["Content-Type"] = contentType.ToString();
        }

        var signed = await AWSSigV4Signer.SignAsync(
            signing,
            new AWSSigV4Parameters
            {
                Credentials = credentials,
                Region = Region,
                Service = Service,
                SignPayload = true,
                SignedAt = time.GetUtcNow().UtcDateTime,
            },
            cancellationToken);

        foreach (var (name, value) in signed.Headers)
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }
    }
}
