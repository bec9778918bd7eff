using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;

namespace Cli.Api;

/// <summary>
/// The AWS CLI's credential chain, through AWSSDK.Core: with <c>--profile</c> that profile of ~/.aws/config and
/// ~/.aws/credentials (keys, SSO, assumed role, credential process); otherwise the default chain (environment,
/// AWS_PROFILE or the default profile, web identity, container and instance roles). The region is
/// <c>--region</c>, else the one in an execute-api host name, else AWS_REGION / AWS_DEFAULT_REGION, else the profile's.
/// </summary>
internal static class AwsCredentialSource
{
    public static async Task<RequestSigner> CreateSignerAsync(ApiTarget target, TimeProvider time, CancellationToken cancellationToken)
    {
        var credentials = await ResolveCredentialsAsync(target.Profile, cancellationToken);
        var region = target.Region ?? ApiTarget.RegionOf(target.BaseUrl) ?? RegionFromEnvironmentOrProfile(target.Profile)
            ?? throw new CliException(
                ExitCodes.Usage,
                $"Cannot sign requests to {target.BaseUrl}: no region. Pass --region, or set AWS_REGION, or a region in the profile.");
        return new RequestSigner(credentials, RegionEndpoint.GetBySystemName(region), time);
    }

    private static async Task<AWSCredentials> ResolveCredentialsAsync(string? profile, CancellationToken cancellationToken)
    {
        try
        {
            if (profile is not null)
            {
                return new CredentialProfileStoreChain().TryGetAWSCredentials(profile, out var fromProfile)
                    ? fromProfile
                    : throw new CliException(ExitCodes.Auth, $"AWS profile '{profile}' was not found in ~/.aws/config or ~/.aws/credentials, or has no credentials.");
            }

            var resolved = await new DefaultAWSCredentialsIdentityResolver().ResolveIdentityAsync(null, cancellationToken);
            // Resolve now, so a chain that finds nothing (or an expired SSO session) is reported before any request.
            await resolved.GetCredentialsAsync();
            return resolved;
        }
        catch (AmazonClientException e)
        {
            throw new CliException(
                ExitCodes.Auth,
                $"No AWS credentials to sign with ({e.Message.TrimEnd('.')}). Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass --profile, or run `aws sso login`.",
                e);
        }
    }

    private static string? RegionFromEnvironmentOrProfile(string? profile)
    {
        foreach (var name in new[] { "AWS_REGION", "AWS_DEFAULT_REGION" })
        {
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
            {
                return value;
            }
        }

        var profileName = profile ?? Environment.GetEnvironmentVariable("AWS_PROFILE") ?? "default";
        return new CredentialProfileStoreChain().TryGetProfile(profileName, out var found) ? found.Region?.SystemName : null;
    }
}
