using System.Globalization;
using System.Text;
using System.Text.Json;
using Function = LockReaper.Function;
using Microsoft.Extensions.Time.Testing;
using Moq;
using ServerlessDb.Configuration;
using ServerlessDb.Errors;
using ServerlessDb.Hosting;
using ServerlessDb.Locking.Ec2;
using ServerlessDb.Storage;
using ServerlessDb.Storage.Chunked;
using ServerlessDb.Storage.Collection;
using ServerlessDb.Storage.S3;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.LockReaper;

public sealed class FunctionTests
{
    private const string VpcId = "vpc-1a2b3c4d";
    private const string Prefix = "serverlessdb-lock-";
    private static readonly DateTimeOffset Now = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly Mock<IEc2Client> _ec2 = new(MockBehavior.Strict);
    private readonly RecordingLogSink _log = new();

    private static StaleLockReaperOptions Options => new(VpcId, Prefix, StaleAfter: TimeSpan.FromSeconds(960)) { DeleteInterval = TimeSpan.Zero };

    private Function Function() => new(() => new StaleLockReaper(_ec2.Object, Options, new FakeTimeProvider(Now), _log), TimeProvider.System, _log);

    private static Stream Utf8(string text) => new MemoryStream(Encoding.UTF8.GetBytes(text));

    private static Stream SampleScheduledEvent() =>
        File.OpenRead(Path.Combine(AppContext.BaseDirectory, "LockReaper", "Events", "scheduled-event.json"));

    private static SecurityGroupInfo Group(string database, long ageSeconds) =>
        new("sg-" + database, Prefix + database, new Dictionary<string, string>
        {
            [LockGroupNaming.CreateTimeTagKey] = (Now.ToUnixTimeSeconds() - ageSeconds).ToString(CultureInfo.InvariantCulture),
            [LockGroupNaming.HolderTagKey] = "req-" + database,
        });

