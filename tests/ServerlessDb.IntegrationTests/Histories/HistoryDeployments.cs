using System.Diagnostics;
using Amazon.S3.Model;
using ServerlessDb.IntegrationTests.Faults;
using ServerlessDb.IntegrationTests.Infrastructure;

namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>
/// Deployments as they really are, each running the list-append workload and checked afterwards: a rolling
/// change (warm QueryRunner containers with every lock backend and both storage layouts at once, the chunked ones
/// reading lazily and writing in place, so writers overlap with only the conditional commit between them and the
/// database converts back and forth), the
/// same under the fault proxy, and local-server writers killed mid-commit. The tests run them bounded; the
/// history soak (bench/ServerlessDb.HistorySoak) runs them for minutes.
/// </summary>
public static class HistoryDeployments
{
    public const string RollingChange = "rolling change";
    public const string RollingChangeUnderFaults = "rolling change under faults";
    public const string KilledWriters = "killed writers";

    private const int Kills = 2;
    private const string LayoutMetadata = "x-amz-meta-serverlessdb-layout";
    private static readonly TimeSpan AimDeadline = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan WriterUpDeadline = TimeSpan.FromSeconds(60);

    /// <summary>Every lock backend with both layouts: one container each.</summary>
    private static readonly (string Lock, string Layout)[] Mix =
    [
        ("ec2", "whole"), ("s3", "chunked"), ("none", "whole"), ("ec2", "chunked"), ("s3", "whole"), ("none", "chunked"),
    ];

    /// <summary>The writers of the killed-writer run: local servers in S3 mode, one with the lease lock (a killed holder's lease expires after 7 s), two with none.</summary>
    private static readonly (string Lock, string Layout)[] KilledMix = [("none", "whole"), ("s3", "chunked"), ("none", "chunked")];

