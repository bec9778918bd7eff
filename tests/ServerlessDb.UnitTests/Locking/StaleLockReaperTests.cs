using Amazon.EC2;
using Amazon.Runtime;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Moq;
using ServerlessDb.Locking;
using ServerlessDb.Locking.Ec2;
using ServerlessDb.Logging;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Locking;

public sealed class StaleLockReaperTests
{
    private const string VpcId = "vpc-1a2b3c4d";
    private const string Prefix = "serverlessdb-lock-";
    private static readonly DateTimeOffset Now = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly Mock<IEc2Client> _ec2 = new(MockBehavior.Strict);
    private readonly RecordingLogSink _log = new();

    // Reads Now until a test that waits on the reaper's backoffs or pacing moves it (FakeTime.RunAsync).
    private readonly FakeTimeProvider _time = new(Now);
    private IReadOnlyList<Ec2Filter>? _filters;

    private static StaleLockReaperOptions Options => new(VpcId, Prefix, StaleAfter: TimeSpan.FromSeconds(960))
    {
        DeleteInterval = TimeSpan.Zero,
        DeleteRetryWindow = TimeSpan.FromSeconds(5),
    };

    private StaleLockReaper Reaper(StaleLockReaperOptions? options = null) =>
        new(_ec2.Object, options ?? Options, _time, _log);

    private static SecurityGroupInfo Group(string database, string? createTime, string? id = null)
    {
        var tags = new Dictionary<string, string> { [LockGroupNaming.HolderTagKey] = "req-" + database };
        if (createTime is not null)
        {
            tags[LockGroupNaming.CreateTimeTagKey] = createTime;
        }

        return new SecurityGroupInfo(id ?? "sg-" + database, Prefix + database, tags);
    }

    private static string SecondsAgo(long seconds) =>
        (Now.ToUnixTimeSeconds() - seconds).ToString(CultureInfo.InvariantCulture);

    // Made as the client makes it from the SDK's exception, so each code gets the kind the real mapping gives it.
    private static Ec2Exception Error(string code, HttpStatusCode status = HttpStatusCode.BadRequest) =>
        Ec2Client.Classify("DeleteSecurityGroup", new AmazonEC2Exception($"EC2 says {code}", ErrorType.Sender, code, "req-id", status), CancellationToken.None)!;

    private void Listed(params SecurityGroupInfo[] groups) =>
        _ec2.Setup(e => e.DescribeSecurityGroupsAsync(It.IsAny<IReadOnlyList<Ec2Filter>>(), It.IsAny<CancellationToken>()))
            .Callback<IReadOnlyList<Ec2Filter>, CancellationToken>((filters, _) => _filters = filters)
            .ReturnsAsync(groups);

