using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Time.Testing;
using ServerlessDb.IntegrationTests.Faults;
using ServerlessDb.IntegrationTests.Infrastructure;
using ServerlessDb.Locking.S3;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// The S3 lease lock (LOCK_BACKEND=s3) end to end: QueryRunner handlers fed API Gateway events, S3 on
/// moto_server in a versioned bucket (as the template deploys it), the LockReaper handler on the same
/// bucket. Interleavings are forced by signals (a commit gate, the fault proxy's record of refused
/// creates), never by sleeps; each test asserts the counter stored and the lease objects left.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class S3LeaseLockEndToEndTests(MotoServerFixture moto)
{
    private const string LeaseKey = "databases/_locks/default.lease";
    private static readonly TimeSpan SignalTimeout = TimeSpan.FromSeconds(30);

    private static readonly Dictionary<string, string?> S3Lock = new() { ["LOCK_BACKEND"] = "s3" };

    private static Dictionary<string, string?> S3LockWith(params (string Name, string Value)[] more)
    {
        var environment = new Dictionary<string, string?>(S3Lock);
        foreach (var (name, value) in more)
        {
            environment[name] = value;
        }

        return environment;
    }

    private static JsonElement Results(LambdaResponse response)
    {
        Assert.True(response.StatusCode == 200, $"status {response.StatusCode}: {response.Body}");
        return JsonDocument.Parse(response.Body).RootElement.GetProperty("results");
    }

    private async Task<string> VersionedBucketAsync()
    {
        var bucket = await moto.CreateBucketAsync();
        await moto.S3.PutBucketVersioningAsync(new PutBucketVersioningRequest
        {
            BucketName = bucket,
            VersioningConfig = new S3BucketVersioningConfig { Status = VersionStatus.Enabled },
        });
        return bucket;
    }

    private async Task CreateCounterAsync(string bucket)
    {
        using var setup = new QueryRunnerInstance(moto, bucket, S3Lock);
        Results(await setup.PostAsync("/db/execute", StoredCounter.CreateJson));
    }

    private async Task<IReadOnlyList<string>> LeaseKeysAsync(string bucket) =>
        ((await moto.S3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = "databases/_locks/" })).S3Objects ?? [])
        .Select(o => o.Key)
        .ToList();

    private async Task<Lease?> StoredLeaseAsync(string bucket, string key = LeaseKey)
    {
        using var response = await moto.S3.GetObjectAsync(bucket, key);
        using var body = new MemoryStream();
        await response.ResponseStream.CopyToAsync(body);
        return Lease.TryParse(body.ToArray());
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var bound = new CancellationTokenSource(SignalTimeout);
        while (!condition())
        {
            Assert.False(bound.IsCancellationRequested, $"not seen within {SignalTimeout.TotalSeconds} s: {what}");
            await Task.Delay(TimeSpan.FromMilliseconds(20), CancellationToken.None);
        }
    }

    private async Task PutLeaseAsync(string bucket, string key, Lease lease) =>
        await moto.S3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = Encoding.UTF8.GetString(lease.ToJson()) });

    [Fact]
    public async Task Two_writers_take_turns_and_the_lease_exists_only_while_one_writes()
    {
        var bucket = await VersionedBucketAsync();
        await CreateCounterAsync(bucket);
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        var timeline = new ConcurrentQueue<string>();
        var a = new WriterSeams("A", timeline);
        using var writerA = new QueryRunnerInstance(moto, bucket, S3Lock, a.CreateHandler);
        using var writerB = new QueryRunnerInstance(moto, bucket, S3LockWith(("AWS_ENDPOINT_URL", proxy.Url.ToString())));

        a.CloseCommitGate();
        var writeA = writerA.PostAsync("/db/execute", StoredCounter.IncrementJson);
        await a.CommitReached.WaitAsync(SignalTimeout);

        var held = await StoredLeaseAsync(bucket);
        Assert.NotNull(held);
        Assert.False(string.IsNullOrEmpty(held.Holder));
        Assert.InRange(held.ExpiresAt - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(151));

        // B's creates are refused (412) while A holds the lease: the proxy shows them.
        var writeB = writerB.PostAsync("/db/execute", StoredCounter.IncrementJson);
        var leasePut = FaultRule.S3("PUT", $"/{bucket}/{LeaseKey}");
        await WaitUntilAsync(() => proxy.Where(leasePut).Count(e => e.UpstreamStatus == 412) >= 2, "B's lease creates refused twice");
        Assert.False(writeB.IsCompleted, "B answered while A held the lease");
        Assert.Equal(0, await StoredCounter.ReadAsync(moto, bucket));

        a.OpenCommitGate();
        Results(await writeA);
        Results(await writeB);

        Assert.Equal(2, await StoredCounter.ReadAsync(moto, bucket));
        Assert.Empty(await LeaseKeysAsync(bucket));

        // Each writer's release left a delete marker, and B's create succeeded on top of A's: S3 treats a
        // key whose current version is a delete marker as absent for If-None-Match: *.
        var versions = await moto.S3.ListVersionsAsync(new ListVersionsRequest { BucketName = bucket, Prefix = LeaseKey });
        Assert.True(versions.Versions.Count(v => v.IsDeleteMarker == true) >= 3, string.Join(", ", versions.Versions.Select(v => $"{v.VersionId} marker={v.IsDeleteMarker}")));
    }

    [Fact]
    public async Task Twenty_concurrent_writers_in_separate_containers_take_turns_and_lose_no_update()
    {
        const int writers = 20;
        var bucket = await VersionedBucketAsync();
        await CreateCounterAsync(bucket);
        var containers = Enumerable.Range(0, writers).Select(_ => new QueryRunnerInstance(moto, bucket, S3LockWith(("WRITE_ATTEMPTS", "1")))).ToList();
        try
        {
            using var start = new SemaphoreSlim(0);
            var answers = containers.Select(async container =>
            {
                await start.WaitAsync();
                return await container.PostAsync("/db/execute", StoredCounter.IncrementJson);
            }).ToList();
            start.Release(writers);
            var responses = await Task.WhenAll(answers);

            // One attempt each: with the lock, no writer's commit ever conflicts.
            Assert.All(responses, r => Assert.True(r.StatusCode == 200, $"status {r.StatusCode}: {r.Body}"));
            Assert.Equal(writers, await StoredCounter.ReadAsync(moto, bucket));
            Assert.Empty(await LeaseKeysAsync(bucket));
        }
        finally
        {
            containers.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_crashed_writers_live_lease_holds_writers_off_with_a_503_and_once_expired_is_taken_over()
    {
        var bucket = await VersionedBucketAsync();
        await CreateCounterAsync(bucket);
        var now = DateTimeOffset.UtcNow;
        await PutLeaseAsync(bucket, LeaseKey, new Lease("crashed-request", "crashed-lease", now, now.AddMinutes(2)));
        var a = new WriterSeams("A", new ConcurrentQueue<string>());
        using var writer = new QueryRunnerInstance(moto, bucket, S3LockWith(("LOCK_WAIT_SECONDS", "1")), a.CreateHandler);

        var refused = await writer.PostAsync("/db/execute", StoredCounter.IncrementJson);

        Assert.True(refused.StatusCode == 503, $"status {refused.StatusCode}: {refused.Body}");
        Assert.Contains("is held by another writer; not acquired within 1 s", refused.Body, StringComparison.Ordinal);
        Assert.Equal("1", refused.Headers["Retry-After"]);
        Assert.Equal(0, await StoredCounter.ReadAsync(moto, bucket));
        Assert.Equal("crashed-request", (await StoredLeaseAsync(bucket))?.Holder);

        // The crashed writer's lease ran out: the next writer overwrites exactly that version and writes.
        await PutLeaseAsync(bucket, LeaseKey, new Lease("crashed-request", "crashed-lease", now.AddMinutes(-5), now.AddSeconds(-1)));

        Results(await writer.PostAsync("/db/execute", StoredCounter.IncrementJson));

        Assert.Equal(1, await StoredCounter.ReadAsync(moto, bucket));
        Assert.Empty(await LeaseKeysAsync(bucket));
        var warning = JsonDocument.Parse(Assert.Single(a.LogLines, l => l.Contains("taken over from", StringComparison.Ordinal))).RootElement;
        Assert.Equal("warn", warning.GetProperty("level").GetString());
    }

    [Fact]
    public async Task The_reaper_deletes_an_expired_lease_and_keeps_a_live_one_and_what_is_not_a_lease()
    {
        var bucket = await VersionedBucketAsync();
        var now = DateTimeOffset.UtcNow;
        await PutLeaseAsync(bucket, "databases/_locks/orders.lease", new Lease("crashed-request", "dead", now.AddMinutes(-10), now.AddMinutes(-10) + TimeSpan.FromSeconds(150)));
        await PutLeaseAsync(bucket, "databases/_locks/inventory.lease", new Lease("live-request", "live", now, now.AddSeconds(150)));
        await moto.S3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "databases/_locks/README.txt", ContentBody = "not a lease" });
        await moto.S3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "other/_locks/orders.lease", ContentBody = "another prefix" });
        var reaper = new LockReaperInstance(
            moto,
            vpcId: "vpc-unused",
            new Dictionary<string, string?> { ["LOCK_BACKEND"] = "s3", ["DB_BUCKET"] = bucket, ["LOCK_STALE_SECONDS"] = "150", ["QUERY_RUNNER_TIMEOUT_SECONDS"] = "30" });

        var summary = await reaper.InvokeAsync();

        Assert.Equal(
            """{"found":2,"deleted":1,"alreadyGone":0,"kept":1,"failed":0,"deletedGroups":["databases/_locks/orders.lease"],"alreadyGoneGroups":[],"keptGroups":["databases/_locks/inventory.lease"],"failedGroups":[],""" +
            // DB_BUCKET is set, so the chunk collector ran too: this bucket has no chunked database.
            """ "chunks":{"databases":0,"manifests":0,"deleted":0,"deletedBytes":0,"kept":0,"young":0,"failed":0,"skipped":[]}}""".TrimStart(),
            summary.GetRawText());
        Assert.Equal(["databases/_locks/README.txt", "databases/_locks/inventory.lease"], await LeaseKeysAsync(bucket));
        Assert.Equal("live-request", (await StoredLeaseAsync(bucket, "databases/_locks/inventory.lease"))?.Holder);
        Assert.NotNull(await moto.S3.GetObjectMetadataAsync(bucket, "other/_locks/orders.lease"));
        var pass = JsonDocument.Parse(Assert.Single(reaper.LogLines, l => l.Contains("lock reaper pass", StringComparison.Ordinal))).RootElement;
        Assert.Equal(1, pass.GetProperty("deleted").GetInt32());
    }

    public static TheoryData<string> DroppedAnswers => ["the lease create", "the lease release"];

    /// <summary>
    /// A lease call lands at S3 and its answer is lost: the writer must recognise its own create (by its lease
    /// id) rather than wait for itself until LOCK_WAIT_SECONDS, and a lost release answer must leave no lease.
    /// </summary>
    [Theory]
    [MemberData(nameof(DroppedAnswers))]
    public async Task A_lease_call_whose_answer_is_dropped_leaves_every_write_applied_once_and_no_lease_behind(string dropped)
    {
        const int increments = 3;
        var bucket = await VersionedBucketAsync();
        await CreateCounterAsync(bucket);
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var writer = new QueryRunnerInstance(moto, bucket, S3LockWith(
            ("AWS_ENDPOINT_URL", proxy.Url.ToString()), ("STORAGE_RETRY_SECONDS", "2"), ("LOCK_WAIT_SECONDS", "5"), ("REQUEST_TIMEOUT_SECONDS", "10")));
        var rule = proxy.Add(FaultRule.DropAnswer(FaultRule.S3(dropped == "the lease create" ? "PUT" : "DELETE", $"/{bucket}/{LeaseKey}"), FaultTimes.First(1)));

        for (var i = 0; i < increments; i++)
        {
            Results(await writer.PostAsync("/db/execute", StoredCounter.IncrementJson).WaitAsync(SignalTimeout));
        }

        Assert.Equal(1, rule.Fired);
        Assert.Equal(increments, await StoredCounter.ReadAsync(moto, bucket));
        Assert.Empty(await LeaseKeysAsync(bucket));
        var leaseCalls = proxy.Where(r => r.Path == $"/{bucket}/{LeaseKey}").Select(e => $"{e.Request.Method} {e.UpstreamStatus}").ToList();
        if (dropped == "the lease create")
        {
            // The dropped create landed; the retry's create is refused (412) and the read shows our own lease.
            Assert.Equal(["PUT 200", "PUT 412", "GET 200", "DELETE 204"], leaseCalls.Take(4));
        }
        else
        {
            Assert.Equal(["PUT 200", "DELETE 204"], leaseCalls.Take(2));
        }
    }
}
