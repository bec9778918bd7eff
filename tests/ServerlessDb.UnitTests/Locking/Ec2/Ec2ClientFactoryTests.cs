using ServerlessDb.Configuration;
using ServerlessDb.Locking.Ec2;

namespace ServerlessDb.UnitTests.Locking.Ec2;

public sealed class Ec2ClientFactoryTests
{
    private static ServerlessDbOptions Options(string? region, string? general = null, string? ec2 = null) =>
        ServerlessDbOptions.FromEnvironment(new DictionaryEnvironment(new Dictionary<string, string?>
        {
            ["DB_BUCKET"] = "bucket",
            ["AWS_REGION"] = region,
            ["AWS_ENDPOINT_URL"] = general,
            ["AWS_ENDPOINT_URL_EC2"] = ec2,
        }));

    [Theory]
    [InlineData("us-east-1", null, null, "https://ec2.us-east-1.amazonaws.com/")]
    [InlineData("cn-north-1", null, null, "https://ec2.cn-north-1.amazonaws.com.cn/")]
    [InlineData("us-east-1", "http://127.0.0.1:5000", null, "http://127.0.0.1:5000/")]
    [InlineData("us-east-1", "http://127.0.0.1:5000", "http://127.0.0.1:6000", "http://127.0.0.1:6000/")]
    public void The_endpoint_is_the_EC2_override_then_the_general_one_then_the_regional_default(string region, string? general, string? ec2, string expected)
    {
        var client = Ec2ClientFactory.Create(Options(region, general, ec2));

        Assert.Equal(new Uri(expected), client.Endpoint);
    }

    [Fact]
    public void A_region_is_required()
    {
        var error = Assert.Throws<OptionsException>(() => Ec2ClientFactory.Create(Options(region: null, general: "http://127.0.0.1:5000")));

        Assert.Contains("AWS_REGION", error.Message, StringComparison.Ordinal);
    }
}
