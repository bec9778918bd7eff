using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Identity;

namespace ServerlessDb.Locking.Ec2;

/// <summary>
/// Builds the EC2 client of the QueryRunner's lock or of the LockReaper from their options:
/// endpoint override or the regional endpoint, the default credential chain.
/// </summary>
internal static class Ec2ClientFactory
{
    /// <summary>How long one EC2 attempt may take before it counts as a transient failure.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Creates a client for <paramref name="options"/>. Build it once per process: it owns an
    /// HttpClient unless one is given, and the credential resolver caches.
    /// </summary>
    public static Ec2QueryClient Create(
        Ec2ClientOptions options,
        HttpClient? httpClient = null,
        IIdentityResolver<AWSCredentials>? credentials = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.Region, nameof(options));
        return new Ec2QueryClient(
            httpClient ?? new HttpClient { Timeout = AttemptTimeout },
            EndpointFor(options),
            options.Region,
            credentials ?? new DefaultAWSCredentialsIdentityResolver(),
            timeProvider ?? TimeProvider.System);
    }

    /// <summary>The override if there is one, else <c>https://ec2.{region}.{partition DNS suffix}</c>.</summary>
    private static Uri EndpointFor(Ec2ClientOptions options)
    {
        if (options.Endpoint is { } overridden)
        {
            return overridden;
        }

        var suffix = RegionEndpoint.GetBySystemName(options.Region).PartitionDnsSuffix ?? "amazonaws.com";
        return new Uri($"https://ec2.{options.Region}.{suffix}/");
    }
}

/// <summary>What <see cref="Ec2ClientFactory"/> builds the EC2 client from.</summary>
/// <param name="Region">signs the requests, and picks the endpoint unless one is given.</param>
/// <param name="Endpoint">an endpoint override (moto_server); null for the regional endpoint.</param>
internal sealed record Ec2ClientOptions(string Region, Uri? Endpoint);
