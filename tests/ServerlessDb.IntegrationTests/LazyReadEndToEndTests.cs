using System.Globalization;
using ServerlessDb.IntegrationTests.Faults;
using ServerlessDb.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using static ServerlessDb.IntegrationTests.Infrastructure.LazyReadDatabases;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// Lazy reads end to end on moto, through the real QueryRunner handler: a fresh container reads a 25 MB database of
/// either layout in place (its GETs counted at the wire through the <see cref="FaultProxy"/> used as a pass-through),
/// answering what SQLite answers on the stored file; a warm container answers from its block cache; a read pinned to a
/// version while a writer commits answers one version, never a mix; a block cache far smaller than the database bounds
/// what is on disk and still answers right.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class LazyReadEndToEndTests(MotoServerFixture moto, ITestOutputHelper output)
{
    private const int PieceBytes = 128 * 1024;

    public static TheoryData<string> Layouts => ["whole", "chunked"];

    private static Dictionary<string, string?> Through(FaultProxy proxy, params (string Name, string Value)[] more)
    {
        var environment = new Dictionary<string, string?> { ["AWS_ENDPOINT_URL"] = proxy.Url.ToString() };
        foreach (var (name, value) in more)
        {
            environment[name] = value;
        }

        return environment;
    }

    /// <summary>
    /// A cold point query reads a handful of ranged GETs, far less than the file, and answers as SQLite on the stored
    /// file; the request line counts them. The same query again on the warm container fetches nothing: one HEAD.
    /// </summary>
    [Theory]
    [MemberData(nameof(Layouts))]
    public async Task A_cold_point_query_fetches_a_few_ranges_and_a_warm_one_only_revalidates(string layout)
    {
        var databases = await GetAsync(moto);
        var stored = databases.Of(layout);
        var bucket = databases.Bucket;
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var reader = new QueryRunnerInstance(moto, bucket, Through(proxy));
        var sql = PointQuery(PointKeys[1]);

        var cold = await QueryAsync(reader, stored.Name, sql);

        Assert.Equal(stored.Expected[sql], Canonical(cold));
        AssertNoResultFromAFailedFetch(cold);
        var wire = proxy.Describe();
        var ranged = proxy.Where(FaultRule.RangedGet(bucket));
        var gets = proxy.Where(r => r.Method == "GET");
        Assert.True(ranged.Count is >= 1 and <= 12, $"{ranged.Count} ranged GETs for one point query:{Environment.NewLine}{wire}");
        var fetched = ranged.Sum(e => e.ResponseBytes);
        Assert.True(fetched < stored.Bytes / 10, $"a point query fetched {fetched} of the database's {stored.Bytes} bytes:{Environment.NewLine}{wire}");
        // Nothing downloaded the file: every GET is a ranged fetch, but for a chunked version's one manifest.
        var others = gets.Except(ranged).ToList();
        Assert.True(
            layout == "whole" ? others.Count == 0 : others.Count == 1 && others[0].Request.Path == $"/{bucket}/{stored.Key}",
            $"GETs besides the ranged fetches: {string.Join(", ", others)}");
        if (layout == "chunked")
        {
            Assert.All(ranged, e => Assert.StartsWith($"/{bucket}/{stored.ChunkPrefix}", e.Request.Path, StringComparison.Ordinal));
        }
        else
        {
            // Each fetch is conditional on the pinned version and within one 2 MiB window of the file.
            Assert.All(ranged, e => Assert.Equal(stored.ETag, e.Headers.GetValueOrDefault("If-Match")));
            Assert.All(ranged.Select(e => Span(e.Request.Range!)), r => Assert.Equal(r.First / (2 * 1024 * 1024), r.Last / (2 * 1024 * 1024)));
        }

        output.WriteLine($"{layout}: {ranged.Count} ranged GETs, {fetched} of {stored.Bytes} bytes:{Environment.NewLine}{wire}");
        var coldLine = LastRequestLine(reader);
        Assert.Equal(ranged.Count, Metric(coldLine, "RangeReads"));
        Assert.True(Metric(coldLine, "BytesDownloaded") >= fetched, $"BytesDownloaded below the {fetched} bytes fetched: {coldLine}");

        var before = proxy.Exchanges.Count;
        var warm = await QueryAsync(reader, stored.Name, sql);

        Assert.Equal(stored.Expected[sql], Canonical(warm));
        var again = proxy.Exchanges.Skip(before).ToList();
        Assert.True(
            again.Count >= 1 && again.All(e => e.Request.Method == "HEAD" && e.Request.Path == $"/{bucket}/{stored.Key}"),
            $"the warm query's requests are not one HEAD revalidation: {string.Join(", ", again)}");
        var warmLine = LastRequestLine(reader);
        Assert.Equal(0, Metric(warmLine, "RangeReads"));
        Assert.True(Metric(warmLine, "BlockCacheHits") > 0, $"the warm query hit nothing in the block cache: {warmLine}");
        Assert.Equal(0, Metric(warmLine, "BytesDownloaded"));
    }

    private static (long First, long Last) Span(string range)
    {
        var parts = range["bytes=".Length..].Split('-');
        return (long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Cold queries at once on one container (two of the same row, and others) share what they fetch: no byte of an
    /// object is asked for twice, the manifest is fetched once, and every one answers right.
    /// </summary>
    [Theory]
    [MemberData(nameof(Layouts))]
    public async Task Concurrent_cold_queries_on_one_container_never_fetch_the_same_bytes_twice(string layout)
    {
        var databases = await GetAsync(moto);
        var stored = databases.Of(layout);
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var reader = new QueryRunnerInstance(moto, databases.Bucket, Through(proxy));
        var queries = PointKeys.Append(PointKeys[1]).Select(PointQuery).ToList();

        var answers = await Task.WhenAll(queries.Select(sql => Task.Run(() => QueryAsync(reader, stored.Name, sql))));

        var wire = proxy.Describe();
        output.WriteLine(wire);
        for (var i = 0; i < queries.Count; i++)
        {
            Assert.Equal(stored.Expected[queries[i]], Canonical(answers[i]));
        }

        // One manifest GET at most, however the reads overlapped (a whole file has none).
        var manifestGets = proxy.Where(r => r.Method == "GET" && r.Path == $"/{databases.Bucket}/{stored.Key}" && r.Range is null);
        Assert.True(manifestGets.Count <= (layout == "chunked" ? 1 : 0), $"{manifestGets.Count} GETs of {stored.Key}:{Environment.NewLine}{wire}");
        foreach (var fetches in proxy.Where(FaultRule.RangedGet(databases.Bucket)).GroupBy(e => e.Request.Path))
        {
            var spans = fetches.Select(e => Span(e.Request.Range!)).OrderBy(r => r.First).ToList();
            for (var i = 1; i < spans.Count; i++)
            {
                Assert.True(spans[i].First > spans[i - 1].Last, $"bytes {spans[i].First}-{Math.Min(spans[i].Last, spans[i - 1].Last)} of {fetches.Key} were fetched twice:{Environment.NewLine}{wire}");
            }
        }
    }

    private const int PinnedRows = 3000;

    private static readonly string PinnedIds = string.Join(", ", Enumerable.Range(0, 13).Select(i => Math.Max(1, i * 250).ToString(CultureInfo.InvariantCulture)));

    /// <summary>
    /// A read pinned to a version while a writer commits: the reader's second ranged GET is held until a commit from
    /// another container has landed. A whole file's next fetch finds the pinned ETag gone (412) and the read starts
    /// again on the new version: every row it answers is the new one. A chunked version's chunks stay stored: the read
    /// answers the old version, every row of it. Never a mix, and always a 200.
    /// </summary>
    [Theory]
    [MemberData(nameof(Layouts))]
    public async Task A_read_pinned_while_a_writer_commits_answers_one_version_never_a_mix(string layout)
    {
        var databases = await GetAsync(moto);
        var bucket = databases.Bucket;
        var database = $"pinned-{layout}";
        var key = KeyOf(database);
        using var writer = new QueryRunnerInstance(moto, bucket, new Dictionary<string, string?> { ["STORAGE_LAYOUT"] = layout });
        await BuildAsync(writer, database, PinnedRows);
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        // 12 MB: below the default threshold, so the reader is told to read any database lazily.
        using var reader = new QueryRunnerInstance(moto, bucket, Through(proxy, ("LAZY_READ_MIN_BYTES", "0")));
        var hold = proxy.Add(FaultRule.HoldAnswer(FaultRule.RangedGet(bucket), FaultTimes.After(1, 1)));
        var sql = $"SELECT count(*), min(tag), max(tag), sum(tag) FROM big WHERE id IN ({PinnedIds})";

        var reading = QueryAsync(reader, database, sql);
        await hold.Acted.WaitAsync(TimeSpan.FromSeconds(30));
        var before = (await moto.S3.GetObjectMetadataAsync(bucket, key)).ETag;
        var committed = await writer.PostAsync("/db/execute", $"[\"UPDATE big SET tag = 2 WHERE id IN ({PinnedIds})\"]", $"db={database}");
        Assert.True(committed.StatusCode == 200, $"the commit: {committed.StatusCode} {committed.Body}");
        Assert.NotEqual(before, (await moto.S3.GetObjectMetadataAsync(bucket, key)).ETag);
        var heldBefore = proxy.Exchanges.Count;
        hold.Release();
        var answer = await reading.WaitAsync(TimeSpan.FromSeconds(60));

        var wire = proxy.Describe();
        output.WriteLine($"{layout}: {answer.Body}{Environment.NewLine}{wire}");
        Assert.True(answer.StatusCode == 200, $"status {answer.StatusCode}: {answer.Body}{Environment.NewLine}{wire}");
        AssertNoResultFromAFailedFetch(answer);
        var replaced = proxy.Exchanges.Where(e => e.UpstreamStatus == 412).ToList();
        var fetchesAfterCommit = proxy.Where(FaultRule.RangedGet(bucket)).Count(e => e.Sequence > heldBefore);
        Assert.True(fetchesAfterCommit > 0 || replaced.Count > 0, $"no fetch came after the commit, so the read was not pinned across it:{Environment.NewLine}{wire}");
        if (layout == "whole")
        {
            Assert.True(replaced.Count >= 1, $"no fetch of the replaced file was refused (412):{Environment.NewLine}{wire}");
            Assert.True(Canonical(answer).Contains("[[13,2,2,26]]", StringComparison.Ordinal), $"not wholly the new version: {answer.Body}{Environment.NewLine}{wire}");
        }
        else
        {
            Assert.Empty(replaced);
            Assert.True(Canonical(answer).Contains("[[13,1,1,13]]", StringComparison.Ordinal), $"not wholly the pinned version: {answer.Body}{Environment.NewLine}{wire}");
        }

        // And the next read of the reader is the new version.
        var next = await QueryAsync(reader, database, sql);
        Assert.True(Canonical(next).Contains("[[13,2,2,26]]", StringComparison.Ordinal), $"the next read: {next.Body}");
    }

    /// <summary>
    /// CACHE_MAX_BYTES of 4 MiB, a sixth of the database: a full scan and point queries still answer right, the block
    /// cache's folder never holds more than the bound and a piece or two (sampled while the queries run), and the scan
    /// fetched about the whole file (its pieces evicted as it went).
    /// </summary>
    [Theory]
    [MemberData(nameof(Layouts))]
    public async Task A_block_cache_far_smaller_than_the_database_stays_within_its_bound_and_answers_right(string layout)
    {
        const long Bound = 4L * 1024 * 1024;
        var databases = await GetAsync(moto);
        var stored = databases.Of(layout);
        using var reader = new QueryRunnerInstance(moto, databases.Bucket, new Dictionary<string, string?> { ["CACHE_MAX_BYTES"] = Bound.ToString(CultureInfo.InvariantCulture) });
        var sampler = BlockCacheSampler.Start(reader);

        var scan = await QueryAsync(reader, stored.Name, FullScan);
        var scanLine = LastRequestLine(reader);
        var points = new List<(string Sql, LambdaResponse Answer)>();
        foreach (var k in PointKeys)
        {
            points.Add((PointQuery(k), await QueryAsync(reader, stored.Name, PointQuery(k))));
        }

        var again = await QueryAsync(reader, stored.Name, FullScan);
        var largest = await sampler.StopAsync();

        output.WriteLine($"{layout}: largest {largest}, end {BlockCacheBytes(reader)}; scan line {scanLine}");
        Assert.Equal(stored.Expected[FullScan], Canonical(scan));
        Assert.All(points, p => Assert.Equal(stored.Expected[p.Sql], Canonical(p.Answer)));
        Assert.Equal(stored.Expected[FullScan], Canonical(again));
        Assert.True(Metric(scanLine, "RangeReads") > 0, $"the scan did not read lazily: {scanLine}");
        Assert.True(Metric(scanLine, "BytesDownloaded") >= stored.Bytes * 0.9, $"the scan fetched less than the file: {scanLine}");
        var end = BlockCacheBytes(reader);
        Assert.True(end <= Bound, $"the block cache holds {end} bytes after the queries, over its bound of {Bound}");
        Assert.True(largest <= Bound + (2 * PieceBytes), $"the block cache held {largest} bytes while the queries ran, over its bound of {Bound} by more than two pieces");
        Assert.True(largest > 0, "the sampler never saw the block cache hold anything");
    }

    /// <summary>
    /// The smallest cache (CACHE_MAX_BYTES of 1 MiB, a 24th of the database) under three full scans and two point queries
    /// at once on one container: every answer is right, and the block cache's folder never holds more than the bound and a
    /// piece or two.
    /// </summary>
    [Theory]
    [MemberData(nameof(Layouts))]
    public async Task Concurrent_scans_through_the_smallest_cache_answer_right_and_stay_within_its_bound(string layout)
    {
        const long Bound = 1024 * 1024;
        var databases = await GetAsync(moto);
        var stored = databases.Of(layout);
        using var reader = new QueryRunnerInstance(moto, databases.Bucket, new Dictionary<string, string?> { ["CACHE_MAX_BYTES"] = Bound.ToString(CultureInfo.InvariantCulture) });
        var sampler = BlockCacheSampler.Start(reader);
        var queries = new[] { FullScan, PointQuery(PointKeys[0]), FullScan, PointQuery(PointKeys[2]), FullScan };

        var answers = await Task.WhenAll(queries.Select(sql => Task.Run(() => QueryAsync(reader, stored.Name, sql)))).WaitAsync(TimeSpan.FromSeconds(120));
        var largest = await sampler.StopAsync();

        output.WriteLine($"{layout}: largest {largest}");
        for (var i = 0; i < queries.Length; i++)
        {
            Assert.Equal(stored.Expected[queries[i]], Canonical(answers[i]));
        }

        Assert.True(largest <= Bound + (2 * PieceBytes), $"the block cache held {largest} bytes while the queries ran, over its bound of {Bound} by more than two pieces");
    }

    /// <summary>
    /// A warm reader of a chunked database after a one-row commit elsewhere in the file: the block cache is keyed by the
    /// chunks' content, so the same query again fetches only from chunks the commit changed, and answers as before.
    /// </summary>
    [Fact]
    public async Task After_a_commit_a_warm_reader_of_a_chunked_database_fetches_only_from_changed_chunks()
    {
        var databases = await GetAsync(moto);
        var bucket = databases.Bucket;
        const string Database = "warm-chunked";
        var key = KeyOf(Database);
        using var writer = new QueryRunnerInstance(moto, bucket, new Dictionary<string, string?> { ["STORAGE_LAYOUT"] = "chunked" });
        await BuildAsync(writer, Database, PinnedRows);
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var reader = new QueryRunnerInstance(moto, bucket, Through(proxy, ("LAZY_READ_MIN_BYTES", "0")));
        var sql = PointQuery("k01500");
        var first = await QueryAsync(reader, Database, sql);
        Assert.Equal(200, first.StatusCode);
        var before = await ChunkNamesAsync(bucket, key);

        var committed = await writer.PostAsync("/db/execute", "[\"UPDATE big SET tag = 3 WHERE id = 2900\"]", $"db={Database}");
        Assert.True(committed.StatusCode == 200, committed.Body);
        var after = await ChunkNamesAsync(bucket, key);
        var changed = after.Except(before).Select(sha => $"/{bucket}/{ChunkPrefixOf(Database)}{sha}").ToHashSet();
        Assert.InRange(changed.Count, 1, 2);
        var seen = proxy.Exchanges.Count;
        var again = await QueryAsync(reader, Database, sql);

        var wire = proxy.Describe();
        output.WriteLine(wire);
        Assert.Equal(Canonical(first), Canonical(again));
        var fetched = proxy.Where(FaultRule.RangedGet(bucket)).Where(e => e.Sequence > seen).ToList();
        Assert.All(fetched, e => Assert.True(changed.Contains(e.Request.Path), $"fetched from an unchanged chunk: {e}{Environment.NewLine}{wire}"));
        Assert.True(Metric(LastRequestLine(reader), "BlockCacheHits") > 0, "the warm read found nothing in the block cache");
    }

    private async Task<HashSet<string>> ChunkNamesAsync(string bucket, string key)
    {
        using var response = await moto.S3.GetObjectAsync(bucket, key);
        using var document = await System.Text.Json.JsonDocument.ParseAsync(response.ResponseStream);
        return document.RootElement.GetProperty("chunks").EnumerateArray().Select(c => c.GetProperty("sha256").GetString()!).ToHashSet();
    }

    /// <summary>
    /// A whole file replaced by a commit between the HEAD that pins it and its first fetch, three times running (each
    /// HEAD's answer held while another container commits): the read starts again each time and, after three, answers a
    /// 503 saying the database was replaced while it read, with no results; the next read answers the latest version.
    /// </summary>
    [Fact]
    public async Task A_whole_file_replaced_under_every_attempt_is_a_503_after_three_and_the_next_read_answers()
    {
        var databases = await GetAsync(moto);
        var bucket = databases.Bucket;
        const string Database = "replaced-whole";
        var key = KeyOf(Database);
        using var writer = new QueryRunnerInstance(moto, bucket, new Dictionary<string, string?> { ["STORAGE_LAYOUT"] = "whole" });
        await BuildAsync(writer, Database, PinnedRows);
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var reader = new QueryRunnerInstance(moto, bucket, Through(proxy, ("LAZY_READ_MIN_BYTES", "0")));
        var holds = Enumerable.Range(0, 3).Select(_ => proxy.Add(FaultRule.HoldAnswer(FaultRule.S3("HEAD", $"/{bucket}/{key}"), FaultTimes.First(1)))).ToList();
        const string Sql = "SELECT tag FROM big WHERE id = 1";

        var reading = QueryAsync(reader, Database, Sql);
        foreach (var hold in holds)
        {
            await hold.Acted.WaitAsync(TimeSpan.FromSeconds(30));
            var committed = await writer.PostAsync("/db/execute", "[\"UPDATE big SET tag = tag + 1 WHERE id = 1\"]", $"db={Database}");
            Assert.True(committed.StatusCode == 200, committed.Body);
            hold.Release();
        }

        var answer = await reading.WaitAsync(TimeSpan.FromSeconds(60));
        var wire = proxy.Describe();
        output.WriteLine($"{answer.StatusCode} {answer.Body}{Environment.NewLine}{wire}");
        Assert.True(answer.StatusCode == 503, $"{answer.StatusCode} {answer.Body}{Environment.NewLine}{wire}");
        Assert.Contains("replaced", answer.Body, StringComparison.Ordinal);
        AssertNoResultFromAFailedFetch(answer);
        Assert.Equal(3, proxy.Exchanges.Count(e => e.UpstreamStatus == 412));

        var next = await QueryAsync(reader, Database, Sql);
        Assert.Contains("[[4]]", Canonical(next), StringComparison.Ordinal);
    }

    /// <summary>Samples the size of a reader's block cache every 5 ms from its start until stopped: the largest it saw.</summary>
    private sealed class BlockCacheSampler
    {
        private readonly CancellationTokenSource _stop = new();
        private Task _sampling = Task.CompletedTask;
        private long _largest;

        public static BlockCacheSampler Start(QueryRunnerInstance reader)
        {
            var sampler = new BlockCacheSampler();
            sampler._sampling = Task.Run(async () =>
            {
                while (!sampler._stop.IsCancellationRequested)
                {
                    sampler._largest = Math.Max(sampler._largest, BlockCacheBytes(reader));
                    await Task.Delay(5);
                }
            });
            return sampler;
        }

        public async Task<long> StopAsync()
        {
            await _stop.CancelAsync();
            await _sampling;
            _stop.Dispose();
            return _largest;
        }
    }
}
