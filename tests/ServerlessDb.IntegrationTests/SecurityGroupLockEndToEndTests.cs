using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using ServerlessDb.Configuration;
using ServerlessDb.IntegrationTests.Infrastructure;
using ServerlessDb.Locking.Ec2;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// The security-group lock end to end: QueryRunner handlers fed API Gateway events, S3 and EC2 on
/// moto_server. Writers are held at their commit by a seam, so every interleaving is forced by a
/// signal, never by a sleep.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class SecurityGroupLockEndToEndTests(MotoServerFixture moto)
{
    private const string Prefix = ServerlessDbOptions.DefaultLockNamePrefix;
    private const string Key = "databases/default.sqlite";
    private static readonly TimeSpan SignalTimeout = TimeSpan.FromSeconds(30);

    private readonly SecurityGroupsCli _groups = new(moto);

    private static JsonElement Results(LambdaResponse response)
    {
        Assert.True(response.StatusCode == 200, $"status {response.StatusCode}: {response.Body}");
        return JsonDocument.Parse(response.Body).RootElement.GetProperty("results");
    }

    private static string Rows(LambdaResponse response) => Results(response)[0].GetProperty("values").GetRawText();

    private async Task<string> ETagAsync(string bucket) => (await moto.S3.GetObjectMetadataAsync(bucket, Key)).ETag;

    [Fact]
    public async Task Two_writers_take_turns_and_the_lock_group_exists_only_while_one_writes()
    {
        var bucket = await moto.CreateBucketAsync();
        var vpcId = await moto.CreateVpcAsync();
        var timeline = new ConcurrentQueue<string>();
        var lockInVpc = new Dictionary<string, string?> { ["LOCK_VPC_ID"] = vpcId };
        var a = new WriterSeams("A", timeline);
        var b = new WriterSeams("B", timeline);
        using var writerA = new QueryRunnerInstance(moto, bucket, lockInVpc, a.CreateHandler);
        using var writerB = new QueryRunnerInstance(moto, bucket, lockInVpc, b.CreateHandler);
        Results(await writerB.PostAsync("/db/execute", """["CREATE TABLE t(writer TEXT)"]"""));
        Assert.Empty(await _groups.DescribeAsync(vpcId, Prefix));
        timeline.Clear();

        a.CloseCommitGate();
        var writeA = writerA.PostAsync("/db/execute", """["INSERT INTO t VALUES ('A')"]""");
        await a.CommitReached.WaitAsync(SignalTimeout);

        var held = Assert.Single(await _groups.DescribeAsync(vpcId, Prefix));
        Assert.Equal(Prefix + "default", held.Name);
        Assert.True(LockGroupNaming.TryParseCreateTime(held.Tags, out var createdAt), "the lock group has no readable CreateTime tag");
        Assert.InRange(createdAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.False(string.IsNullOrEmpty(held.Tags[LockGroupNaming.HolderTagKey]));

        var writeB = writerB.PostAsync("/db/execute", """["INSERT INTO t VALUES ('B')"]""");
        await b.DuplicateSeen.WaitAsync(SignalTimeout);
        Assert.Equal(["A locked"], timeline);
        Assert.False(writeB.IsCompleted, "B answered while A held the lock");

        a.OpenCommitGate();
        Results(await writeA);
        Results(await writeB);

        Assert.Equal(["A locked", "A commit", "A unlocked", "B locked", "B commit", "B unlocked"], timeline);
        Assert.Empty(await _groups.DescribeAsync(vpcId, Prefix));
        Assert.Equal("""[["A"],["B"]]""", Rows(await writerA.GetAsync("/db/query", "q=SELECT%20writer%20FROM%20t%20ORDER%20BY%20writer")));
    }

    [Fact]
    public async Task A_zombie_writer_whose_lock_was_reaped_cannot_overwrite_the_next_writers_version()
    {
        var bucket = await moto.CreateBucketAsync();
        var vpcId = await moto.CreateVpcAsync();
        var lockInVpc = new Dictionary<string, string?> { ["LOCK_VPC_ID"] = vpcId };
        var zombie = new WriterSeams("A", new ConcurrentQueue<string>());
        using var writerA = new QueryRunnerInstance(moto, bucket, new Dictionary<string, string?>(lockInVpc) { ["WRITE_ATTEMPTS"] = "1" }, zombie.CreateHandler);
        using var writerB = new QueryRunnerInstance(moto, bucket, lockInVpc);
        Results(await writerB.PostAsync("/db/execute", """["CREATE TABLE t(writer TEXT)", "INSERT INTO t VALUES ('setup')"]"""));
        var v1 = await ETagAsync(bucket);

        // A takes the lock, reads v1, runs its insert, and stalls before its commit.
        zombie.CloseCommitGate();
        var writeA = writerA.PostAsync("/db/execute", """["INSERT INTO t VALUES ('A')"]""");
        await zombie.CommitReached.WaitAsync(SignalTimeout);
        Assert.Equal(Prefix + "default", Assert.Single(await _groups.DescribeAsync(vpcId, Prefix)).Name);

        // The reaper's clock reads a minute ahead: A's lock is older than LOCK_STALE_SECONDS to it.
        var reaper = new LockReaperInstance(
            moto,
            vpcId,
            new Dictionary<string, string?> { ["LOCK_STALE_SECONDS"] = "2", ["QUERY_RUNNER_TIMEOUT_SECONDS"] = "1" },
            new FakeTimeProvider(DateTimeOffset.UtcNow + TimeSpan.FromMinutes(1)));
        var summary = await reaper.InvokeAsync();
        Assert.Equal("""["serverlessdb-lock-default"]""", summary.GetProperty("deletedGroups").GetRawText());
        Assert.Empty(await _groups.DescribeAsync(vpcId, Prefix));

        // B takes the free lock and commits v2 on top of v1.
        Results(await writerB.PostAsync("/db/execute", """["INSERT INTO t VALUES ('B')"]"""));
        var v2 = await ETagAsync(bucket);
        Assert.NotEqual(v1, v2);

        // A wakes up: its PUT is conditional on v1, so it loses, and says so.
        zombie.OpenCommitGate();
        var answer = await writeA;

        Assert.True(answer.StatusCode == 409, $"status {answer.StatusCode}: {answer.Body}");
        Assert.Equal(v2, await ETagAsync(bucket));
        using (var fresh = new QueryRunnerInstance(moto, bucket))
        {
            Assert.Equal("""[["B"],["setup"]]""", Rows(await fresh.GetAsync("/db/query", "q=SELECT%20writer%20FROM%20t%20ORDER%20BY%20writer")));
        }

        var warning = JsonDocument.Parse(Assert.Single(zombie.LogLines, l => l.Contains("already gone at release", StringComparison.Ordinal))).RootElement;
        Assert.Equal("warn", warning.GetProperty("level").GetString());
        Assert.Empty(await _groups.DescribeAsync(vpcId, Prefix));
    }
}
