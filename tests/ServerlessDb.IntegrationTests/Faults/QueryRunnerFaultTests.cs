using ServerlessDb.IntegrationTests.Infrastructure;

namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>
/// The real QueryRunner handler (S3 store, security-group lock, engine) with every S3 and EC2 call
/// going through the <see cref="FaultProxy"/>: each case scripts one kind of fault, runs a sequence of
/// counter increments, and checks what is stored in moto (read directly) against what the answers
/// said, and that no lock group is left in the VPC.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class QueryRunnerFaultTests(MotoServerFixture moto)
{
    private const int Increments = 4;
    private static readonly TimeSpan InvocationDeadline = TimeSpan.FromSeconds(30);

    /// <summary>Small budgets so that a case takes seconds: one S3 attempt and the whole retry end after STORAGE_RETRY_SECONDS.</summary>
    private static Dictionary<string, string?> Budgets(Uri proxy, string vpcId, string lockNamePrefix) => new()
    {
        ["AWS_ENDPOINT_URL"] = proxy.ToString(),
        ["LOCK_VPC_ID"] = vpcId,
        ["LOCK_NAME_PREFIX"] = lockNamePrefix,
        ["STORAGE_RETRY_SECONDS"] = "2",
        ["LOCK_WAIT_SECONDS"] = "2",
        ["REQUEST_TIMEOUT_SECONDS"] = "6",
    };

    public static TheoryData<string> RecoverableFaults =>
    [
        "s3 500 InternalError on the first PUT",
        "s3 503 SlowDown on a third of the GETs, HEADs and PUTs",
        "PUT lands but its answer is dropped, once",
        "PUT reset before forwarding, twice",
        "GET reset before forwarding, once",
        "EC2 RequestLimitExceeded on creates and deletes",
        "CreateSecurityGroup lands but its answer is dropped",
        "DeleteSecurityGroup lands but its answer is dropped",
    ];

    public static TheoryData<string> UnknowableFaults =>
    [
        "PUT lands but its answer is dropped, on every attempt",
        "PUT answered after STORAGE_RETRY_SECONDS",
    ];

    /// <summary>
    /// Faults a retry within the request's budget gets past: every increment answers 200 and is applied
    /// exactly once. A landed PUT whose answer was lost must be recognised by its commit id, not applied again.
    /// </summary>
    [Theory]
    [MemberData(nameof(RecoverableFaults))]
    public async Task A_fault_the_retries_get_past_leaves_every_write_applied_once_and_answered_200(string fault)
    {
        var (tally, stored, proxy) = await RunIncrementsAsync(fault);

        tally.AssertExplains(stored, proxy);
        Assert.True(
            tally.Applied == Increments && stored == Increments,
            $"{fault}: expected {Increments} writes answered 200 and a stored counter of {Increments}; got {tally.Applied} and {stored}.{Environment.NewLine}{tally.Describe()}{Environment.NewLine}{proxy}");
    }

    /// <summary>
    /// Faults after which the outcome truly cannot be known within the request's time: the answer must
    /// say the write "may have been committed", and the stored counter must be explained by the answers.
    /// </summary>
    [Theory]
    [MemberData(nameof(UnknowableFaults))]
    public async Task A_fault_that_hides_the_outcome_is_answered_may_have_been_committed(string fault)
    {
        var (tally, stored, proxy) = await RunIncrementsAsync(fault);

        tally.AssertExplains(stored, proxy);
        Assert.True(tally.NotApplied == 0, $"{fault}: a write that may have landed was answered as not applied.{Environment.NewLine}{tally.Describe()}{Environment.NewLine}{proxy}");
    }

    private static IEnumerable<FaultRule> RulesFor(string fault, string bucket)
    {
        var put = FaultRule.S3("PUT", $"/{bucket}/{StoredCounter.Key}");
        var anyOnKey = (Func<ProxiedRequest, bool>)(r => r.Ec2Action is null && r.Path == $"/{bucket}/{StoredCounter.Key}");
        return fault switch
        {
            "s3 500 InternalError on the first PUT" => [FaultRule.S3Error(put, FaultTimes.First(1))],
            "s3 503 SlowDown on a third of the GETs, HEADs and PUTs" => [FaultRule.SlowDown(anyOnKey, FaultTimes.WithProbability(0.33, seed: 20261201))],
            "PUT lands but its answer is dropped, once" => [FaultRule.DropAnswer(put, FaultTimes.First(1))],
            "PUT lands but its answer is dropped, on every attempt" => [FaultRule.DropAnswer(put, FaultTimes.Every)],
            "PUT answered after STORAGE_RETRY_SECONDS" => [FaultRule.DelayAnswer(put, FaultTimes.First(1), TimeSpan.FromSeconds(3))],
            "PUT reset before forwarding, twice" => [FaultRule.ResetBeforeForward(put, FaultTimes.First(2))],
            "GET reset before forwarding, once" => [FaultRule.ResetBeforeForward(FaultRule.S3("GET", $"/{bucket}/{StoredCounter.Key}"), FaultTimes.First(1))],
            "EC2 RequestLimitExceeded on creates and deletes" =>
            [
                FaultRule.Ec2Throttle(FaultRule.Ec2("CreateSecurityGroup"), FaultTimes.First(2)),
                FaultRule.Ec2Throttle(FaultRule.Ec2("DeleteSecurityGroup"), FaultTimes.After(1, 2)),
            ],
            "CreateSecurityGroup lands but its answer is dropped" => [FaultRule.DropAnswer(FaultRule.Ec2("CreateSecurityGroup"), FaultTimes.After(1, 1))],
            "DeleteSecurityGroup lands but its answer is dropped" => [FaultRule.DropAnswer(FaultRule.Ec2("DeleteSecurityGroup"), FaultTimes.After(1, 1))],
            _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, "no such fault case"),
        };
    }

    /// <summary>Creates the counter (no faults yet), scripts <paramref name="fault"/>, runs the increments one after another, and reads back what is stored.</summary>
    private async Task<(WriteTally Tally, long Stored, string Proxy)> RunIncrementsAsync(string fault)
    {
        var bucket = await moto.CreateBucketAsync();
        var vpcId = await SharedVpc.GetAsync(moto);
        var lockNamePrefix = SharedVpc.NewLockNamePrefix();
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var runner = new QueryRunnerInstance(moto, bucket, Budgets(proxy.Url, vpcId, lockNamePrefix));
        var created = await runner.PostAsync("/db/execute", StoredCounter.CreateJson).WaitAsync(InvocationDeadline);
        Assert.True(created.StatusCode == 200, $"creating the counter: {created.StatusCode} {created.Body}");

        var rules = RulesFor(fault, bucket).Select(proxy.Add).ToList();
        var tally = new WriteTally();
        for (var i = 0; i < Increments; i++)
        {
            var answer = await runner.PostAsync("/db/execute", StoredCounter.IncrementJson).WaitAsync(InvocationDeadline);
            tally.Record(answer.StatusCode, answer.Body);
        }

        proxy.ClearRules();
        var record = $"{fault}; rules: {string.Join(", ", rules)}{Environment.NewLine}proxy:{Environment.NewLine}{proxy.Describe()}";
        Assert.True(rules.All(r => r.Fired > 0), $"a scripted fault never fired, so the case tested nothing: {record}");
        var stored = await StoredCounter.ReadAsync(moto, bucket);
        // Each PUT moto stored is one version, the first creating the counter and each later one adding 1.
        var landedPuts = proxy.Where(FaultRule.S3("PUT", $"/{bucket}/{StoredCounter.Key}")).Count(e => e.Landed);
        Assert.True(landedPuts == 1 + stored, $"{landedPuts} PUTs landed, but the counter is {stored}: {record}");
        var leftover = await StoredCounter.LockGroupsAsync(moto, vpcId, lockNamePrefix);
        Assert.True(leftover.Count == 0, $"lock groups left behind: {string.Join(", ", leftover.Select(g => g.Name))}{Environment.NewLine}{tally.Describe()}{Environment.NewLine}{record}");
        return (tally, stored, record);
    }
}
