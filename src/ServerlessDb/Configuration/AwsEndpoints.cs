
namespace ServerlessDb.Configuration;

/// <summary>
/// Endpoint overrides as the AWS SDKs' standard variables name them. The service-specific one wins
/// over the general one; none means the regional default.
/// </summary>
internal sealed record AwsEndpoints(Uri? General, Uri? S3, Uri? Ec2)
{
    public Uri? ForS3 => S3 ?? General;

    public Uri? ForEc2 => Ec2 ?? General;
}
