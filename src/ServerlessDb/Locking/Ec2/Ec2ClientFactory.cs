using Amazon;
using Amazon.EC2;
using Amazon.Runtime;
using ServerlessDb.Resilience;

namespace ServerlessDb.Locking.Ec2;

/// <summary>
/// Builds the EC2 client of the QueryRunner's lock or of the LockReaper from their options, once per
/// process: AWSSDK.EC2's <see cref="AmazonEC2Client"/> (made on the first EC2 call) with the endpoint
/// override or the regional endpoint, the default credential chain, and the SDK's retries off.
/// </summary>
internal static class Ec2ClientFactory
{
    /// <summary>How long one EC2 attempt may take before it counts as a lost answer.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);

    /// <param name="handler">sends the SDK's requests instead of its own HTTP stack (a scripted server, a benchmark's throttle); null for the SDK's own.</param>
    /// <param name="credentials">null for the default credential chain.</param>
    public static IEc2Client Create(Ec2ClientOptions options, HttpMessageHandler? handler = null, AWSCredentials? credentials = null)
    {
        var config = CreateConfig(options, handler);
        return new Ec2Client(() => credentials is null ? new AmazonEC2Client(config) : new AmazonEC2Client(credentials, config));
    }

    public static AmazonEC2Config CreateConfig(Ec2ClientOptions options, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.Region, nameof(options));

        // One retry layer, the lock's and the reaper's own (Ec2Retry), not the SDK's under it: besides hiding a
        // lost CreateSecurityGroup answer behind InvalidGroup.Duplicate, SDK attempts stacked inside each of ours
        // would overrun the one deadline (LOCK_WAIT_SECONDS) that the waits for a held lock and for throttling share.
        var config = new AmazonEC2Config { Timeout = AttemptTimeout };
        OneAttemptPerCall.Apply(config);
        if (handler is not null)
        {
            config.HttpClientFactory = new HandlerClientFactory(handler);
        }

        if (options.Endpoint is { } endpoint)
        {
            // Setting ServiceURL clears RegionEndpoint; the region still signs the requests.
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        return config;
    }

    private sealed class HandlerClientFactory(HttpMessageHandler handler) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
            new(handler, disposeHandler: false) { Timeout = clientConfig.Timeout ?? AttemptTimeout };

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;
    }
}

/// <summary>What <see cref="Ec2ClientFactory"/> builds the EC2 client from.</summary>
/// <param name="Region">signs the requests, and picks the endpoint unless one is given.</param>
/// <param name="Endpoint">an endpoint override (moto_server); null for the regional endpoint.</param>
internal sealed record Ec2ClientOptions(string Region, Uri? Endpoint);
