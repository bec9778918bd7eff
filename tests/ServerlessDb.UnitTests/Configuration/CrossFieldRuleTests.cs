using ServerlessDb.Configuration;

namespace ServerlessDb.UnitTests.Configuration;

/// <summary>The QueryRunner's rules between variables, each at its boundary: equal values refused, one less accepted.</summary>
public sealed class CrossFieldRuleTests
{
    private const string RetryRule =
        "STORAGE_RETRY_SECONDS must be smaller than REQUEST_TIMEOUT_SECONDS, so a request can still answer after its retries.";

    private const string LockWaitRule =
        "LOCK_WAIT_SECONDS must be smaller than REQUEST_TIMEOUT_SECONDS, so a writer that gets the lock late still has time to run.";

    private const string LocalS3BucketRule =
        "DB_BUCKET is required when storage is S3 (an S3 endpoint is set): the bucket that holds the databases.";

    private const string LockRegionRule =
        "AWS_REGION is required for the security-group lock and the LockReaper: EC2 requests are signed for a region.";

    private static ServerlessDbOptions Read(Dictionary<string, string?> values, bool bucketRequired = true)
    {
        values.TryAdd("DB_BUCKET", "my-databases");
        return ServerlessDbOptions.FromEnvironment(new DictionaryEnvironment(values), bucketRequired);
    }

    private static string Refused(Dictionary<string, string?> values, bool bucketRequired = true) =>
        Assert.Single(Assert.Throws<OptionsException>(() => Read(values, bucketRequired)).Problems);

    [Theory]
    [InlineData("STORAGE_RETRY_SECONDS", RetryRule)]
    [InlineData("LOCK_WAIT_SECONDS", LockWaitRule)]
    public void A_wait_as_long_as_the_request_timeout_is_refused(string variable, string rule) =>
        Assert.Equal(rule, Refused(new() { [variable] = "25", ["REQUEST_TIMEOUT_SECONDS"] = "25" }));

    [Fact]
    public void Retries_one_second_shorter_than_the_request_timeout_are_accepted() =>
        Assert.Equal(TimeSpan.FromSeconds(24), Read(new() { ["STORAGE_RETRY_SECONDS"] = "24", ["REQUEST_TIMEOUT_SECONDS"] = "25" }).StorageRetryDeadline);

    [Fact]
    public void A_lock_wait_one_second_shorter_than_the_request_timeout_is_accepted() =>
        Assert.Equal(TimeSpan.FromSeconds(24), Read(new() { ["LOCK_WAIT_SECONDS"] = "24", ["REQUEST_TIMEOUT_SECONDS"] = "25" }).LockWait);

    [Fact]
    public void Both_waits_too_long_are_two_problems()
    {
        var error = Assert.Throws<OptionsException>(() => Read(new()
        {
            ["STORAGE_RETRY_SECONDS"] = "30",
            ["LOCK_WAIT_SECONDS"] = "30",
            ["REQUEST_TIMEOUT_SECONDS"] = "30",
        }));

        Assert.Equal([RetryRule, LockWaitRule], error.Problems);
    }

    [Theory]
    [InlineData("AWS_ENDPOINT_URL")]
    [InlineData("AWS_ENDPOINT_URL_S3")]
    public void Local_storage_in_S3_needs_a_bucket(string endpointVariable) =>
        Assert.Equal(LocalS3BucketRule, Refused(new() { ["DB_BUCKET"] = null, [endpointVariable] = "http://127.0.0.1:5000" }, bucketRequired: false));

    [Fact]
    public void Local_storage_in_S3_with_a_bucket_is_accepted() =>
        Assert.Equal("my-databases", Read(new() { ["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:5000" }, bucketRequired: false).Bucket);

    [Fact]
    public void Local_storage_in_a_folder_needs_no_bucket() =>
        Assert.Null(Read(new() { ["DB_BUCKET"] = null, ["AWS_ENDPOINT_URL_EC2"] = "http://127.0.0.1:5000" }, bucketRequired: false).Bucket);

    [Fact]
    public void The_security_group_lock_needs_a_region() =>
        Assert.Equal(LockRegionRule, Refused(new() { ["LOCK_VPC_ID"] = "vpc-1a2b3c4d", ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:5000" }));

    [Theory]
    [InlineData("AWS_REGION")]
    [InlineData("AWS_DEFAULT_REGION")]
    public void The_security_group_lock_with_a_region_is_accepted(string regionVariable) =>
        Assert.Equal("eu-west-1", Read(new() { ["LOCK_VPC_ID"] = "vpc-1a2b3c4d", [regionVariable] = "eu-west-1" }).Region);

    [Fact]
    public void Without_the_lock_no_region_is_needed() =>
        Assert.Null(Read(new()).Region);
}
