using System.Diagnostics;
using System.Text;
using ServerlessDb.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>
/// Several local servers in S3 mode (separate processes, the security-group lock, every S3 and EC2 call
/// through a <see cref="FaultProxy"/> of each writer's own) increment one counter concurrently while the
/// test SIGKILLs some of them mid-write (each kill aimed at the writer whose PUT has just landed and
/// whose answer is held, so the outcome is unknown to everyone but S3) and restarts them, the proxies
/// drop or delay some answers, and the LockReaper removes the killed writers' locks. Bounded: the whole
/// test must finish within <see cref="TestBudget"/>.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class TortureTests(MotoServerFixture moto, ITestOutputHelper output)
{
    private const int WriterCount = 3;
    private const int ClientsPerWriter = 1;
    private const int Kills = 2;
    private const int Seed = 20261201;
    private const int MaxAttemptsPerIncrement = 60;
    private static readonly TimeSpan TestBudget = TimeSpan.FromSeconds(58);
    private static readonly TimeSpan LoadPhase = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan AimDeadline = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FinishPhase = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ReapPhase = TimeSpan.FromSeconds(12);
    private static readonly TimeSpan WriterUpDeadline = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ReaperPassDeadline = TimeSpan.FromSeconds(10);

    // The QueryRunner's (here the local servers') request timeout is below the reaper's idea of the
    // QueryRunner timeout, and the staleness threshold just above that: a killed writer's lock is
    // reaped within seconds, a live writer's never.
    private const string RequestTimeoutSeconds = "5";
    private const string QueryRunnerTimeoutSeconds = "6";
    private const string LockStaleSeconds = "7";

    // The VPC is shared by the fault tests and created once, outside the budget.
    [Fact]
    public async Task Killed_writers_dropped_answers_and_the_reaper_leave_a_counter_the_answers_explain() =>
        await RunAsync(await SharedVpc.GetAsync(moto), idempotent: false).WaitAsync(TestBudget);

    /// <summary>Needs the Idempotency-Key feature (a retried key applies once, from any writer): without it, the aimed kill's write applies twice.</summary>
    [Fact]
    public async Task With_an_idempotency_key_per_increment_retried_until_200_the_counter_is_exact() =>
        await RunAsync(await SharedVpc.GetAsync(moto), idempotent: true).WaitAsync(TestBudget);

    private async Task RunAsync(string vpcId, bool idempotent)
    {
        var elapsed = Stopwatch.StartNew();
        var bucket = await moto.CreateBucketAsync();
        var lockNamePrefix = SharedVpc.NewLockNamePrefix();
        var cacheRoot = Directory.CreateTempSubdirectory("serverlessdb-torture-").FullName;
        var writers = new List<TortureWriter>();
        try
        {
            void Mark(string phase) => output.WriteLine($"{elapsed.Elapsed.TotalSeconds,5:0.0}s {phase}");
            Mark("bucket and VPC ready");
            using (var creator = new QueryRunnerInstance(moto, bucket))
            {
                var created = await creator.PostAsync("/db/execute", StoredCounter.CreateJson);
                Assert.True(created.StatusCode == 200, $"creating the counter: {created.StatusCode} {created.Body}");
            }

            var environment = new Dictionary<string, string?>
            {
                ["AWS_REGION"] = MotoServerFixture.Region,
                ["AWS_ACCESS_KEY_ID"] = MotoServerFixture.AccessKeyId,
                ["AWS_SECRET_ACCESS_KEY"] = MotoServerFixture.SecretAccessKey,
                ["DB_BUCKET"] = bucket,
                ["LOCK_VPC_ID"] = vpcId,
                ["LOCK_NAME_PREFIX"] = lockNamePrefix,
                ["REQUEST_TIMEOUT_SECONDS"] = RequestTimeoutSeconds,
                ["LOCK_WAIT_SECONDS"] = "3",
                ["STORAGE_RETRY_SECONDS"] = "3",
            };
            for (var i = 1; i <= WriterCount; i++)
            {
                writers.Add(new TortureWriter($"writer{i}", environment, cacheRoot, await FaultProxy.StartAsync(moto.EndpointUrl)));
            }

            await Task.WhenAll(writers.Select(w => w.StartAsync())).WaitAsync(WriterUpDeadline);
            Mark("writers up");

            var put = FaultRule.S3("PUT", $"/{bucket}/{StoredCounter.Key}");
            var rules = writers.SelectMany((w, i) => new[]
            {
                FaultRule.DropAnswer(put, FaultTimes.WithProbability(0.15, Seed + (10 * i))),
                FaultRule.DelayAnswer(put, FaultTimes.WithProbability(0.2, Seed + (10 * i) + 1), TimeSpan.FromMilliseconds(500)),
                FaultRule.DropAnswer(FaultRule.Ec2("CreateSecurityGroup"), FaultTimes.WithProbability(0.1, Seed + (10 * i) + 2)),
                FaultRule.DropAnswer(FaultRule.Ec2("DeleteSecurityGroup"), FaultTimes.WithProbability(0.1, Seed + (10 * i) + 3)),
            }.Select(w.Proxy.Add)).ToList();

            var reaper = new LockReaperInstance(moto, vpcId, new Dictionary<string, string?>
            {
                ["QUERY_RUNNER_TIMEOUT_SECONDS"] = QueryRunnerTimeoutSeconds,
                ["LOCK_STALE_SECONDS"] = LockStaleSeconds,
                ["LOCK_NAME_PREFIX"] = lockNamePrefix,
            });
            using var stopReaping = new CancellationTokenSource();
            var reaping = ReapEverySecondAsync(reaper, stopReaping.Token);

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
            using var stopLoad = new CancellationTokenSource(LoadPhase);
            var tally = new WriteTally();
            var logical = new LogicalIncrements();
            var clients = Enumerable.Range(0, WriterCount * ClientsPerWriter)
                .Select(c => idempotent
                    ? IdempotentClientAsync(http, writers, c, logical, stopLoad.Token)
                    : ClientAsync(http, writers[c % WriterCount], tally, stopLoad.Token))
                .ToList();
            // Spread over the first two thirds of the load phase, so the clients still run on the restarted writers.
            var aimedKills = await AimedKills.RunAsync(writers, put, Kills, LoadPhase * 2 / 3, AimDeadline, Seed, Mark).WaitAsync(LoadPhase + WriterUpDeadline);
            await Task.WhenAll(clients).WaitAsync(LoadPhase + FinishPhase);
            Mark("clients done");

            foreach (var writer in writers)
            {
                writer.Proxy.ClearRules();
            }

            await stopReaping.CancelAsync();
            await reaping.WaitAsync(ReaperPassDeadline);
            var leftover = await ReapUntilNoLockAsync(reaper, vpcId, lockNamePrefix);
            Mark("final reaper passes done");
            var stored = await StoredCounter.ReadAsync(moto, bucket);

            var context =
                $"after {elapsed.Elapsed.TotalSeconds:0.0}s; stored {stored}; answers: {tally.Applied} applied, {tally.MayHaveCommitted} may have committed, " +
                $"{tally.NotApplied} not applied, {tally.NoAnswer} no answer; logical increments {logical.Started} started, {logical.Answered200} answered 200 " +
                $"in {logical.Attempts} attempts; kills: {string.Join(", ", writers.Select(w => $"{w.Name} {w.Kills}"))} ({aimedKills} aimed at a held PUT answer); " +
                $"rules: {string.Join(", ", rules.Select(r => $"{r} fired {r.Fired}"))}{Environment.NewLine}" +
                $"reaper: {string.Join(" ", reaper.LogLines.Select(ReapedGroups).Where(g => g.Length > 0))}";
            output.WriteLine(context);
            output.WriteLine(tally.Describe());
            Assert.True(leftover.Count == 0, $"lock groups left after the final reaper passes: {string.Join(", ", leftover.Select(g => g.Name))}; {context}");
            Assert.Equal(Kills, writers.Sum(w => w.Kills));
            Assert.True(aimedKills > 0, $"no kill hit a writer whose PUT had landed unanswered, so the case tested less than it says: {context}");
            if (idempotent)
            {
                Assert.True(logical.Started > 0 && logical.Started == logical.Answered200,
                    $"{logical.Started} increments started, {logical.Answered200} answered 200: {context}");
                Assert.True(stored == logical.Answered200,
                    $"The stored counter is {stored}, but {logical.Answered200} logical increments (each retried with one Idempotency-Key until 200) were made " +
                    $"in {logical.Attempts} attempts: {context}");
            }
            else
            {
                Assert.True(tally.Applied > 0, $"no write answered 200, so the test showed nothing: {tally.Describe()}{Environment.NewLine}{context}");
                tally.AssertExplains(stored, context);
            }
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

    /// <summary>Increments back to back on one writer until the load phase ends; records each answer, or its absence.</summary>
    private static async Task ClientAsync(HttpClient http, TortureWriter writer, WriteTally tally, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var url = await writer.WhenUpAsync(WriterUpDeadline);
            var sent = await PostIncrementAsync(http, url, idempotencyKey: null);
            switch (sent)
            {
                case { Status: { } status }:
                    tally.Record(status, sent.Body);
                    break;
                case { Reached: false }:
                    tally.RecordNotSent(sent.Body);
                    break;
                default:
                    tally.RecordNoAnswer(sent.Body);
                    break;
            }
        }
    }

    /// <summary>
    /// Logical increments one after another, each with its own Idempotency-Key, sent to writer after writer
    /// (starting at this client's) until one answers 200; stops starting new ones when the load phase ends.
    /// </summary>
    private static async Task IdempotentClientAsync(HttpClient http, IReadOnlyList<TortureWriter> writers, int client, LogicalIncrements logical, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var key = Guid.NewGuid().ToString("N");
            logical.Start();
            for (var attempt = 0; ; attempt++)
            {
                Assert.True(attempt < MaxAttemptsPerIncrement, $"increment {key} got no 200 in {MaxAttemptsPerIncrement} attempts");
                var url = await writers[(client + attempt) % writers.Count].WhenUpAsync(WriterUpDeadline);
                logical.Attempt();
                var sent = await PostIncrementAsync(http, url, key);
                if (sent.Status == 200)
                {
                    logical.Answer200();
                    break;
                }
            }
        }
    }

    private static async Task<Sent> PostIncrementAsync(HttpClient http, Uri url, string? idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, "db/execute"))
        {
            Content = new StringContent(StoredCounter.IncrementJson, Encoding.UTF8, "application/json"),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        try
        {
            using var response = await http.SendAsync(request);
            return new Sent(true, (int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            // Refused: the writer was down between its kill and its restart; nothing was sent.
            return new Sent(false, null, $"not sent to {url}: {e.Message}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return new Sent(true, null, $"no answer from {url} (killed mid-request?): {e.Message}");
        }
    }

    /// <summary>The LockReaper's schedule, compressed: one pass a second until stopped.</summary>
    private static async Task ReapEverySecondAsync(LockReaperInstance reaper, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await reaper.InvokeAsync().WaitAsync(ReaperPassDeadline);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Reaper passes until one keeps no lock group (a killed writer's lock becomes stale LOCK_STALE_SECONDS
    /// after it was taken), bounded by <see cref="ReapPhase"/>; then the groups left, as the aws CLI sees them.
    /// </summary>
    private async Task<IReadOnlyList<DescribedGroup>> ReapUntilNoLockAsync(LockReaperInstance reaper, string vpcId, string lockNamePrefix)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < ReapPhase)
        {
            var summary = await reaper.InvokeAsync().WaitAsync(ReaperPassDeadline);
            if (summary.GetProperty("kept").GetInt32() == 0 && summary.GetProperty("failed").GetInt32() == 0)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }

        return await StoredCounter.LockGroupsAsync(moto, vpcId, lockNamePrefix);
    }

    private static string ReapedGroups(string logLine)
    {
        using var line = System.Text.Json.JsonDocument.Parse(logLine);
        return line.RootElement.TryGetProperty("deletedGroups", out var deleted) && deleted.GetArrayLength() > 0
            ? $"{line.RootElement.GetProperty("time").GetString()} deleted {deleted}"
            : "";
    }

    private sealed record Sent(bool Reached, int? Status, string Body);
}
