using Amazon;
using ServerlessDb.Storage.S3;

namespace ServerlessDb.UnitTests.Storage;

public sealed class S3ClientFactoryTests
{
    [Fact]
    public void An_endpoint_override_sets_the_service_url_and_path_style_and_keeps_the_signing_region()
    {
        var config = S3ClientFactory.CreateConfig(new S3ClientOptions("eu-west-1", new Uri("http://127.0.0.1:5000/"), TimeSpan.FromSeconds(10)));

        Assert.StartsWith("http://127.0.0.1:5000", config.ServiceURL);
        Assert.True(config.ForcePathStyle);
        Assert.Equal("eu-west-1", config.AuthenticationRegion);
    }

    [Fact]
    public void Without_an_endpoint_the_region_decides_and_addressing_stays_virtual_hosted()
    {
        var config = S3ClientFactory.CreateConfig(new S3ClientOptions("eu-west-1", Endpoint: null, TimeSpan.FromSeconds(10)));

        Assert.Equal(RegionEndpoint.EUWest1, config.RegionEndpoint);
        Assert.Null(config.ServiceURL);
        Assert.False(config.ForcePathStyle);
    }

    [Fact]
    public void The_SDK_does_not_retry_and_an_attempt_never_outlives_the_retry_deadline()
    {
        var config = S3ClientFactory.CreateConfig(new S3ClientOptions(Region: null, Endpoint: null, TimeSpan.FromSeconds(7)));

        Assert.Equal(0, config.MaxErrorRetry);
        Assert.Equal(0, config.MaxStaleConnectionRetries);
        Assert.Equal(TimeSpan.FromSeconds(7), config.Timeout);
        Assert.True(config.ConnectTimeout <= TimeSpan.FromSeconds(3));
    }
}
