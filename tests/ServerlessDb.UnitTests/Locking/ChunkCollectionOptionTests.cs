using ServerlessDb.Configuration;
using ServerlessDb.Hosting;
using ServerlessDb.Storage;
using ServerlessDb.Storage.Chunked;
using ServerlessDb.Storage.Collection;
using ServerlessDb.Storage.S3;

namespace ServerlessDb.UnitTests.Locking;

/// <summary>The reaper's chunk collector settings: CHUNK_GC and CHUNK_GC_GRACE_SECONDS, and what they need.</summary>
public sealed class ChunkCollectionOptionTests
{
    private static Dictionary<string, string?> Ec2Reaper(params (string Name, string? Value)[] extra)
    {
        var values = new Dictionary<string, string?>
        {
            ["LOCK_VPC_ID"] = "vpc-1a2b3c4d",
            ["QUERY_RUNNER_TIMEOUT_SECONDS"] = "30",
            ["AWS_REGION"] = "eu-west-1",
        };
        foreach (var (name, value) in extra)
        {
            values[name] = value;
        }

        return values;
    }

    private static ReaperOptions Read(Dictionary<string, string?> values) => ReaperOptions.FromEnvironment(new DictionaryEnvironment(values));

    [Fact]
    public void Collection_is_on_by_default_wherever_DB_BUCKET_is_set_with_an_hour_of_grace()
    {
        var options = Read(Ec2Reaper(("DB_BUCKET", "my-databases")));

        Assert.True(options.ChunkCollection);
        Assert.Equal(TimeSpan.FromHours(1), options.ChunkGrace);
        Assert.Equal(new ChunkCollectorOptions("databases/", TimeSpan.FromHours(1)), CompositionRoot.ChunkCollectorOptionsFrom(options));
    }

    [Fact]
    public void Collection_is_off_without_DB_BUCKET_or_with_CHUNK_GC_off()
    {
        Assert.False(Read(Ec2Reaper()).ChunkCollection);
        Assert.False(Read(Ec2Reaper(("DB_BUCKET", "my-databases"), ("CHUNK_GC", "off"))).ChunkCollection);
    }

    [Fact]
    public void CHUNK_GC_on_without_DB_BUCKET_is_refused()
    {
        var error = Assert.Throws<OptionsException>(() => Read(Ec2Reaper(("CHUNK_GC", "on"))));

        Assert.Contains("CHUNK_GC=on needs DB_BUCKET", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CHUNK_GC_is_on_or_off()
    {
        var error = Assert.Throws<OptionsException>(() => Read(Ec2Reaper(("DB_BUCKET", "my-databases"), ("CHUNK_GC", "sometimes"))));

        Assert.Contains("CHUNK_GC must be on or off; got 'sometimes'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30", "30")]
    [InlineData("899", "900")]
    public void A_grace_not_greater_than_the_QueryRunner_timeout_is_refused(string grace, string timeout)
    {
        var values = Ec2Reaper(("DB_BUCKET", "my-databases"), ("CHUNK_GC_GRACE_SECONDS", grace), ("QUERY_RUNNER_TIMEOUT_SECONDS", timeout), ("LOCK_STALE_SECONDS", "1000"));

        var error = Assert.Throws<OptionsException>(() => Read(values));

        Assert.Contains($"CHUNK_GC_GRACE_SECONDS ({grace}) must be greater than QUERY_RUNNER_TIMEOUT_SECONDS ({timeout})", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_short_grace_is_accepted_with_collection_off_and_above_a_short_timeout()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), Read(Ec2Reaper(("CHUNK_GC_GRACE_SECONDS", "5"), ("QUERY_RUNNER_TIMEOUT_SECONDS", "4"), ("DB_BUCKET", "b-1"))).ChunkGrace);
        Assert.False(Read(Ec2Reaper(("CHUNK_GC_GRACE_SECONDS", "5"))).ChunkCollection);
    }

    [Fact]
    public void LOCK_BACKEND_none_is_accepted_only_to_collect_chunks()
    {
        var collectOnly = Read(new Dictionary<string, string?>
        {
            ["LOCK_BACKEND"] = "none",
            ["DB_BUCKET"] = "my-databases",
            ["QUERY_RUNNER_TIMEOUT_SECONDS"] = "30",
            ["AWS_REGION"] = "eu-west-1",
        });
        var nothing = Assert.Throws<OptionsException>(() => Read(new Dictionary<string, string?>
        {
            ["LOCK_BACKEND"] = "none",
            ["QUERY_RUNNER_TIMEOUT_SECONDS"] = "30",
            ["AWS_REGION"] = "eu-west-1",
        }));

        Assert.True(collectOnly.ChunkCollection);
        Assert.Contains("LOCK_BACKEND=none has no locks to reap", nothing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_reaper_pass_has_a_collector_only_when_collection_is_on()
    {
        var withBucket = CompositionRoot.CreateReaperPass(new DictionaryEnvironment(Ec2Reaper(("DB_BUCKET", "my-databases"))), TimeProvider.System, new Support.RecordingLogSink());
        var without = CompositionRoot.CreateReaperPass(new DictionaryEnvironment(Ec2Reaper()), TimeProvider.System, new Support.RecordingLogSink());

        Assert.IsType<ChunkCollector>(withBucket.Chunks);
        Assert.NotNull(withBucket.Locks);
        Assert.Null(without.Chunks);
    }
}
