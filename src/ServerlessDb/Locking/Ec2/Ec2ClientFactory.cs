using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Identity;
using ServerlessDb.Configuration;

namespace ServerlessDb.Locking.Ec2;

/// <summary>Builds the EC2 client from the options: endpoint override or the regional endpoint, the default credential chain.</summary>
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
        if (options.Region is null)
        {
            throw new OptionsException(["AWS_REGION is required for the security-group lock: EC2 requests are signed for a region."]);
        }

        return new Ec2QueryClient(
            httpClient ?? new HttpClient { Timeout = AttemptTimeout },
            EndpointFor(options),
            options.Region,
            credentials ?? new DefaultAWSCredentialsIdentityResolver(),
            timeProvider ?? TimeProvider.System);
    }

    /// <summary><c>AWS_ENDPOINT_URL_EC2</c>, then <c>AWS_ENDPOINT_URL</c>, then <c>https://ec2.{region}.{partition DNS suffix}</c>.</summary>
    public static Uri EndpointFor(ServerlessDbOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Endpoints.ForEc2 is { } overridden)
        {
            return overridden;
        }

        var region = options.Region ?? throw new OptionsException(["AWS_REGION is required to find the EC2 endpoint."]);
        var suffix = RegionEndpoint.GetBySystemName(region).PartitionDnsSuffix ?? "amazonaws.com";
        return new Uri($"https://ec2.{region}.{suffix}/");
    }
}
