using ServerlessDb.Locking.Ec2;

namespace ServerlessDb.UnitTests.Locking;

public sealed class LockGroupNamingTests
{
    [Fact]
    public void GroupName_is_the_prefix_then_the_database() =>
        Assert.Equal("serverlessdb-lock-orders", LockGroupNaming.GroupName("serverlessdb-lock-", "orders"));

    [Theory]
    [InlineData("serverlessdb-lock-", "serverlessdb-lock-*")]
    [InlineData("a*b?c\\", @"a\*b\?c\\*")]
    public void GroupNameFilter_matches_the_prefix_literally(string prefix, string filter) =>
        Assert.Equal(filter, LockGroupNaming.GroupNameFilter(prefix));

    [Theory]
    [InlineData("serverlessdb-lock-orders", "orders")]
    [InlineData("serverlessdb-lock-", null)]
    [InlineData("other-orders", null)]
    public void DatabaseOf_reads_the_database_back(string groupName, string? database) =>
        Assert.Equal(database, LockGroupNaming.DatabaseOf("serverlessdb-lock-", groupName));

    [Fact]
    public void CreateTime_round_trips_through_the_tags()
    {
        var createdAt = new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

        var tags = LockGroupNaming.Tags(createdAt, "req-1");

        Assert.Equal("1704164645", tags[LockGroupNaming.CreateTimeTagKey]);
        Assert.Equal("req-1", tags[LockGroupNaming.HolderTagKey]);
        Assert.True(LockGroupNaming.TryParseCreateTime(tags, out var parsed));
        Assert.Equal(createdAt, parsed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-5")]
    [InlineData("1.5")]
    [InlineData(" 17")]
    [InlineData("99999999999999999999")]
    public void An_unreadable_CreateTime_is_refused(string? raw)
    {
        var tags = raw is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["CreateTime"] = raw };

        Assert.False(LockGroupNaming.TryParseCreateTime(tags, out _));
    }
}
