using ServerlessDb.Configuration;
using ServerlessDb.Hosting;
using ServerlessDb.Locking.Ec2;
using ServerlessDb.UnitTests.Locking.Ec2;

namespace ServerlessDb.UnitTests.Locking;

public sealed class ReaperOptionsTests
{
    private static Dictionary<string, string?> Valid() => new()
    {
        ["LOCK_VPC_ID"] = "vpc-1a2b3c4d",
        ["QUERY_RUNNER_TIMEOUT_SECONDS"] = "30",
        ["AWS_REGION"] = "eu-west-1",
    };

    private static ReaperOptions Read(Dictionary<string, string?> values) =>
        ReaperOptions.FromEnvironment(new DictionaryEnvironment(values));

    private static OptionsException Refused(Dictionary<string, string?> values) =>
        Assert.Throws<OptionsException>(() => Read(values));

    [Fact]
    public void Defaults_match_the_QueryRunner_and_the_design()
    {
        var options = Read(Valid());

        Assert.Equal("vpc-1a2b3c4d", options.LockVpcId);
        Assert.Equal(ServerlessDbOptions.DefaultLockNamePrefix, options.LockNamePrefix);
        Assert.Equal("serverlessdb-lock-", options.LockNamePrefix);
        Assert.Equal(TimeSpan.FromSeconds(30) + TimeSpan.FromMinutes(2), options.StaleAfter);
        Assert.Equal(TimeSpan.FromSeconds(30), options.QueryRunnerTimeout);
        Assert.Equal("eu-west-1", options.Region);
        Assert.Equal(new AwsEndpoints(null, null, null), options.Endpoints);
    }

    [Fact]
    public void Reads_every_variable()
    {
        var values = Valid();
        values["LOCK_NAME_PREFIX"] = "team-a-lock-";
        values["LOCK_STALE_SECONDS"] = "120";
        values["AWS_REGION"] = null;
        values["AWS_DEFAULT_REGION"] = "us-west-2";
        values["AWS_ENDPOINT_URL"] = "http://127.0.0.1:5000";
        values["AWS_ENDPOINT_URL_EC2"] = "http://127.0.0.1:6000";

        var options = Read(values);

        Assert.Equal("team-a-lock-", options.LockNamePrefix);
        Assert.Equal(TimeSpan.FromSeconds(120), options.StaleAfter);
        Assert.Equal("us-west-2", options.Region);
        Assert.Equal(new Uri("http://127.0.0.1:6000"), options.Endpoints.ForEc2);
        Assert.Equal(new Uri("http://127.0.0.1:6000/"), Ec2Endpoint.Of(CompositionRoot.Ec2ClientOptionsFrom(options)));
    }

    [Theory]
    [InlineData("30", "30")]
    [InlineData("29", "30")]
    [InlineData("1", "900")]
    public void Refuses_a_staleness_threshold_not_greater_than_the_QueryRunner_timeout(string stale, string timeout)
    {
        var values = Valid();
        values["LOCK_STALE_SECONDS"] = stale;
        values["QUERY_RUNNER_TIMEOUT_SECONDS"] = timeout;

        var error = Refused(values);

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith($"LOCK_STALE_SECONDS ({stale}) must be greater than QUERY_RUNNER_TIMEOUT_SECONDS ({timeout})", problem, StringComparison.Ordinal);
        Assert.Contains("live lock", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30", 150)]
    [InlineData("900", 1020)]
    public void The_default_threshold_is_the_timeout_plus_a_clock_skew_margin_of_minutes(string timeout, long expectedSeconds)
    {
        var values = Valid();
        values["QUERY_RUNNER_TIMEOUT_SECONDS"] = timeout;

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), Read(values).StaleAfter);
        Assert.Equal(TimeSpan.FromMinutes(2), ReaperOptions.ClockSkewMargin);
    }

    [Fact]
    public void Accepts_a_threshold_one_second_above_the_timeout()
    {
        var values = Valid();
        values["LOCK_STALE_SECONDS"] = "31";

        Assert.Equal(TimeSpan.FromSeconds(31), Read(values).StaleAfter);
    }

    [Fact]
    public void Lists_every_missing_value()
    {
        var error = Refused(new Dictionary<string, string?>());

        Assert.Equal(3, error.Problems.Count);
        Assert.Contains(error.Problems, p => p.StartsWith("LOCK_VPC_ID is required", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("QUERY_RUNNER_TIMEOUT_SECONDS is required", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("AWS_REGION is required", StringComparison.Ordinal));
        Assert.StartsWith("Invalid ServerlessDb configuration:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("QUERY_RUNNER_TIMEOUT_SECONDS", "0", "QUERY_RUNNER_TIMEOUT_SECONDS must be a whole number from 1 to 900")]
    [InlineData("QUERY_RUNNER_TIMEOUT_SECONDS", "thirty", "QUERY_RUNNER_TIMEOUT_SECONDS must be a whole number from 1 to 900")]
    [InlineData("LOCK_STALE_SECONDS", "-1", "LOCK_STALE_SECONDS must be a whole number from 1 to 604800")]
    [InlineData("LOCK_NAME_PREFIX", "bad prefix with spaces", "LOCK_NAME_PREFIX must be 1-190 characters")]
    [InlineData("AWS_ENDPOINT_URL", "localhost:5000", "AWS_ENDPOINT_URL must be an absolute http or https URL")]
    public void Refuses_a_bad_value_with_a_message_naming_it(string name, string value, string expected)
    {
        var values = Valid();
        values[name] = value;

        var problem = Assert.Single(Refused(values).Problems);

        Assert.StartsWith(expected, problem, StringComparison.Ordinal);
    }
}
