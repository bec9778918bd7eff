using System.Globalization;
using System.Text.Json;
using ServerlessDb.IntegrationTests.Faults;
using ServerlessDb.IntegrationTests.Infrastructure;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// Writes in place, through the real QueryRunner handler on moto: a container that has no current copy of a large
/// chunked database writes to it without downloading it (its changed pages in an overlay, the rest fetched by range),
/// and commits only the chunks it changed and the manifest, exactly once, under the same faults and races as every
/// commit. Each test reads back what is stored with a container that downloads the whole database.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class InPlaceWriteEndToEndTests(MotoServerFixture moto)
{
    private const string Key = "databases/default.sqlite";
    private const string ChunkPrefix = "databases/_chunks/default/";
    private const int ChunkBytes = 2 * 1024 * 1024;

    // About 24 MB: 6,000 rows of 4 KB and an index, past the lazy threshold, so every container writes in place.
    private const string Build = """["CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT, blob BLOB)", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000) INSERT INTO big (name, blob) SELECT printf('name-%05d', i), randomblob(4000) FROM n", "CREATE INDEX big_by_name ON big(name)", "CREATE TABLE counter (n INTEGER NOT NULL)", "INSERT INTO counter VALUES (0)"]""";
    private const string Increment = """["UPDATE counter SET n = n + 1"]""";

    private static Dictionary<string, string?> Settings(Uri? endpoint = null, int? retrySeconds = null, string? lockBackend = null)
    {
        var settings = new Dictionary<string, string?> { ["STORAGE_LAYOUT"] = "chunked", ["LAZY_READ_MIN_BYTES"] = (8 * 1024 * 1024).ToString(CultureInfo.InvariantCulture) };
        if (endpoint is not null)
        {
            settings["AWS_ENDPOINT_URL"] = endpoint.ToString();
        }

        if (retrySeconds is { } seconds)
        {
            settings["STORAGE_RETRY_SECONDS"] = seconds.ToString(CultureInfo.InvariantCulture);
            settings["REQUEST_TIMEOUT_SECONDS"] = (seconds + 8).ToString(CultureInfo.InvariantCulture);
            settings["LOCK_WAIT_SECONDS"] = (seconds + 4).ToString(CultureInfo.InvariantCulture);
        }

        if (lockBackend is not null)
        {
            settings["LOCK_BACKEND"] = lockBackend;
        }

        return settings;
    }

    // A container that reads the database whole: what is stored, independently of the in-place path.
    private static Dictionary<string, string?> Downloading() => new() { ["LAZY_READ_MIN_BYTES"] = "off" };

    private static void AssertOk(LambdaResponse response) => Assert.True(response.StatusCode == 200, $"status {response.StatusCode}: {response.Body}");

    private static string Scalar(LambdaResponse answer)
    {
        AssertOk(answer);
        using var document = JsonDocument.Parse(answer.Body);
        return document.RootElement.GetProperty("results")[0].GetProperty("values")[0][0].ToString();
    }

    private async Task<string> CreateAsync()
    {
        var bucket = await moto.CreateBucketAsync();
        using var creator = new QueryRunnerInstance(moto, bucket, Settings());
        AssertOk(await creator.PostAsync("/db/execute", Build));
        return bucket;
    }

    private static long BodyBytes(ProxiedExchange exchange) =>
        long.Parse(
            exchange.Headers.TryGetValue("x-amz-decoded-content-length", out var decoded) ? decoded
            : exchange.Headers.TryGetValue("Content-Length", out var length) ? length : "0",
            CultureInfo.InvariantCulture);

    private static long FolderBytes(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(file => new FileInfo(file).Length);

    [Fact]
    public async Task A_cold_container_writes_a_row_without_downloading_the_database_and_commits_only_the_chunks_it_changed()
    {
        var bucket = await CreateAsync();
        var stored = (await moto.S3.GetObjectMetadataAsync(bucket, Key)).ETag;
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var writer = new QueryRunnerInstance(moto, bucket, Settings(proxy.Url));

        var answer = await writer.PostAsync("/db/execute", """["INSERT INTO big (name, blob) VALUES ('added', x'00')", "UPDATE counter SET n = 41"]""");

        AssertOk(answer);
        var gets = proxy.Exchanges.Where(e => e.Request.Method == "GET" && e.Landed).ToList();
        var fetched = gets.Sum(e => e.Headers.TryGetValue("Range", out _) ? 1 : 0);
        var puts = proxy.Exchanges.Where(e => e.Request.Method == "PUT" && e.Landed).DistinctBy(e => e.Request.Path).ToList();
        var chunkPuts = puts.Count(e => e.Request.Path.StartsWith($"/{bucket}/{ChunkPrefix}", StringComparison.Ordinal));
        Assert.True(chunkPuts is >= 1 and <= 3, $"{chunkPuts} chunk PUTs: {proxy.Describe()}");
        Assert.Single(puts, e => e.Request.Path == $"/{bucket}/{Key}");
        Assert.True(puts.Sum(BodyBytes) <= 3 * ChunkBytes + 16 * 1024, $"the write uploaded {puts.Sum(BodyBytes)} bytes");
        Assert.True(fetched is > 0 and <= 24, $"{fetched} ranged GETs: {proxy.Describe()}");
        Assert.True(FolderBytes(writer.CacheDirectory) < 12 * 1024 * 1024, $"the writer's /tmp holds {FolderBytes(writer.CacheDirectory)} bytes");
        Assert.NotEqual(stored, (await moto.S3.GetObjectMetadataAsync(bucket, Key)).ETag);

        using var reader = new QueryRunnerInstance(moto, bucket, Downloading());
        Assert.Equal("41", Scalar(await reader.GetAsync("/db/query", "q=SELECT%20n%20FROM%20counter")));
        Assert.Equal("6001", Scalar(await reader.GetAsync("/db/query", "q=SELECT%20count(*)%20FROM%20big")));
        Assert.Equal("1", Scalar(await reader.GetAsync("/db/query", "q=SELECT%20length(blob)%20FROM%20big%20WHERE%20name%3D'added'")));
        Assert.Equal("ok", Scalar(await reader.GetAsync("/db/query", "q=PRAGMA%20integrity_check")));
    }

    [Fact]
    public async Task Writes_in_place_one_after_another_each_build_on_the_last_and_a_read_only_request_commits_nothing()
    {
        var bucket = await CreateAsync();
        using var writer = new QueryRunnerInstance(moto, bucket, Settings());
        for (var i = 0; i < 3; i++)
        {
            AssertOk(await writer.PostAsync("/db/execute", Increment));
        }

        var before = (await moto.S3.GetObjectMetadataAsync(bucket, Key)).ETag;
        AssertOk(await writer.PostAsync("/db/execute", """["UPDATE counter SET n = n WHERE 0"]"""));
        Assert.Equal(before, (await moto.S3.GetObjectMetadataAsync(bucket, Key)).ETag);

        using var reader = new QueryRunnerInstance(moto, bucket, Downloading());
        Assert.Equal("3", Scalar(await reader.GetAsync("/db/query", "q=SELECT%20n%20FROM%20counter")));
        Assert.Equal("ok", Scalar(await reader.GetAsync("/db/query", "q=PRAGMA%20integrity_check")));
    }

    [Fact]
    public async Task Concurrent_writers_in_place_without_a_lock_lose_no_increment()
    {
        var bucket = await CreateAsync();
        var writers = Enumerable.Range(0, 3).Select(_ => new QueryRunnerInstance(moto, bucket, Settings(lockBackend: "none"))).ToList();
        try
        {
            const int Each = 3;
            var answers = await Task.WhenAll(writers.Select(async writer =>
            {
                var statuses = new List<LambdaResponse>();
                for (var i = 0; i < Each; i++)
                {
                    statuses.Add(await writer.PostAsync("/db/execute", Increment));
                }

                return statuses;
            }));

            Assert.All(answers.SelectMany(a => a), AssertOk);
            using var reader = new QueryRunnerInstance(moto, bucket, Downloading());
            Assert.Equal((writers.Count * Each).ToString(CultureInfo.InvariantCulture), Scalar(await reader.GetAsync("/db/query", "q=SELECT%20n%20FROM%20counter")));
        }
        finally
        {
            writers.ForEach(w => w.Dispose());
        }
    }

    public static TheoryData<string> Faults =>
    [
        "manifest PUT lands but its answer is dropped, once",
        "chunk PUTs fail with 500 twice",
        "ranged GETs reset before forwarding, twice",
        "s3 503 SlowDown on a third of all requests",
    ];

    /// <summary>Faults the retries get past: every increment in place is answered 200 and applied exactly once.</summary>
    [Theory]
    [MemberData(nameof(Faults))]
    public async Task Under_faults_every_write_in_place_is_applied_exactly_once(string fault)
    {
        var bucket = await CreateAsync();
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var writer = new QueryRunnerInstance(moto, bucket, Settings(proxy.Url, retrySeconds: 3));
        var rule = proxy.Add(fault switch
        {
            "manifest PUT lands but its answer is dropped, once" => FaultRule.DropAnswer(FaultRule.S3("PUT", $"/{bucket}/{Key}"), FaultTimes.First(1)),
            "chunk PUTs fail with 500 twice" => FaultRule.S3Error(r => r.Method == "PUT" && r.Path.StartsWith($"/{bucket}/{ChunkPrefix}", StringComparison.Ordinal), FaultTimes.First(2)),
            "ranged GETs reset before forwarding, twice" => FaultRule.ResetBeforeForward(r => r.Method == "GET" && r.Path.StartsWith($"/{bucket}/{ChunkPrefix}", StringComparison.Ordinal), FaultTimes.First(2)),
            "s3 503 SlowDown on a third of all requests" => FaultRule.SlowDown(r => r.Ec2Action is null, FaultTimes.WithProbability(0.33, seed: 20261207)),
            _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, "no such fault case"),
        });

        const int Increments = 4;
        for (var i = 0; i < Increments; i++)
        {
            var answer = await writer.PostAsync("/db/execute", Increment);
            Assert.True(answer.StatusCode == 200, $"{fault}: increment {i + 1}: {answer.StatusCode} {answer.Body}{Environment.NewLine}{proxy.Describe()}");
        }

        proxy.ClearRules();
        Assert.True(rule.Fired > 0, $"the fault never fired: {proxy.Describe()}");
        using var reader = new QueryRunnerInstance(moto, bucket, Downloading());
        Assert.Equal(Increments.ToString(CultureInfo.InvariantCulture), Scalar(await reader.GetAsync("/db/query", "q=SELECT%20n%20FROM%20counter")));
        Assert.Equal("ok", Scalar(await reader.GetAsync("/db/query", "q=PRAGMA%20integrity_check")));
    }

    /// <summary>
    /// A manifest PUT that lands but answers after STORAGE_RETRY_SECONDS: the outcome may not be knowable in time, so an
    /// answer may say "may have been committed", never "not applied", and what is stored is explained by the answers.
    /// </summary>
    [Fact]
    public async Task A_manifest_put_answered_late_leaves_every_write_in_place_applied_once_or_said_to_be_unknown()
    {
        var bucket = await CreateAsync();
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var writer = new QueryRunnerInstance(moto, bucket, Settings(proxy.Url, retrySeconds: 2));
        var rule = proxy.Add(FaultRule.DelayAnswer(FaultRule.S3("PUT", $"/{bucket}/{Key}"), FaultTimes.First(1), TimeSpan.FromSeconds(3)));
        var tally = new WriteTally();

        for (var i = 0; i < 4; i++)
        {
            var answer = await writer.PostAsync("/db/execute", Increment);
            tally.Record(answer.StatusCode, answer.Body);
        }

        proxy.ClearRules();
        Assert.True(rule.Fired > 0, $"the fault never fired: {proxy.Describe()}");
        using var reader = new QueryRunnerInstance(moto, bucket, Downloading());
        var stored = long.Parse(Scalar(await reader.GetAsync("/db/query", "q=SELECT%20n%20FROM%20counter")), CultureInfo.InvariantCulture);
        tally.AssertExplains(stored, proxy.Describe());
        Assert.True(tally.NotApplied == 0, $"a write that may have landed was answered as not applied:{Environment.NewLine}{tally.Describe()}");
        Assert.True(tally.Applied >= 3, $"only {tally.Applied} writes answered 200:{Environment.NewLine}{tally.Describe()}");
    }

    [Fact]
    public async Task A_write_in_place_whose_fetches_never_answer_is_a_503_and_stores_nothing()
    {
        var bucket = await CreateAsync();
        var before = (await moto.S3.GetObjectMetadataAsync(bucket, Key)).ETag;
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var writer = new QueryRunnerInstance(moto, bucket, Settings(proxy.Url, retrySeconds: 2));
        proxy.Add(FaultRule.S3Error(r => r.Method == "GET" && r.Path.StartsWith($"/{bucket}/{ChunkPrefix}", StringComparison.Ordinal), FaultTimes.Every));

        var answer = await writer.PostAsync("/db/execute", """["INSERT INTO big (name, blob) VALUES ('never', x'00')"]""");

        Assert.True(answer.StatusCode == 503, $"status {answer.StatusCode}: {answer.Body}");
        Assert.DoesNotContain("\"results\"", answer.Body, StringComparison.Ordinal);
        Assert.Equal(before, (await moto.S3.GetObjectMetadataAsync(bucket, Key)).ETag);
        Assert.DoesNotContain(proxy.Exchanges, e => e.Request.Method == "PUT" && e.Landed);
    }
}
