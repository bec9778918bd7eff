using Amazon.Runtime;
using Amazon.Runtime.Identity;
using Microsoft.Extensions.Time.Testing;
using Moq;
using ServerlessDb.Locking.Ec2;

namespace ServerlessDb.UnitTests.Locking.Ec2;

internal static class Ec2TestClients
{
    public static readonly DateTimeOffset SignedAt = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public static Mock<IIdentityResolver<AWSCredentials>> Credentials(AWSCredentials credentials)
    {
        var resolver = new Mock<IIdentityResolver<AWSCredentials>>();
        resolver.Setup(r => r.ResolveIdentityAsync(It.IsAny<IClientConfig>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(credentials);
        return resolver;
    }

    public static Ec2QueryClient Create(
        ScriptedHttpHandler handler,
        AWSCredentials? credentials = null,
        string endpoint = "https://ec2.us-east-1.amazonaws.com/",
        string region = "us-east-1") =>
        new(
            new HttpClient(handler),
            new Uri(endpoint),
            region,
            Credentials(credentials ?? new SessionAWSCredentials("AKIDEXAMPLE", "SECRETEXAMPLE", "SESSIONTOKEN")).Object,
            new FakeTimeProvider(SignedAt));
}
