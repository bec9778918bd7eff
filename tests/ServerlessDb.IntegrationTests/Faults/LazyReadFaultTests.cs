using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Amazon.S3.Model;
using ServerlessDb.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using static ServerlessDb.IntegrationTests.Infrastructure.LazyReadDatabases;

namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>
/// Lazy reads under faults, through the real QueryRunner handler with the reader's S3 calls going through the
/// <see cref="FaultProxy"/>, each fault aimed at the lazy reader's ranged GETs only (a window of the whole file, or a
/// chunk): a fault the store's retries get past is answered 200 with the right answer; one they cannot is a 503 naming
/// the object, within the request's time; a chunk missing under a pinned version is a 500 naming it. Nothing stored
/// changes, and no result read through a failed fetch is ever answered.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class LazyReadFaultTests(MotoServerFixture moto, ITestOutputHelper output)
{
    private const int RetrySeconds = 2;
    private const int TimeoutSeconds = 8;

    private static Dictionary<string, string?> Budgets(FaultProxy? proxy, params (string Name, string Value)[] more)
    {
        var environment = new Dictionary<string, string?>
        {
            ["STORAGE_RETRY_SECONDS"] = RetrySeconds.ToString(CultureInfo.InvariantCulture),
            ["REQUEST_TIMEOUT_SECONDS"] = TimeoutSeconds.ToString(CultureInfo.InvariantCulture),
            ["LOCK_WAIT_SECONDS"] = RetrySeconds.ToString(CultureInfo.InvariantCulture),
        };
        if (proxy is not null)
        {
            environment["AWS_ENDPOINT_URL"] = proxy.Url.ToString();
        }

        foreach (var (name, value) in more)
        {
            environment[name] = value;
        }

        return environment;
    }

    public static TheoryData<string, string> RecoverableFaults
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var layout in new[] { "whole", "chunked" })
            {
                data.Add("ranged GET reset before forwarding, once", layout);
                data.Add("ranged GET lands but its answer is dropped, once", layout);
                data.Add("s3 500 InternalError on a third of the ranged GETs", layout);
                data.Add("s3 503 SlowDown on a third of the ranged GETs", layout);
                data.Add("ranged GET's body truncated, twice", layout);
            }

            return data;
        }
    }

    public static TheoryData<string, string> UnrecoverableFaults
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var layout in new[] { "whole", "chunked" })
            {
                data.Add("every ranged GET answered after STORAGE_RETRY_SECONDS", layout);
                data.Add("every ranged GET's body truncated", layout);
            }

            return data;
        }
    }

    private static FaultRule RuleFor(string fault, string bucket)
    {
        var ranged = FaultRule.RangedGet(bucket);
        return fault switch
        {
            "ranged GET reset before forwarding, once" => FaultRule.ResetBeforeForward(ranged, FaultTimes.First(1)),
            "ranged GET lands but its answer is dropped, once" => FaultRule.DropAnswer(ranged, FaultTimes.First(1)),
            "s3 500 InternalError on a third of the ranged GETs" => FaultRule.S3Error(ranged, FaultTimes.WithProbability(0.33, seed: 20261207)),
            "s3 503 SlowDown on a third of the ranged GETs" => FaultRule.SlowDown(ranged, FaultTimes.WithProbability(0.33, seed: 20261208)),
            "ranged GET's body truncated, twice" => FaultRule.TruncateBody(ranged, FaultTimes.First(2)),
            "ranged GET answered half its body under a matching Content-Length, once" => FaultRule.ShortBody(ranged, FaultTimes.First(1)),
            "every ranged GET answered after STORAGE_RETRY_SECONDS" => FaultRule.DelayAnswer(ranged, FaultTimes.Every, TimeSpan.FromSeconds(RetrySeconds + 1.5)),
            "every ranged GET's body truncated" => FaultRule.TruncateBody(ranged, FaultTimes.Every),
            _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, "no such fault case"),
        };
    }

    /// <summary>
    /// A fault the retries get past: a point query and then a full scan on a cold reader answer 200 and exactly what a
    /// downloading reader answered; every fetch the fault spoiled was asked again (the same range) and answered.
    /// </summary>
    [Theory]
    [MemberData(nameof(RecoverableFaults))]
    public Task A_fault_the_retries_get_past_answers_200_and_the_right_answer(string fault, string layout) => RunRecoverableAsync(fault, layout);

    /// <summary>
    /// A ranged GET answered once with half its body under a Content-Length of that half, ended cleanly (nothing at the
    /// HTTP level flags it, only the length: fewer bytes than the range asked): as a broken-off body is, it must be
    /// fetched again within STORAGE_RETRY_SECONDS and the query answer 200 and right.
    /// </summary>
    [Theory]
    [MemberData(nameof(Layouts))]
    public Task A_short_answer_that_ends_cleanly_is_fetched_again_and_answers_200(string layout) =>
        RunRecoverableAsync("ranged GET answered half its body under a matching Content-Length, once", layout);

    private async Task RunRecoverableAsync(string fault, string layout)
    {
        var databases = await GetAsync(moto);
        var stored = databases.Of(layout);
        var bucket = databases.Bucket;
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var reader = new QueryRunnerInstance(moto, bucket, Budgets(proxy));
        var rule = proxy.Add(RuleFor(fault, bucket));
        var point = PointQuery(PointKeys[1]);

        var pointAnswer = await QueryAsync(reader, stored.Name, point).WaitAsync(TimeSpan.FromSeconds(60));
        var scanAnswer = await QueryAsync(reader, stored.Name, FullScan).WaitAsync(TimeSpan.FromSeconds(60));

        proxy.ClearRules();
        var wire = proxy.Describe();
        output.WriteLine($"{fault} ({layout}), {rule.Fired} fired:{Environment.NewLine}{wire}");
        AssertNoResultFromAFailedFetch(pointAnswer);
        AssertNoResultFromAFailedFetch(scanAnswer);
        Assert.True(rule.Fired > 0, $"the fault never fired, so the case tested nothing:{Environment.NewLine}{wire}");
        Assert.True(pointAnswer.StatusCode == 200, $"{fault} ({layout}): the point query: {pointAnswer.StatusCode} {pointAnswer.Body}{Environment.NewLine}{wire}");
        Assert.Equal(stored.Expected[point], Canonical(pointAnswer));
        Assert.True(scanAnswer.StatusCode == 200, $"{fault} ({layout}): the scan: {scanAnswer.StatusCode} {scanAnswer.Body}{Environment.NewLine}{wire}");
        Assert.Equal(stored.Expected[FullScan], Canonical(scanAnswer));
        var exchanges = proxy.Exchanges;
        foreach (var spoiled in exchanges.Where(e => e.Fault is not null))
        {
            Assert.True(
                exchanges.Any(e => e.Sequence > spoiled.Sequence && e.Fault is null && e.UpstreamStatus == 206 && e.Request == spoiled.Request),
                $"the fetch spoiled in #{spoiled.Sequence} ({spoiled.Request.Path} {spoiled.Request.Range}) was never answered in full afterwards:{Environment.NewLine}{wire}");
        }

        Assert.Equal(stored.ETag, (await moto.S3.GetObjectMetadataAsync(bucket, stored.Key)).ETag);
    }

    /// <summary>
    /// A fault on every attempt: the read is a 503 that names the object it could not fetch, within the request's time
    /// (its retries end after STORAGE_RETRY_SECONDS), with no results; nothing stored changed; and as nothing the fault
    /// spoiled was cached, the same container answers right once S3 answers again.
    /// </summary>
    [Theory]
    [MemberData(nameof(UnrecoverableFaults))]
    public async Task A_fault_on_every_attempt_is_a_503_naming_the_object_within_the_request_timeout(string fault, string layout)
    {
        var databases = await GetAsync(moto);
        var stored = databases.Of(layout);
        var bucket = databases.Bucket;
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var reader = new QueryRunnerInstance(moto, bucket, Budgets(proxy));
        var rule = proxy.Add(RuleFor(fault, bucket));
        var point = PointQuery(PointKeys[1]);

        var clock = Stopwatch.StartNew();
        var answer = await QueryAsync(reader, stored.Name, point).WaitAsync(TimeSpan.FromSeconds(60));
        var elapsed = clock.Elapsed;

        proxy.ClearRules();
        var wire = proxy.Describe();
        output.WriteLine($"{fault} ({layout}), {elapsed.TotalSeconds:0.0}s, {rule.Fired} fired: {answer.StatusCode} {answer.Body}{Environment.NewLine}{wire}");
        Assert.True(rule.Fired > 0, $"the fault never fired:{Environment.NewLine}{wire}");
        Assert.True(answer.StatusCode == 503, $"{fault} ({layout}): {answer.StatusCode} {answer.Body}{Environment.NewLine}{wire}");
        AssertNoResultFromAFailedFetch(answer);
        var named = layout == "whole" ? $"s3://{bucket}/{stored.Key}" : $"s3://{bucket}/{stored.ChunkPrefix}";
        Assert.True(answer.Body.Contains(named, StringComparison.Ordinal), $"the 503 does not name {named}: {answer.Body}");
        Assert.NotNull(answer.Header("Retry-After"));
        Assert.True(elapsed < TimeSpan.FromSeconds(TimeoutSeconds), $"the 503 took {elapsed.TotalSeconds:0.0}s, past REQUEST_TIMEOUT_SECONDS={TimeoutSeconds}");
        Assert.True(elapsed >= TimeSpan.FromSeconds(RetrySeconds * 0.9), $"the 503 came after {elapsed.TotalSeconds:0.0}s, before the retries' {RetrySeconds}s were up");
        Assert.DoesNotContain(proxy.Exchanges, e => e.Request.Method is "PUT" or "POST" or "DELETE");
        Assert.Equal(stored.ETag, (await moto.S3.GetObjectMetadataAsync(bucket, stored.Key)).ETag);

        var after = await QueryAsync(reader, stored.Name, point);
        Assert.Equal(stored.Expected[point], Canonical(after));
    }

    /// <summary>
    /// A chunk of the pinned version deleted from the bucket (every version of it) before a cold read: the read is a
    /// 500 that names the chunk's key, with no results, and the database's key is unchanged.
    /// </summary>
    [Fact]
    public async Task A_chunk_missing_under_a_pinned_version_is_a_500_naming_the_chunk_and_changes_nothing()
    {
        var databases = await GetAsync(moto);
        var bucket = databases.Bucket;
        const string Database = "lazy-missing-chunk";
        var key = KeyOf(Database);
        using (var writer = new QueryRunnerInstance(moto, bucket, new Dictionary<string, string?> { ["STORAGE_LAYOUT"] = "chunked" }))
        {
            await BuildAsync(writer, Database, 3000);
        }

        var head = await moto.S3.GetObjectMetadataAsync(bucket, key);
        Assert.True(IsManifest(head));
        string sha256;
        using (var manifest = await moto.S3.GetObjectAsync(bucket, key))
        using (var document = await JsonDocument.ParseAsync(manifest.ResponseStream))
        {
            // The first chunk: it holds the header, which every read of the database reads.
            sha256 = document.RootElement.GetProperty("chunks").EnumerateArray()
                .Single(c => c.GetProperty("offset").GetInt64() == 0).GetProperty("sha256").GetString()!;
        }

        var chunkKey = ChunkPrefixOf(Database) + sha256;
        var versions = await moto.S3.ListVersionsAsync(new ListVersionsRequest { BucketName = bucket, Prefix = chunkKey });
        Assert.NotEmpty(versions.Versions);
        foreach (var version in versions.Versions)
        {
            await moto.S3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = version.Key, VersionId = version.VersionId });
        }

        Assert.Empty((await moto.S3.ListVersionsAsync(new ListVersionsRequest { BucketName = bucket, Prefix = chunkKey })).Versions ?? []);
        using var reader = new QueryRunnerInstance(moto, bucket, Budgets(proxy: null, ("LAZY_READ_MIN_BYTES", "0")));

        var answer = await QueryAsync(reader, Database, PointQuery("k01234")).WaitAsync(TimeSpan.FromSeconds(60));

        output.WriteLine($"{answer.StatusCode} {answer.Body}");
        Assert.True(answer.StatusCode == 500, $"{answer.StatusCode} {answer.Body}");
        AssertNoResultFromAFailedFetch(answer);
        Assert.True(answer.Body.Contains(chunkKey, StringComparison.Ordinal), $"the 500 does not name {chunkKey}: {answer.Body}");
        Assert.Equal(head.ETag, (await moto.S3.GetObjectMetadataAsync(bucket, key)).ETag);
        var again = await QueryAsync(reader, Database, PointQuery("k01234"));
        Assert.Equal(500, again.StatusCode);
    }

    public static TheoryData<string> Layouts => ["whole", "chunked"];

    // A whole file's ranged windows carry no checksum of their own (README, "Lazy reads"): only a chunk's pieces are checked.
    public static TheoryData<string> ChunkedLayouts => ["chunked"];

    /// <summary>
    /// Where the bytes of a row's payload are stored: the S3 path (<c>/bucket/key</c>) of the object holding them (the
    /// whole file, or the chunk) and their offset in it, found by the payload's first 24 bytes as the expected answer has them.
    /// </summary>
    private async Task<(string Path, long Offset)> LocatePayloadAsync(LazyReadDatabases databases, LazyReadDatabases.Stored stored, string k)
    {
        var hex = System.Text.RegularExpressions.Regex.Match(stored.Expected[PointQuery(k)], "\"([0-9A-F]{48})\"").Groups[1].Value;
        var pattern = Convert.FromHexString(hex);
        var bucket = databases.Bucket;
        if (stored.Layout == "whole")
        {
            var bytes = await ObjectBytesAsync(bucket, stored.Key);
            var at = bytes.AsSpan().IndexOf(pattern);
            Assert.True(at >= 0, $"the payload of {k} is not in the stored file");
            return ($"/{bucket}/{stored.Key}", at);
        }

        using var manifest = JsonDocument.Parse(await ObjectBytesAsync(bucket, stored.Key));
        foreach (var chunk in manifest.RootElement.GetProperty("chunks").EnumerateArray())
        {
            var chunkKey = stored.ChunkPrefix + chunk.GetProperty("sha256").GetString();
            var at = (await ObjectBytesAsync(bucket, chunkKey)).AsSpan().IndexOf(pattern);
            if (at >= 0)
            {
                return ($"/{bucket}/{chunkKey}", at);
            }
        }

        throw new Xunit.Sdk.XunitException($"the payload of {k} is in none of the chunks");
    }

    private async Task<byte[]> ObjectBytesAsync(string bucket, string key)
    {
        using var response = await moto.S3.GetObjectAsync(bucket, key);
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>
    /// A byte of the row a point query answers, flipped in transit in the ranged GET that brings it (once; S3's bytes
    /// are intact): the read must never answer the damaged byte as the row's. A download checks its CRC32 and fetches
    /// again; a lazy read may do the same, or fail, but a 200 must carry the stored bytes.
    /// </summary>
    [Theory]
    [MemberData(nameof(ChunkedLayouts))]
    public async Task A_byte_damaged_in_transit_in_a_ranged_fetch_is_never_answered_as_the_stored_row(string layout)
    {
        var databases = await GetAsync(moto);
        var stored = databases.Of(layout);
        var bucket = databases.Bucket;
        var k = PointKeys[1];
        var (path, offset) = await LocatePayloadAsync(databases, stored, k);
        var damaged = offset + 5;
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var reader = new QueryRunnerInstance(moto, bucket, Budgets(proxy));
        var rule = proxy.Add(FaultRule.CorruptBody(
            r => FaultRule.RangedGet(bucket)(r) && r.Path == path && FaultRule.RangeHolds(r.Range, damaged), FaultTimes.First(1), damaged));

        var answer = await QueryAsync(reader, stored.Name, PointQuery(k)).WaitAsync(TimeSpan.FromSeconds(60));

        var wire = proxy.Describe();
        output.WriteLine($"{layout}: byte {damaged} of {path}: {answer.StatusCode} {answer.Body}{Environment.NewLine}{wire}");
        Assert.True(rule.Fired == 1, $"the damage was never done:{Environment.NewLine}{wire}");
        AssertNoResultFromAFailedFetch(answer);
        if (answer.StatusCode == 200)
        {
            Assert.True(
                stored.Expected[PointQuery(k)] == Canonical(answer),
                $"{layout}: a byte damaged in transit was answered as the stored row's (byte {damaged} of {path}):{Environment.NewLine}expected {stored.Expected[PointQuery(k)]}{Environment.NewLine}answered {Canonical(answer)}{Environment.NewLine}{wire}");
        }
        else
        {
            Assert.True(answer.StatusCode is 500 or 503, $"{answer.StatusCode} {answer.Body}");
        }
    }

    /// <summary>
    /// A whole chunk fetched by a scan's read-ahead is checked against its SHA-256: damaged once, it is fetched again and
    /// the scan answers right; damaged every time, the read is a 500 that names the chunk, with no results.
    /// </summary>
    [Fact]
    public async Task A_whole_chunk_damaged_once_is_fetched_again_and_damaged_every_time_is_a_500_naming_it()
    {
        var databases = await GetAsync(moto);
        var stored = databases.Chunked;
        var bucket = databases.Bucket;
        var wholeChunk = (Func<ProxiedRequest, bool>)(r => FaultRule.RangedGet(bucket, stored.ChunkPrefix)(r) && r.Range == $"bytes=0-{(2 * 1024 * 1024) - 1}");
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);

        using (var reader = new QueryRunnerInstance(moto, bucket, Budgets(proxy)))
        {
            var once = proxy.Add(FaultRule.CorruptBody(wholeChunk, FaultTimes.First(1)));
            var answer = await QueryAsync(reader, stored.Name, FullScan).WaitAsync(TimeSpan.FromSeconds(60));
            proxy.ClearRules();
            var wire = proxy.Describe();
            output.WriteLine($"once: {answer.StatusCode} {answer.Body}{Environment.NewLine}{wire}");
            Assert.True(once.Fired == 1, $"no whole chunk was fetched, so none was damaged:{Environment.NewLine}{wire}");
            AssertNoResultFromAFailedFetch(answer);
            Assert.Equal(stored.Expected[FullScan], Canonical(answer));
            var spoiled = proxy.Exchanges.Single(e => e.Fault == FaultKind.CorruptBody);
            Assert.Contains(proxy.Exchanges, e => e.Sequence > spoiled.Sequence && e.Fault is null && e.Request == spoiled.Request && e.UpstreamStatus == 206);
        }

        using (var reader = new QueryRunnerInstance(moto, bucket, Budgets(proxy)))
        {
            var every = proxy.Add(FaultRule.CorruptBody(wholeChunk, FaultTimes.Every));
            var answer = await QueryAsync(reader, stored.Name, FullScan).WaitAsync(TimeSpan.FromSeconds(60));
            proxy.ClearRules();
            output.WriteLine($"every: {answer.StatusCode} {answer.Body}");
            Assert.True(every.Fired >= 2, $"the damage was done {every.Fired} times");
            Assert.True(answer.StatusCode == 500, $"{answer.StatusCode} {answer.Body}");
            AssertNoResultFromAFailedFetch(answer);
            Assert.True(answer.Body.Contains($"s3://{bucket}/{stored.ChunkPrefix}", StringComparison.Ordinal), $"the 500 names no chunk: {answer.Body}");
            Assert.Equal(stored.ETag, (await moto.S3.GetObjectMetadataAsync(bucket, stored.Key)).ETag);
        }
    }

    /// <summary>
    /// Every ranged GET answered in 3 s, within STORAGE_RETRY_SECONDS (4) but not within the request's 5 s once a few are
    /// needed: the request's deadline ends the read, a 503 "request timed out" at the deadline, with no results.
    /// </summary>
    [Fact]
    public async Task Fetches_that_outlast_the_request_deadline_end_it_at_the_deadline_with_a_timed_out_503()
    {
        var databases = await GetAsync(moto);
        var stored = databases.Whole;
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var reader = new QueryRunnerInstance(moto, databases.Bucket, Budgets(proxy, ("STORAGE_RETRY_SECONDS", "4"), ("REQUEST_TIMEOUT_SECONDS", "5")));
        var rule = proxy.Add(FaultRule.DelayAnswer(FaultRule.RangedGet(databases.Bucket), FaultTimes.Every, TimeSpan.FromSeconds(3)));

        var clock = Stopwatch.StartNew();
        var answer = await QueryAsync(reader, stored.Name, PointQuery(PointKeys[1])).WaitAsync(TimeSpan.FromSeconds(60));
        var elapsed = clock.Elapsed;

        proxy.ClearRules();
        output.WriteLine($"{elapsed.TotalSeconds:0.0}s: {answer.StatusCode} {answer.Body}{Environment.NewLine}{proxy.Describe()}");
        Assert.True(rule.Fired >= 2, $"{rule.Fired} fetches were slowed");
        Assert.True(answer.StatusCode == 503, $"{answer.StatusCode} {answer.Body}");
        Assert.Contains("timed out", answer.Body, StringComparison.Ordinal);
        AssertNoResultFromAFailedFetch(answer);
        Assert.InRange(elapsed, TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(7));
        Assert.Equal(stored.ETag, (await moto.S3.GetObjectMetadataAsync(databases.Bucket, stored.Key)).ETag);
    }
}
