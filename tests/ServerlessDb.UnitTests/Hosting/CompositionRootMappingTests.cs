using Moq;
using ServerlessDb.Api;
using ServerlessDb.Configuration;
using ServerlessDb.Engine;
using ServerlessDb.Hosting;
using ServerlessDb.Locking.Ec2;
using ServerlessDb.Storage;
using ServerlessDb.Storage.Chunked;
using ServerlessDb.Storage.S3;
using ServerlessDb.UnitTests.Locking.Ec2;

namespace ServerlessDb.UnitTests.Hosting;

/// <summary>The composition root hands each component the values read for it, and nothing is swapped on the way.</summary>
public sealed class CompositionRootMappingTests
{
    private static ServerlessDbOptions Read(Dictionary<string, string?> values) =>
        ServerlessDbOptions.FromEnvironment(new DictionaryEnvironment(values));

    [Fact]
    public void Every_value_read_reaches_the_component_that_uses_it()
    {
        var options = Read(new Dictionary<string, string?>
        {
            ["DB_BUCKET"] = "my-databases",
            ["DB_PREFIX"] = "team-a/",
            ["LOCK_VPC_ID"] = "vpc-1a2b3c4d",
            ["LOCK_NAME_PREFIX"] = "team-a-lock-",
            ["LOCK_WAIT_SECONDS"] = "7",
            ["REQUEST_TIMEOUT_SECONDS"] = "21",
            ["STORAGE_RETRY_SECONDS"] = "6",
            ["WRITE_ATTEMPTS"] = "3",
            ["MAX_REQUEST_BYTES"] = "2048",
            ["MAX_RESULT_BYTES"] = "4096",
            ["MAX_STATEMENTS"] = "9",
            ["QUICK_CHECK_BEFORE_UPLOAD"] = "true",
            ["CACHE_MAX_BYTES"] = "2097152",
            ["CHUNK_SIZE_MIB"] = "4",
            ["AUTO_CHUNKED_MIN_BYTES"] = "1000000",
            ["LAZY_READ_MIN_BYTES"] = "3000000",
            ["IDEMPOTENCY_RETENTION_SECONDS"] = "600",
            ["AWS_REGION"] = "eu-west-1",
            ["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:5000/",
            ["AWS_ENDPOINT_URL_EC2"] = "http://127.0.0.1:6000/",
        });

        Assert.Equal(new StoreOptions("team-a/", TimeSpan.FromSeconds(6), 2097152, 4 * 1024 * 1024, LazyReadMinBytes: 3000000, ChunkedFromBytes: 1000000), CompositionRoot.StoreOptionsFrom(options));
        Assert.Equal(("my-databases", false), (CompositionRoot.CreateS3Backend(Mock.Of<Amazon.S3.IAmazonS3>(), options).Bucket, CompositionRoot.CreateS3Backend(Mock.Of<Amazon.S3.IAmazonS3>(), options).OverTls));
        Assert.Equal(new S3ClientOptions("eu-west-1", new Uri("http://127.0.0.1:5000/"), TimeSpan.FromSeconds(6)), CompositionRoot.S3ClientOptionsFrom(options));
        Assert.Equal(new Ec2ClientOptions("eu-west-1", new Uri("http://127.0.0.1:6000/")), CompositionRoot.Ec2ClientOptionsFrom(options));
        Assert.Equal(new SecurityGroupLockOptions("vpc-1a2b3c4d", "team-a-lock-", TimeSpan.FromSeconds(7)), CompositionRoot.SecurityGroupLockOptionsFrom(options));
        Assert.Equal(new EngineOptions(3, 4096, QuickCheckBeforeUpload: true, TimeSpan.FromSeconds(600)), CompositionRoot.EngineOptionsFrom(options));
        Assert.Equal(new ApiOptions(TimeSpan.FromSeconds(21), 2048, 4096, 9), CompositionRoot.ApiOptionsFrom(options));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("https://s3.eu-west-1.amazonaws.com", true)]
    [InlineData("http://127.0.0.1:5000", false)]
    public void Uploads_skip_the_payload_hash_only_over_tls(string? endpoint, bool overTls)
    {
        var options = Read(new Dictionary<string, string?> { ["DB_BUCKET"] = "my-databases", ["AWS_REGION"] = "eu-west-1", ["AWS_ENDPOINT_URL_S3"] = endpoint });
        Assert.Equal(overTls, CompositionRoot.CreateS3Backend(Mock.Of<Amazon.S3.IAmazonS3>(), options).OverTls);
    }

    [Theory]
    [InlineData("us-east-1", null, null, "https://ec2.us-east-1.amazonaws.com/")]
    [InlineData("cn-north-1", null, null, "https://ec2.cn-north-1.amazonaws.com.cn/")]
    [InlineData("us-east-1", "http://127.0.0.1:5000", null, "http://127.0.0.1:5000/")]
    [InlineData("us-east-1", "http://127.0.0.1:5000", "http://127.0.0.1:6000", "http://127.0.0.1:6000/")]
    public void The_EC2_endpoint_is_the_EC2_override_then_the_general_one_then_the_regional_default(string region, string? general, string? ec2, string expected)
    {
        var options = Read(new Dictionary<string, string?>
        {
            ["DB_BUCKET"] = "bucket",
            ["AWS_REGION"] = region,
            ["AWS_ENDPOINT_URL"] = general,
            ["AWS_ENDPOINT_URL_EC2"] = ec2,
        });

        Assert.Equal(new Uri(expected), Ec2Endpoint.Of(CompositionRoot.Ec2ClientOptionsFrom(options)));
    }

    [Fact]
    public void The_reaper_gets_the_VPC_prefix_and_threshold_read_for_it()
    {
        var options = ReaperOptions.FromEnvironment(new DictionaryEnvironment(new Dictionary<string, string?>
        {
            ["LOCK_VPC_ID"] = "vpc-1a2b3c4d",
            ["LOCK_NAME_PREFIX"] = "team-a-lock-",
            ["LOCK_STALE_SECONDS"] = "200",
            ["QUERY_RUNNER_TIMEOUT_SECONDS"] = "30",
            ["AWS_REGION"] = "eu-west-1",
        }));

        Assert.Equal(new StaleLockReaperOptions("vpc-1a2b3c4d", "team-a-lock-", TimeSpan.FromSeconds(200)), CompositionRoot.StaleLockReaperOptionsFrom(options));
        Assert.Equal(new Ec2ClientOptions("eu-west-1", null), CompositionRoot.Ec2ClientOptionsFrom(options));
    }
}