    /// <param name="paddingMib">makes the database this many MiB larger, and so every whole-file commit (the soak's option).</param>
    public static async Task<HistoryRun> RollingChangeAsync(MotoServerFixture moto, int seed, TimeSpan duration, bool faults, int paddingMib = 0)
    {
        var elapsed = Stopwatch.StartNew();
        var bucket = await CreateDatabaseAsync(moto, paddingMib);
        var vpcId = await SharedVpc.GetAsync(moto);
        var lockNamePrefix = SharedVpc.NewLockNamePrefix();
        await using var proxy = faults ? await FaultProxy.StartAsync(moto.EndpointUrl) : null;
        var clients = Mix.Select((c, i) =>
        {
            var environment = new Dictionary<string, string?>
            {
                ["LOCK_BACKEND"] = c.Lock,
                ["STORAGE_LAYOUT"] = c.Layout,
                ["CHUNK_SIZE_MIB"] = "1",

                // The chunked containers read lazily and write in place whatever the database's size, so those paths
                // overlap with whole-file writers and each other in every history.
                ["LAZY_READ_MIN_BYTES"] = c.Layout == "chunked" ? "0" : null,
                ["LOCK_NAME_PREFIX"] = lockNamePrefix,
                ["LOCK_VPC_ID"] = c.Lock == "ec2" ? vpcId : null,
                ["STORAGE_RETRY_SECONDS"] = "2",
                ["LOCK_WAIT_SECONDS"] = "2",
                ["REQUEST_TIMEOUT_SECONDS"] = "8",
            };
            if (proxy is not null)
            {
                environment["AWS_ENDPOINT_URL"] = proxy.Url.ToString();
            }

            return new LambdaHistoryClient($"c{i + 1}-{c.Lock}-{c.Layout}", new QueryRunnerInstance(moto, bucket, environment));
        }).ToList();
        try
        {
            var rules = proxy is null ? [] : FaultRules(bucket, seed).Select(proxy.Add).ToList();
            var workload = new ListAppendWorkload(seed);
            await workload.RunAsync(clients, duration);
            proxy?.ClearRules();

            var facts = await StoredFactsAsync(moto, bucket);
            facts["commits in place"] = clients.Sum(c => c.CommitsInPlace);
            foreach (var rule in rules)
            {
                facts[$"fault '{rule}' fired"] = rule.Fired;
            }

            return await CheckAsync(moto, bucket, faults ? RollingChangeUnderFaults : RollingChange, seed, workload, facts, elapsed);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    public static async Task<HistoryRun> KilledWritersAsync(MotoServerFixture moto, int seed, TimeSpan duration, int paddingMib = 0)
    {
        var elapsed = Stopwatch.StartNew();
        var bucket = await CreateDatabaseAsync(moto, paddingMib);
        var cacheRoot = Directory.CreateTempSubdirectory("serverlessdb-history-").FullName;
        var writers = new List<TortureWriter>();
        try
        {
            for (var i = 0; i < KilledMix.Length; i++)
            {
                var environment = new Dictionary<string, string?>
                {
                    ["AWS_REGION"] = MotoServerFixture.Region,
                    ["AWS_ACCESS_KEY_ID"] = MotoServerFixture.AccessKeyId,
                    ["AWS_SECRET_ACCESS_KEY"] = MotoServerFixture.SecretAccessKey,
                    ["DB_BUCKET"] = bucket,
                    ["LOCK_BACKEND"] = KilledMix[i].Lock,
                    ["STORAGE_LAYOUT"] = KilledMix[i].Layout,
                    ["CHUNK_SIZE_MIB"] = "1",
                    ["REQUEST_TIMEOUT_SECONDS"] = "5",
                    ["LOCK_STALE_SECONDS"] = "7",
                    ["LOCK_WAIT_SECONDS"] = "3",
                    ["STORAGE_RETRY_SECONDS"] = "3",
                };
                writers.Add(new TortureWriter($"w{i + 1}-{KilledMix[i].Lock}-{KilledMix[i].Layout}", environment, cacheRoot, await FaultProxy.StartAsync(moto.EndpointUrl)));
            }

            await Task.WhenAll(writers.Select(w => w.StartAsync())).WaitAsync(WriterUpDeadline);
            var put = FaultRule.S3("PUT", $"/{bucket}/{ListAppendWorkload.Key}");
            var rules = writers.SelectMany((w, i) => new[]
            {
                FaultRule.DropAnswer(put, FaultTimes.WithProbability(0.1, seed + (10 * i))),
                FaultRule.DelayAnswer(put, FaultTimes.WithProbability(0.1, seed + (10 * i) + 1), TimeSpan.FromMilliseconds(500)),
            }.Select(w.Proxy.Add)).ToList();

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
            var workload = new ListAppendWorkload(seed);
            var running = workload.RunAsync(writers.Select(w => (IHistoryClient)new HttpHistoryClient(w, http)).ToList(), duration);
            var aimed = await AimedKills.RunAsync(writers, put, Kills, duration, AimDeadline, seed, _ => { }).WaitAsync(duration + WriterUpDeadline);
            await running;
            writers.ForEach(w => w.Proxy.ClearRules());

            var facts = await StoredFactsAsync(moto, bucket);
            facts["kills"] = writers.Sum(w => w.Kills);
            facts["kills with a landed PUT's answer held"] = aimed;
            foreach (var rule in rules)
            {
                facts[$"fault '{rule}' fired"] = rule.Fired;
            }

            return await CheckAsync(moto, bucket, KilledWriters, seed, workload, facts, elapsed);
        }
        finally
        {
            foreach (var writer in writers)
            {
                await writer.DisposeAsync();
                await writer.Proxy.DisposeAsync();
            }

            Directory.Delete(cacheRoot, recursive: true);
        }
    }

    /// <summary>S3 and EC2 faults, each on a seeded share of the requests it matches.</summary>
    private static IEnumerable<FaultRule> FaultRules(string bucket, int seed)
    {
        var put = FaultRule.S3("PUT", $"/{bucket}/{ListAppendWorkload.Key}");
        var get = FaultRule.S3("GET", $"/{bucket}/{ListAppendWorkload.Key}");
        var anyS3 = (Func<ProxiedRequest, bool>)(r => r.Ec2Action is null && r.Path.StartsWith($"/{bucket}/", StringComparison.Ordinal));
        return
        [
            FaultRule.DropAnswer(put, FaultTimes.WithProbability(0.08, seed + 1)),
            // Later than STORAGE_RETRY_SECONDS: the writer cannot know in time whether it landed.
            FaultRule.DelayAnswer(put, FaultTimes.WithProbability(0.04, seed + 2), TimeSpan.FromSeconds(2.5)),
            FaultRule.DropAnswer(get, FaultTimes.WithProbability(0.04, seed + 3)),
            FaultRule.DelayAnswer(get, FaultTimes.WithProbability(0.05, seed + 4), TimeSpan.FromMilliseconds(600)),
            FaultRule.S3Error(anyS3, FaultTimes.WithProbability(0.04, seed + 5)),
            FaultRule.SlowDown(anyS3, FaultTimes.WithProbability(0.04, seed + 6)),
            FaultRule.ResetBeforeForward(anyS3, FaultTimes.WithProbability(0.02, seed + 7)),
            FaultRule.Ec2Throttle(FaultRule.Ec2("CreateSecurityGroup"), FaultTimes.WithProbability(0.1, seed + 8)),
            FaultRule.DropAnswer(FaultRule.Ec2("CreateSecurityGroup"), FaultTimes.WithProbability(0.05, seed + 9)),
            FaultRule.DropAnswer(FaultRule.Ec2("DeleteSecurityGroup"), FaultTimes.WithProbability(0.05, seed + 10)),
        ];
    }

    /// <summary>A versioned bucket (as the template deploys it) holding the workload's table, created through a plain container.</summary>
    private static async Task<string> CreateDatabaseAsync(MotoServerFixture moto, int paddingMib)
    {
        var bucket = await moto.CreateVersionedBucketAsync();
        using var creator = new QueryRunnerInstance(moto, bucket);
        var created = await creator.PostAsync("/db/execute", ListAppendWorkload.CreateJson(paddingMib), $"db={ListAppendWorkload.Database}");
        return created.StatusCode == 200
            ? bucket
            : throw new InvalidOperationException($"creating the workload's table answered {created.StatusCode}: {created.Body}");
    }

    /// <summary>The commits stored (versions of the database's key) and how often the layout changed from one to the next.</summary>
    private static async Task<Dictionary<string, int>> StoredFactsAsync(MotoServerFixture moto, string bucket)
    {
        var versions = new List<S3ObjectVersion>();
        ListVersionsResponse page;
        var request = new ListVersionsRequest { BucketName = bucket, Prefix = ListAppendWorkload.Key };
        do
        {
            page = await moto.S3.ListVersionsAsync(request);
            versions.AddRange((page.Versions ?? []).Where(v => v.Key == ListAppendWorkload.Key && v.IsDeleteMarker != true));
            request.KeyMarker = page.NextKeyMarker;
            request.VersionIdMarker = page.NextVersionIdMarker;
        }
        while (page.IsTruncated == true);

        var layouts = new List<string>();
        // S3 lists a key's versions newest first.
        foreach (var version in Enumerable.Reverse(versions))
        {
            var head = await moto.S3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = version.Key, VersionId = version.VersionId });
            layouts.Add(head.Metadata.Keys.Contains(LayoutMetadata) ? head.Metadata[LayoutMetadata] : "whole");
        }

        return new Dictionary<string, int>
        {
            ["commits"] = versions.Count,
            ["layout changes between commits"] = layouts.Zip(layouts.Skip(1)).Count(p => p.First != p.Second),
        };
    }

    private static async Task<HistoryRun> CheckAsync(
        MotoServerFixture moto,
        string bucket,
        string deployment,
        int seed,
        ListAppendWorkload workload,
        Dictionary<string, int> facts,
        Stopwatch elapsed)
    {
        // A fresh container straight on moto, after every operation ended: the final order of each key.
        using var reader = new LambdaHistoryClient("final", new QueryRunnerInstance(moto, bucket));
        var final = await ListAppendWorkload.ReadFinalAsync(reader);
        var report = HistoryChecker.Check(workload.Recorder.Operations, final);
        return new HistoryRun(deployment, seed, elapsed.Elapsed, report, facts);
    }
}
