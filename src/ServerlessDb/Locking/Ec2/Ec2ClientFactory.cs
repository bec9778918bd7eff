using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Identity;
using ServerlessDb.Configuration;

namespace ServerlessDb.Locking.Ec2;

/// <summary>
/// Builds the EC2 client of the QueryRunner's lock or of the LockReaper from their options:
/// endpoint override or the regional endpoint, the default credential chain.
/// </summary>
public static class Ec2ClientFactory
{
    /// <summary>How long one EC2 attempt may take before it counts as a transient failure.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Creates a client for <paramref name="options"/>. Build it once per process: it owns an
    /// HttpClient unless one is given, and the credential resolver caches.
    /// </summary>
    /// <exception cref="OptionsException">no region is configured.</exception>
    public static Ec2QueryClient Create(
        ServerlessDbOptions options,
        HttpClient? httpClient = null,
        IIdentityResolver<AWSCredentials>? credentials = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Create(options.Region, options.Endpoints, httpClient, credentials, timeProvider);
    }

    /// <summary>The LockReaper's client; otherwise as <see cref="Create(ServerlessDbOptions, HttpClient?, IIdentityResolver{AWSCredentials}?, TimeProvider?)"/>.</summary>
    /// <exception cref="OptionsException">no region is configured.</exception>
    public static Ec2QueryClient Create(
        ReaperOptions options,
        HttpClient? httpClient = null,
        IIdentityResolver<AWSCredentials>? credentials = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Create(options.Region, options.Endpoints, httpClient, credentials, timeProvider);
    }

    /// <summary><c>AWS_ENDPOINT_URL_EC2</c>, then <c>AWS_ENDPOINT_URL</c>, then <c>https://ec2.{region}.{partition DNS suffix}</c>.</summary>
    public static Uri EndpointFor(ServerlessDbOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return EndpointFor(options.Region, options.Endpoints);
    }

    private static Ec2QueryClient Create(
        string? region,
        AwsEndpoints endpoints,
        HttpClient? httpClient,
        IIdentityResolver<AWSCredentials>? credentials,
        TimeProvider? timeProvider)
    {
        if (region is null)
        {
            throw new OptionsException(["AWS_REGION is required for the security-group lock and the LockReaper: EC2 requests are signed for a region."]);
        }

        return new Ec2QueryClient(
            httpClient ?? new HttpClient { Timeout = AttemptTimeout },
            EndpointFor(region, endpoints),
            region,
            credentials ?? new DefaultAWSCredentialsIdentityResolver(),
            timeProvider ?? TimeProvider.System);
    }

    private static Uri EndpointFor(string? region, AwsEndpoints endpoints)
    {
        if (endpoints.ForEc2 is { } overridden)
        {
            return overridden;
        }

        var known = region ?? throw new OptionsException(["AWS_REGION is required to find the EC2 endpoint."]);
        var suffix = RegionEndpoint.GetBySystemName(known).PartitionDnsSuffix ?? "amazonaws.com";
        return new Uri($"https://ec2.{known}.{suffix}/");
    }
}