    private void Deletes(string groupId) =>
        _ec2.Setup(e => e.DeleteSecurityGroupAsync(groupId, It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);

    private void DeleteFails(string groupId, Ec2Exception error) =>
        _ec2.Setup(e => e.DeleteSecurityGroupAsync(groupId, It.IsAny<CancellationToken>())).ThrowsAsync(error);

    private List<JsonElement> LogLines(string message) =>
        _log.Lines.Select(l => JsonDocument.Parse(l).RootElement).Where(l => l.GetProperty("message").GetString()!.StartsWith(message, StringComparison.Ordinal)).ToList();

    private static void AssertSummary(ReapSummary summary, string[] deleted, string[] gone, string[] kept, string[] failed)
    {
        Assert.Equal(deleted, summary.DeletedGroups);
        Assert.Equal(gone, summary.AlreadyGoneGroups);
        Assert.Equal(kept, summary.KeptGroups);
        Assert.Equal(failed, summary.FailedGroups);
        Assert.Equal(deleted.Length + gone.Length + kept.Length + failed.Length, summary.Found);
    }

    [Fact]
    public async Task Lists_the_lock_groups_of_the_prefix_in_the_VPC()
    {
        Listed();

        await Reaper(Options with { NamePrefix = "odd*prefix-" }).ReapOnceAsync(null, CancellationToken.None);

        Assert.Equal(
            [new Ec2Filter("group-name", @"odd\*prefix-*").Values, new Ec2Filter("vpc-id", VpcId).Values],
            _filters!.Select(f => f.Values));
        Assert.Equal(["group-name", "vpc-id"], _filters!.Select(f => f.Name));
    }

    [Fact]
    public async Task Deletes_a_stale_group_by_id_and_keeps_a_fresh_one()
    {
        Listed(Group("fresh", SecondsAgo(10)), Group("crashed", SecondsAgo(2000)));
        Deletes("sg-crashed");

        var summary = await Reaper().ReapOnceAsync("event-1", CancellationToken.None);

        AssertSummary(summary, deleted: [Prefix + "crashed"], gone: [], kept: [Prefix + "fresh"], failed: []);
        _ec2.Verify(e => e.DeleteSecurityGroupAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Once);
        var deleted = Assert.Single(LogLines("stale lock deleted"));
        Assert.Equal("sg-crashed", deleted.GetProperty("groupId").GetString());
        Assert.Equal("req-crashed", deleted.GetProperty("holder").GetString());
        Assert.Equal(2000, deleted.GetProperty("ageSeconds").GetInt64());
    }

    [Fact]
    public async Task The_summary_line_carries_found_deleted_and_failed_as_metrics_with_no_dimensions()
    {
        Listed(Group("fresh", SecondsAgo(10)), Group("crashed", SecondsAgo(2000)), Group("referenced", SecondsAgo(2000)));
        Deletes("sg-crashed");
        DeleteFails("sg-referenced", Error("DependencyViolation"));

        await Reaper().ReapOnceAsync(null, CancellationToken.None);

        var (_, values, sets) = EmbeddedMetricFormat.Parse(_log.Lines.Last());
        Assert.Equal([[]], sets);
        Assert.Equal(3, values[Metrics.LocksFound]);
        Assert.Equal(1, values[Metrics.LocksDeleted]);
        Assert.Equal(0, values[Metrics.LocksAlreadyGone]);
        Assert.Equal(1, values[Metrics.LocksKept]);
        Assert.Equal(1, values[Metrics.LocksDeleteFailed]);
    }

    [Fact]
    public async Task A_group_exactly_as_old_as_the_threshold_is_kept_one_second_older_is_deleted()
    {
        Listed(Group("at-threshold", SecondsAgo(960)), Group("past-threshold", SecondsAgo(961)));
        Deletes("sg-past-threshold");

        var summary = await Reaper().ReapOnceAsync(null, CancellationToken.None);

        AssertSummary(summary, deleted: [Prefix + "past-threshold"], gone: [], kept: [Prefix + "at-threshold"], failed: []);
    }

    [Fact]
    public async Task A_group_created_in_the_future_by_a_skewed_clock_is_kept()
    {
        Listed(Group("ahead", SecondsAgo(-120)));

        var summary = await Reaper().ReapOnceAsync(null, CancellationToken.None);

        AssertSummary(summary, deleted: [], gone: [], kept: [Prefix + "ahead"], failed: []);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("-5")]
    [InlineData("1704164645.5")]
    [InlineData("2024-01-02T03:04:05Z")]
    [InlineData("99999999999999999999")]
    public async Task A_group_without_a_readable_CreateTime_is_kept_and_logged_for_a_human(string? createTime)
    {
        Listed(Group("unreadable", createTime));

        var summary = await Reaper().ReapOnceAsync(null, CancellationToken.None);

        AssertSummary(summary, deleted: [], gone: [], kept: [Prefix + "unreadable"], failed: []);
        var warning = Assert.Single(LogLines("lock group without a readable CreateTime"));
        Assert.Equal("warn", warning.GetProperty("level").GetString());
        Assert.Equal(Prefix + "unreadable", warning.GetProperty("group").GetString());
        Assert.Contains("human", warning.GetProperty("message").GetString(), StringComparison.Ordinal);
        _ec2.Verify(e => e.DeleteSecurityGroupAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_group_named_exactly_the_prefix_is_not_a_lock_group_and_is_ignored()
    {
        Listed(new SecurityGroupInfo("sg-bare", Prefix, new Dictionary<string, string> { ["CreateTime"] = SecondsAgo(5000) }));

        var summary = await Reaper().ReapOnceAsync(null, CancellationToken.None);

        AssertSummary(summary, deleted: [], gone: [], kept: [], failed: []);
    }

    [Fact]
    public async Task A_group_already_gone_counts_as_gone_not_failed()
    {
        Listed(Group("released", SecondsAgo(2000)));
        DeleteFails("sg-released", Error("InvalidGroup.NotFound"));

        var summary = await Reaper().ReapOnceAsync(null, CancellationToken.None);

        AssertSummary(summary, deleted: [], gone: [Prefix + "released"], failed: [], kept: []);
        Assert.Single(LogLines("stale lock already gone"));
    }

    [Fact]
    public async Task A_DependencyViolation_counts_as_failed_is_logged_and_the_pass_goes_on()
    {
        Listed(Group("a-referenced", SecondsAgo(2000)), Group("b-crashed", SecondsAgo(2000)));
        DeleteFails("sg-a-referenced", Error("DependencyViolation"));
        Deletes("sg-b-crashed");

        var summary = await Reaper().ReapOnceAsync(null, CancellationToken.None);

        AssertSummary(summary, deleted: [Prefix + "b-crashed"], gone: [], kept: [], failed: [Prefix + "a-referenced"]);
        var error = Assert.Single(LogLines("stale lock not deleted"));
        Assert.Equal("error", error.GetProperty("level").GetString());
        Assert.Equal("DependencyViolation", error.GetProperty("errorCode").GetString());
        Assert.Contains("references", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        _ec2.Verify(e => e.DeleteSecurityGroupAsync("sg-a-referenced", It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Another_error_on_one_group_counts_as_failed_and_the_pass_goes_on()
    {
        Listed(Group("a-denied", SecondsAgo(2000)), Group("b-crashed", SecondsAgo(2000)));
        DeleteFails("sg-a-denied", Error("UnauthorizedOperation", HttpStatusCode.Forbidden));
        Deletes("sg-b-crashed");

        var summary = await Reaper().ReapOnceAsync(null, CancellationToken.None);

        AssertSummary(summary, deleted: [Prefix + "b-crashed"], gone: [], kept: [], failed: [Prefix + "a-denied"]);
        Assert.Equal("UnauthorizedOperation", Assert.Single(LogLines("stale lock not deleted")).GetProperty("errorCode").GetString());
        _ec2.Verify(e => e.DeleteSecurityGroupAsync("sg-a-denied", It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_throttled_delete_is_retried_until_it_succeeds()
    {
        Listed(Group("crashed", SecondsAgo(2000)));
        _ec2.SetupSequence(e => e.DeleteSecurityGroupAsync("sg-crashed", It.IsAny<CancellationToken>()))
            .ThrowsAsync(Error("RequestLimitExceeded", HttpStatusCode.ServiceUnavailable))
            .ThrowsAsync(new Ec2Exception("DeleteSecurityGroup", Ec2Exception.TransportErrorCode, "connection reset", Ec2ErrorKind.Transient))
            .Returns(Task.CompletedTask);

        var summary = await _time.RunAsync(Reaper().ReapOnceAsync(null, CancellationToken.None), TimeSpan.FromMilliseconds(100));

        AssertSummary(summary, deleted: [Prefix + "crashed"], gone: [], kept: [], failed: []);
        _ec2.Verify(e => e.DeleteSecurityGroupAsync("sg-crashed", It.IsAny<CancellationToken>()), Times.Exactly(3));
    }

    [Fact]
    public async Task A_delete_throttled_past_the_retry_window_counts_as_failed_and_the_pass_goes_on()
    {
        Listed(Group("a-throttled", SecondsAgo(2000)), Group("b-crashed", SecondsAgo(2000)));
        DeleteFails("sg-a-throttled", Error("RequestLimitExceeded", HttpStatusCode.ServiceUnavailable));
        Deletes("sg-b-crashed");

        var summary = await _time.RunAsync(
            Reaper(Options with { DeleteRetryWindow = TimeSpan.FromMilliseconds(1500) }).ReapOnceAsync(null, CancellationToken.None),
            TimeSpan.FromMilliseconds(100));

        AssertSummary(summary, deleted: [Prefix + "b-crashed"], gone: [], kept: [], failed: [Prefix + "a-throttled"]);
        Assert.True(_time.GetUtcNow() - Now >= TimeSpan.FromMilliseconds(1500), $"gave up after {_time.GetUtcNow() - Now}");
        var error = Assert.Single(LogLines("stale lock not deleted"));
        Assert.Equal("RequestLimitExceeded", error.GetProperty("errorCode").GetString());
        _ec2.Verify(e => e.DeleteSecurityGroupAsync("sg-a-throttled", It.IsAny<CancellationToken>()), Times.AtLeast(2));
    }

    [Fact]
    public async Task Deletes_are_paced_by_the_delete_interval()
    {
        Listed(Group("a", SecondsAgo(2000)), Group("b", SecondsAgo(2000)), Group("c", SecondsAgo(2000)));
        var times = new List<DateTimeOffset>();
        _ec2.Setup(e => e.DeleteSecurityGroupAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Callback(() => times.Add(_time.GetUtcNow()))
            .Returns(Task.CompletedTask);

        await _time.RunAsync(Reaper(Options with { DeleteInterval = TimeSpan.FromMilliseconds(200) }).ReapOnceAsync(null, CancellationToken.None), TimeSpan.FromMilliseconds(50));

        Assert.Equal(3, times.Count);
        Assert.All(times.Zip(times.Skip(1)), pair => Assert.True(pair.Second - pair.First >= TimeSpan.FromMilliseconds(200), $"{(pair.Second - pair.First).TotalMilliseconds} ms apart"));
    }

    [Fact]
    public async Task A_failure_to_list_the_groups_propagates_and_deletes_nothing()
    {
        _ec2.Setup(e => e.DescribeSecurityGroupsAsync(It.IsAny<IReadOnlyList<Ec2Filter>>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new Ec2Exception("DescribeSecurityGroups", "UnauthorizedOperation", "not allowed", Ec2ErrorKind.Other, HttpStatusCode.Forbidden));

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => Reaper().ReapOnceAsync(null, CancellationToken.None));

        Assert.Equal("UnauthorizedOperation", error.Code);
        Assert.Empty(LogLines("lock reaper pass"));
        _ec2.Verify(e => e.DeleteSecurityGroupAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task The_pass_returns_and_logs_the_exact_summary()
    {
        Listed(
            Group("fresh", SecondsAgo(1)),
            Group("crashed", SecondsAgo(2000)),
            Group("released", SecondsAgo(2000)),
            Group("referenced", SecondsAgo(2000)),
            Group("garbled", "soon"));
        Deletes("sg-crashed");
        DeleteFails("sg-released", Error("InvalidGroup.NotFound"));
        DeleteFails("sg-referenced", Error("DependencyViolation"));

        var summary = await Reaper().ReapOnceAsync("89d1a02d", CancellationToken.None);

        AssertSummary(
            summary,
            deleted: [Prefix + "crashed"],
            gone: [Prefix + "released"],
            kept: [Prefix + "fresh", Prefix + "garbled"],
            failed: [Prefix + "referenced"]);
        Assert.Equal((5, 1, 1, 2, 1), (summary.Found, summary.Deleted, summary.AlreadyGone, summary.Kept, summary.Failed));
        var line = Assert.Single(LogLines("lock reaper pass"));
        Assert.Equal("warn", line.GetProperty("level").GetString());
        Assert.Equal("89d1a02d", line.GetProperty("trigger").GetString());
        Assert.Equal(VpcId, line.GetProperty("vpcId").GetString());
        Assert.Equal(960, line.GetProperty("staleSeconds").GetInt64());
        Assert.Equal(
            (5, 1, 1, 2, 1),
            (line.GetProperty("found").GetInt32(), line.GetProperty("deleted").GetInt32(), line.GetProperty("alreadyGone").GetInt32(),
                line.GetProperty("kept").GetInt32(), line.GetProperty("failed").GetInt32()));
        Assert.Equal("[\"serverlessdb-lock-fresh\",\"serverlessdb-lock-garbled\"]", line.GetProperty("keptGroups").GetRawText());
        Assert.Equal("[\"serverlessdb-lock-crashed\"]", line.GetProperty("deletedGroups").GetRawText());
    }
}
