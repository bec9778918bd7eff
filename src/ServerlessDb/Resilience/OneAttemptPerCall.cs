using Amazon.Runtime;

namespace ServerlessDb.Resilience;

/// <summary>
/// The one setting every AWS SDK client of ours shares: the SDK makes exactly one attempt per call, and
/// our own retries (with backoff and jitter inside the caller's deadline) are the only layer. A retry
/// the SDK made below us would hide that an attempt's answer was lost, so a conditional PUT that landed
/// would come back as 412 and a CreateSecurityGroup that landed as InvalidGroup.Duplicate, with nothing
/// to say it was our own.
/// </summary>
internal static class OneAttemptPerCall
{
    public static void Apply(ClientConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.MaxErrorRetry = 0;

        // Besides MaxErrorRetry, AWSSDK.Core re-sends a request whose connection was reset or broken, up
        // to 10 times by default, taking it for a stale pooled connection. A reset can also come after the
        // request was carried out (a dropped answer), so these are lost answers too, and ours to resolve.
        config.MaxStaleConnectionRetries = 0;
    }
}
