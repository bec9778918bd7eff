using ServerlessDb.Locking.Ec2;

namespace ServerlessDb.UnitTests.Locking.Ec2;

public sealed class Ec2ClientFactoryTests
{
    [Theory]
    [InlineData("us-east-1", null, "https://ec2.us-east-1.amazonaws.com/")]
    [InlineData("cn-north-1", null, "https://ec2.cn-north-1.amazonaws.com.cn/")]
    [InlineData("us-east-1", "http://127.0.0.1:6000/", "http://127.0.0.1:6000/")]
    public void The_endpoint_is_the_override_else_the_regional_default(string region, string? endpoint, string expected)
    {
        var client = Ec2ClientFactory.Create(new Ec2ClientOptions(region, endpoint is null ? null : new Uri(endpoint)));

        Assert.Equal(new Uri(expected), client.Endpoint);
    }
}
