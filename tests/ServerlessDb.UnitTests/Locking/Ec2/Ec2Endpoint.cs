using Amazon.EC2.Model;
using Amazon.Runtime.Endpoints;
using ServerlessDb.Locking.Ec2;

namespace ServerlessDb.UnitTests.Locking.Ec2;

internal static class Ec2Endpoint
{
    /// <summary>Where the SDK client built from <paramref name="options"/> sends its requests, as its endpoint rules resolve it.</summary>
    public static Uri Of(Ec2ClientOptions options) =>
        new(Ec2ClientFactory.CreateConfig(options)
            .DetermineServiceOperationEndpoint(new ServiceOperationEndpointParameters(new DescribeSecurityGroupsRequest()))
            .URL);
}
