using ServerlessDb.Domain;
using ServerlessDb.Errors;
using ServerlessDb.Protocol;

namespace ServerlessDb.UnitTests.Protocol;

public sealed class RequestFlagsParserTests
{
    private static RequestFlags Parse(params (string Key, string Value)[] query) =>
        RequestFlagsParser.Parse(query.ToDictionary(q => q.Key, q => q.Value));

    [Fact]
    public void Defaults_are_rqlites()
    {
        var flags = Parse();
        Assert.Equal("default", flags.Database);
        Assert.False(flags.Transaction || flags.Timings || flags.Associative || flags.Pretty);
        Assert.Equal(ConsistencyLevel.Weak, flags.Level);
        Assert.Null(flags.MaxStaleness);
    }

    [Fact]
    public void Flags_count_by_presence_and_unknown_ones_are_ignored()
    {
        var flags = Parse(("transaction", ""), ("timings", ""), ("associative", "false"), ("pretty", ""), ("queue", ""), ("db", "orders_2024-x"));
        Assert.True(flags.Transaction && flags.Timings && flags.Associative && flags.Pretty);
        Assert.Equal("orders_2024-x", flags.Database);
    }

    [Theory]
    [InlineData("none", nameof(ConsistencyLevel.None))]
    [InlineData("WEAK", nameof(ConsistencyLevel.Weak))]
    [InlineData("strong", nameof(ConsistencyLevel.Strong))]
    [InlineData("linearizable", nameof(ConsistencyLevel.Linearizable))]
    [InlineData("auto", nameof(ConsistencyLevel.Auto))]
    public void Levels_are_recognized(string value, string level) => Assert.Equal(Enum.Parse<ConsistencyLevel>(level), Parse(("level", value)).Level);

    [Fact]
    public void Level_none_with_freshness_allows_a_cached_copy_that_old()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), Parse(("level", "none"), ("freshness", "5s")).MaxStaleness);
        Assert.Equal(TimeSpan.MaxValue, Parse(("level", "none")).MaxStaleness);
        Assert.Null(Parse(("level", "strong"), ("freshness", "5s")).MaxStaleness);
    }

    [Theory]
    [InlineData("2s", 2000)]
    [InlineData("1500ms", 1500)]
    [InlineData("1m30s", 90000)]
    [InlineData("3", 3000)]
    public void Db_timeout_takes_go_durations(string value, int milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), Parse(("db_timeout", value)).StatementTimeout);

    [Theory]
    [InlineData("db", "")]
    [InlineData("db", "../etc/passwd")]
    [InlineData("db", "has space")]
    [InlineData("db", "a-name-that-is-much-longer-than-sixty-four-characters-which-is-not-allowed")]
    [InlineData("level", "eventual")]
    [InlineData("freshness", "soon")]
    [InlineData("db_timeout", "-1s")]
    [InlineData("db", "sneaky\n")]
    [InlineData("db_timeout", "5s\n")]
    [InlineData("freshness", "5s\n")]
    [InlineData("db_timeout", "\u0663s")]
    [InlineData("freshness", "1\u0660s")]
    public void Bad_values_are_400s(string flag, string value) =>
        Assert.Throws<BadRequestException>(() => Parse((flag, value)));

    [Theory]
    [InlineData("db_timeout", "99999999999999")]
    [InlineData("freshness", "99999999999999")]
    [InlineData("db_timeout", "99999999999999999999999999")]
    [InlineData("freshness", "9999999999999999999h")]
    [InlineData("db_timeout", "256204779h")]
    [InlineData("db_timeout", "99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999h")]
    public void A_duration_longer_than_a_timespan_is_400_not_an_overflow(string flag, string value) =>
        Assert.Throws<BadRequestException>(() => Parse((flag, value)));

    [Fact]
    public void The_longest_durations_that_fit_are_accepted()
    {
        Assert.Equal(TimeSpan.FromHours(256204778), Parse(("db_timeout", "256204778h")).StatementTimeout);
        Assert.Equal(TimeSpan.FromSeconds(9_000_000_000), Parse(("freshness", "9000000000")).Freshness);
    }
}