    private void Listed(params SecurityGroupInfo[] groups) =>
        _ec2.Setup(e => e.DescribeSecurityGroupsAsync(It.IsAny<IReadOnlyList<Ec2Filter>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(groups);

    private static async Task<string> ReadAsync(Stream output)
    {
        using var reader = new StreamReader(output);
        return await reader.ReadToEndAsync();
    }

    /// <summary>The line a failed invocation leaves, in the shape of every error line; it has no status, as there is no answer.</summary>
    private JsonElement LoggedFailure(string level)
    {
        var logged = JsonDocument.Parse(_log.Lines[^1]).RootElement;
        Assert.True(logged.TryGetProperty("time", out _), "every line carries its time");
        Assert.Equal(level, logged.GetProperty("level").GetString());
        Assert.Equal("lock reaper invocation failed", logged.GetProperty("message").GetString());
        Assert.False(logged.TryGetProperty("status", out _));
        return logged;
    }

    [Fact]
    public async Task The_sample_scheduled_event_runs_one_pass_and_returns_its_summary()
    {
        Listed(Group("crashed", 2000), Group("busy", 3));
        _ec2.Setup(e => e.DeleteSecurityGroupAsync("sg-crashed", It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);

        var output = await ReadAsync(await Function().HandleAsync(SampleScheduledEvent()));

        Assert.Equal(
            """{"found":2,"deleted":1,"alreadyGone":0,"kept":1,"failed":0,"deletedGroups":["serverlessdb-lock-crashed"],"alreadyGoneGroups":[],"keptGroups":["serverlessdb-lock-busy"],"failedGroups":[]}""",
            output);
        var pass = JsonDocument.Parse(Assert.Single(_log.Lines, l => l.Contains("\"lock reaper pass\"", StringComparison.Ordinal))).RootElement;
        Assert.Equal("89d1a02d-5ec7-412e-82f5-13505f849b41", pass.GetProperty("trigger").GetString());
        _ec2.Verify(e => e.DescribeSecurityGroupsAsync(It.IsAny<IReadOnlyList<Ec2Filter>>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n")]
    [InlineData("{}")]
    [InlineData("""{"detail-type":"Scheduled Event","source":"aws.scheduler","detail":{"anything":[1,2]}}""")]
    public async Task An_empty_or_other_object_input_from_a_manual_invoke_runs_the_pass(string input)
    {
        Listed();

        var output = await ReadAsync(await Function().HandleAsync(Utf8(input)));

        Assert.Equal(0, JsonDocument.Parse(output).RootElement.GetProperty("found").GetInt32());
        _ec2.Verify(e => e.DescribeSecurityGroupsAsync(It.IsAny<IReadOnlyList<Ec2Filter>>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("null")]
    public async Task An_input_that_is_not_a_JSON_object_fails_the_invocation_before_any_EC2_call(string input)
    {
        var error = await Assert.ThrowsAsync<InvalidEventException>(() => Function().HandleAsync(Utf8(input)));

        Assert.Contains("scheduled event", error.Message, StringComparison.Ordinal);
        var logged = LoggedFailure("warn");
        Assert.Equal(error.Message, logged.GetProperty("error").GetString());
        Assert.False(logged.TryGetProperty("exception", out _), "a bad event is no bug");
        _ec2.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task A_failure_to_list_the_groups_fails_the_invocation()
    {
        _ec2.Setup(e => e.DescribeSecurityGroupsAsync(It.IsAny<IReadOnlyList<Ec2Filter>>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new Ec2Exception("DescribeSecurityGroups", "RequestLimitExceeded", "slow down", Ec2ErrorKind.Throttling));

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => Function().HandleAsync(SampleScheduledEvent()));

        Assert.Equal("RequestLimitExceeded", error.Code);
        Assert.Equal(typeof(Ec2Exception).FullName, LoggedFailure("error").GetProperty("exceptionType").GetString());
    }

    [Fact]
    public async Task Invalid_configuration_fails_every_invocation_with_the_options_message()
    {
        var function = new Function(
            new DictionaryEnvironment(new Dictionary<string, string?>
            {
                ["LOCK_VPC_ID"] = VpcId,
                ["AWS_REGION"] = "us-east-1",
                ["QUERY_RUNNER_TIMEOUT_SECONDS"] = "900",
                ["LOCK_STALE_SECONDS"] = "600",
            }),
            TimeProvider.System,
            _log);

        var first = await Assert.ThrowsAsync<OptionsException>(() => function.HandleAsync(SampleScheduledEvent()));
        var second = await Assert.ThrowsAsync<OptionsException>(() => function.HandleAsync(SampleScheduledEvent()));

        Assert.Contains("LOCK_STALE_SECONDS (600) must be greater than QUERY_RUNNER_TIMEOUT_SECONDS (900)", first.Message, StringComparison.Ordinal);
        Assert.Equal(first.Message, second.Message);
        Assert.Equal(2, _log.Lines.Count);
        Assert.Equal(first.Message, LoggedFailure("error").GetProperty("error").GetString());
    }

    private static ChunkCollectionSummary Collected => new()
    {
        Databases = 2,
        Manifests = 3,
        Deleted = 4,
        DeletedBytes = 5000,
        Kept = 6,
        Young = 1,
        Failed = 0,
        Skipped = [new SkippedDatabase("orders", "its manifests could not all be read")],
    };

    private Function FunctionWith(Mock<IChunkCollector> chunks) =>
        new(() => new ReaperPass(new StaleLockReaper(_ec2.Object, Options, new FakeTimeProvider(Now), _log), chunks.Object), TimeProvider.System, _log);

    [Fact]
    public async Task With_the_chunk_collector_the_summary_keeps_its_fields_and_gains_the_chunks()
    {
        Listed(Group("busy", 3));
        var chunks = new Mock<IChunkCollector>(MockBehavior.Strict);
        chunks.Setup(c => c.CollectOnceAsync("89d1a02d-5ec7-412e-82f5-13505f849b41", It.IsAny<CancellationToken>())).ReturnsAsync(Collected);

        var output = await ReadAsync(await FunctionWith(chunks).HandleAsync(SampleScheduledEvent()));

        Assert.Equal(
            """{"found":1,"deleted":0,"alreadyGone":0,"kept":1,"failed":0,"deletedGroups":[],"alreadyGoneGroups":[],"keptGroups":["serverlessdb-lock-busy"],"failedGroups":[],"chunks":{"databases":2,"manifests":3,"deleted":4,"deletedBytes":5000,"kept":6,"young":1,"failed":0,"skipped":[{"database":"orders","reason":"its manifests could not all be read"}]}}""",
            output);
    }

    [Fact]
    public async Task A_failure_to_list_the_locks_still_lets_the_chunks_be_collected_then_fails_the_invocation()
    {
        _ec2.Setup(e => e.DescribeSecurityGroupsAsync(It.IsAny<IReadOnlyList<Ec2Filter>>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new Ec2Exception("DescribeSecurityGroups", "UnauthorizedOperation", "no", Ec2ErrorKind.Other));
        var chunks = new Mock<IChunkCollector>(MockBehavior.Strict);
        chunks.Setup(c => c.CollectOnceAsync(It.IsAny<string?>(), It.IsAny<CancellationToken>())).ReturnsAsync(Collected);

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => FunctionWith(chunks).HandleAsync(SampleScheduledEvent()));

        Assert.Equal("UnauthorizedOperation", error.Code);
        chunks.Verify(c => c.CollectOnceAsync(It.IsAny<string?>(), It.IsAny<CancellationToken>()), Times.Once);
    }
}
