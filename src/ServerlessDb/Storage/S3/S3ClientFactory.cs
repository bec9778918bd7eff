using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using ServerlessDb.Resilience;

namespace ServerlessDb.Storage.S3;

/// <summary>
/// Builds the S3 client from the options: the configured region, an endpoint override with
/// path-style addressing (moto_server, local S3), no SDK-level retries (the store's retry
/// pipeline is the only one), and the default credential chain.
/// </summary>
internal static class S3ClientFactory
{
    private static readonly TimeSpan MaxConnectTimeout = TimeSpan.FromSeconds(3);

    public static IAmazonS3 Create(S3ClientOptions options) => new AmazonS3Client(CreateConfig(options));

    public static AmazonS3Config CreateConfig(S3ClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new AmazonS3Config
        {
            // One attempt never outlives the whole retry budget; a dead host fails fast and is retried.
            Timeout = options.RetryDeadline,
            ConnectTimeout = options.RetryDeadline < MaxConnectTimeout ? options.RetryDeadline : MaxConnectTimeout,
        };
        OneAttemptPerCall.Apply(config);

        // The SDK's own checksums are managed code, byte at a time: the store computes its own CRC32 once
        // per transfer instead (ObjectChecksum), so the SDK computes one only where an API requires it.
        config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
        config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        if (options.Region is { } region)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        if (options.Endpoint is { } endpoint)
        {
            // Setting ServiceURL clears RegionEndpoint; the region still signs the requests.
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = options.Region ?? "us-east-1";
            config.ForcePathStyle = true;
        }

        return config;
    }
}

/// <summary>What <see cref="S3ClientFactory"/> builds the S3 client from.</summary>
/// <param name="Region">signs the requests and picks the regional endpoint; null leaves both to the SDK.</param>
/// <param name="Endpoint">an endpoint override (moto_server, a local S3), addressed path-style; null for S3 itself.</param>
/// <param name="RetryDeadline">the store's retry budget for one call, which one attempt never outlives.</param>
internal sealed record S3ClientOptions(string? Region, Uri? Endpoint, TimeSpan RetryDeadline);
