using ServerlessDb.Configuration;
using ServerlessDb.Hosting;

namespace ServerlessDb.UnitTests.Configuration;

/// <summary>LOCK_BACKEND for the QueryRunner and the reaper: its values, its default from LOCK_VPC_ID, and what each backend needs.</summary>
public sealed class LockBackendOptionTests
{
    private static ServerlessDbOptions Read(Dictionary<string, string?> values, bool bucketRequired = true)
    {
        if (bucketRequired)
        {
            values.TryAdd("DB_BUCKET", "my-databases");
        }

        values.TryAdd("AWS_REGION", "us-east-1");
        return ServerlessDbOptions.FromEnvironment(new DictionaryEnvironment(values), bucketRequired);
    }

    private static IReadOnlyList<string> Problems(Dictionary<string, string?> values, bool bucketRequired = true) =>
        Assert.Throws<OptionsException>(() => Read(values, bucketRequired)).Problems;

    private static ReaperOptions ReadReaper(Dictionary<string, string?> values)
    {
        values.TryAdd("AWS_REGION", "us-east-1");
        values.TryAdd("QUERY_RUNNER_TIMEOUT_SECONDS", "30");
        return ReaperOptions.FromEnvironment(new DictionaryEnvironment(values));
    }

    [Theory]
    [InlineData(null, null, "None")]
    [InlineData("vpc-1", null, "Ec2")]
    [InlineData(null, "s3", "S3")]
    [InlineData("vpc-1", "S3", "S3")]
    [InlineData("vpc-1", "none", "None")]
    [InlineData("vpc-1", "ec2", "Ec2")]
    public void Unset_means_ec2_when_a_lock_VPC_is_set_and_none_otherwise(string? vpc, string? backend, string expected) =>
        Assert.Equal(expected, Read(new() { ["LOCK_VPC_ID"] = vpc, ["LOCK_BACKEND"] = backend }).LockBackend.ToString());

    [Fact]
    public void An_unknown_backend_is_refused_naming_the_values() =>
        Assert.Equal("LOCK_BACKEND must be ec2, s3 or none; got 'dynamodb'.", Assert.Single(Problems(new() { ["LOCK_BACKEND"] = "dynamodb" })));

    [Fact]
    public void The_ec2_lock_without_a_VPC_is_refused() =>
        Assert.Equal(
            "LOCK_VPC_ID is required with LOCK_BACKEND=ec2: the VPC in which the lock groups are created.",
            Assert.Single(Problems(new() { ["LOCK_BACKEND"] = "ec2" })));

    [Fact]
    public void The_s3_lock_on_the_local_servers_folder_storage_is_refused() =>
        Assert.StartsWith("LOCK_BACKEND=s3 needs S3 storage", Assert.Single(Problems(new() { ["LOCK_BACKEND"] = "s3" }, bucketRequired: false)), StringComparison.Ordinal);

    [Fact]
    public void A_lease_no_longer_than_the_request_timeout_is_refused_and_one_second_longer_is_accepted()
    {
        Assert.StartsWith(
            "LOCK_STALE_SECONDS (25) must be greater than REQUEST_TIMEOUT_SECONDS (25) with LOCK_BACKEND=s3",
            Assert.Single(Problems(new() { ["LOCK_BACKEND"] = "s3", ["LOCK_STALE_SECONDS"] = "25" })),
            StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(26), Read(new() { ["LOCK_BACKEND"] = "s3", ["LOCK_STALE_SECONDS"] = "26" }).LockStaleAfter);
    }

    [Fact]
    public void The_s3_lock_maps_to_lease_options_on_the_databases_bucket_and_prefix()
    {
        var options = Read(new() { ["LOCK_BACKEND"] = "s3", ["DB_PREFIX"] = "tenant-a/", ["LOCK_WAIT_SECONDS"] = "7", ["LOCK_STALE_SECONDS"] = "200" });

        Assert.Equal(new("my-databases", "tenant-a/", TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(200)), CompositionRoot.S3LeaseLockOptionsFrom(options));
    }

    [Fact]
    public void The_reaper_reaps_leases_in_the_databases_bucket_without_a_VPC()
    {
        var options = ReadReaper(new() { ["LOCK_BACKEND"] = "s3", ["DB_BUCKET"] = "my-databases", ["DB_PREFIX"] = "tenant-a/" });

        Assert.Equal(LockBackend.S3, options.LockBackend);
        Assert.Equal(new("my-databases", "tenant-a/", TimeSpan.FromSeconds(150)), CompositionRoot.ExpiredLeaseReaperOptionsFrom(options));
    }

    [Fact]
    public void The_reaper_of_leases_needs_the_bucket_and_reaping_nothing_is_refused()
    {
        var s3 = Assert.Throws<OptionsException>(() => ReadReaper(new() { ["LOCK_BACKEND"] = "s3" })).Problems;
        var none = Assert.Throws<OptionsException>(() => ReadReaper(new() { ["LOCK_BACKEND"] = "none" })).Problems;

        Assert.StartsWith("DB_BUCKET is required: with LOCK_BACKEND=s3", Assert.Single(s3), StringComparison.Ordinal);
        Assert.StartsWith("LOCK_BACKEND=none has no locks to reap", Assert.Single(none), StringComparison.Ordinal);
    }

    [Fact]
    public void The_reaper_still_defaults_to_the_ec2_lock_and_needs_its_VPC() =>
        Assert.StartsWith("LOCK_VPC_ID is required", Assert.Single(Assert.Throws<OptionsException>(() => ReadReaper(new())).Problems), StringComparison.Ordinal);
}
