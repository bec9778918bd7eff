using System.Globalization;
using System.Text.Json;
using Amazon.S3.Model;
using ServerlessDb.IntegrationTests.Faults;
using ServerlessDb.IntegrationTests.Infrastructure;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// STORAGE_LAYOUT=chunked end to end on moto, through the real QueryRunner handler: what a commit stores (a manifest
/// at the database's key, chunks under _chunks/), the bytes a one-row write and a stale reader move (counted at the
/// wire through the proxy), conversion between the layouts in both directions, backup and time travel, and
/// exactly-once commits when the manifest PUT's answer is lost.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class ChunkedStorageEndToEndTests(MotoServerFixture moto)
{
    private const string Key = "databases/default.sqlite";
    private const string ChunkPrefix = "databases/_chunks/default/";
    private const int ChunkMib = 1;
    private const int ChunkBytes = ChunkMib * 1024 * 1024;

    // About 12 MB: 12 chunks of 1 MiB, so that "at most two chunks" says something.
    private const string TwelveMegabytes = """["CREATE TABLE big (id INTEGER PRIMARY KEY, blob BLOB)", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO big (blob) SELECT randomblob(4000) FROM n", "CREATE TABLE t (v TEXT)"]""";

    private static Dictionary<string, string?> Chunked(Uri? endpoint = null, string layout = "chunked")
    {
        var environment = new Dictionary<string, string?> { ["STORAGE_LAYOUT"] = layout, ["CHUNK_SIZE_MIB"] = ChunkMib.ToString(CultureInfo.InvariantCulture) };
        if (endpoint is not null)
        {
            environment["AWS_ENDPOINT_URL"] = endpoint.ToString();
        }

        return environment;
    }

    // Through the proxy, with budgets small enough that a fault costs seconds.
    private static Dictionary<string, string?> ChunkedUnderFaults(FaultProxy proxy, int retrySeconds)
    {
        var environment = Chunked(proxy.Url);
        environment["STORAGE_RETRY_SECONDS"] = retrySeconds.ToString(CultureInfo.InvariantCulture);
        environment["REQUEST_TIMEOUT_SECONDS"] = (retrySeconds + 5).ToString(CultureInfo.InvariantCulture);
        environment["LOCK_WAIT_SECONDS"] = retrySeconds.ToString(CultureInfo.InvariantCulture);
        return environment;
    }

    private static void AssertOk(LambdaResponse response) => Assert.True(response.StatusCode == 200, $"status {response.StatusCode}: {response.Body}");

    private static string Insert(string value) => $$"""[["INSERT INTO t VALUES (?)", "{{value}}"]]""";

    private static async Task<IReadOnlyList<string>> ValuesAsync(QueryRunnerInstance runner)
    {
        var answer = await runner.GetAsync("/db/query", "q=SELECT%20v%20FROM%20t%20ORDER%20BY%20rowid");
        AssertOk(answer);
        using var document = JsonDocument.Parse(answer.Body);
        var result = document.RootElement.GetProperty("results")[0];
        return result.TryGetProperty("values", out var values)
            ? values.EnumerateArray().Select(row => row[0].GetString()!).ToList()
            : [];
    }

    private async Task<GetObjectMetadataResponse> HeadAsync(string bucket) => await moto.S3.GetObjectMetadataAsync(bucket, Key);

    private async Task<List<S3Object>> ChunksAsync(string bucket) =>
        (await moto.S3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = ChunkPrefix })).S3Objects ?? [];

    private async Task<JsonDocument> ManifestAsync(string bucket, string? versionId = null)
    {
        using var response = await moto.S3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = Key, VersionId = versionId });
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return JsonDocument.Parse(copy.ToArray());
    }

    private static bool IsManifest(GetObjectMetadataResponse head) =>
        head.Metadata.Keys.Any(k => k.Equals("x-amz-meta-serverlessdb-layout", StringComparison.OrdinalIgnoreCase) && head.Metadata[k] == "chunked");

    // The body bytes a request carried: the decoded length of a streaming-signed upload, else its Content-Length.
    private static long BodyBytes(ProxiedExchange exchange) =>
        long.Parse(
            exchange.Headers.TryGetValue("x-amz-decoded-content-length", out var decoded) ? decoded
            : exchange.Headers.TryGetValue("Content-Length", out var length) ? length : "0",
            CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_chunked_commit_stores_a_manifest_whose_chunks_tile_the_file_and_a_new_container_reads_it_back()
    {
        var bucket = await moto.CreateBucketAsync();
        using (var writer = new QueryRunnerInstance(moto, bucket, Chunked()))
        {
            AssertOk(await writer.PostAsync("/db/execute", TwelveMegabytes));
            AssertOk(await writer.PostAsync("/db/execute", Insert("one")));
        }

        var head = await HeadAsync(bucket);
        Assert.True(IsManifest(head), "the database's key does not hold a manifest");
        using var manifest = await ManifestAsync(bucket);
        var chunks = manifest.RootElement.GetProperty("chunks").EnumerateArray().ToList();
        var length = manifest.RootElement.GetProperty("length").GetInt64();
        Assert.True(length > 11 * ChunkBytes, $"the database is only {length} bytes");
        Assert.Equal((length + ChunkBytes - 1) / ChunkBytes, chunks.Count);
        Assert.Equal(4096, manifest.RootElement.GetProperty("page_size").GetInt32());
        var stored = (await ChunksAsync(bucket)).Select(o => o.Key).ToHashSet();
        Assert.All(chunks, c => Assert.Contains(ChunkPrefix + c.GetProperty("sha256").GetString(), stored));

        using var reader = new QueryRunnerInstance(moto, bucket, Chunked());
        Assert.Equal(["one"], await ValuesAsync(reader));
        var count = await reader.GetAsync("/db/query", "q=SELECT%20count(*)%20FROM%20big");
        Assert.Contains("3000", count.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_one_row_write_uploads_at_most_two_chunks_and_the_manifest_and_a_stale_reader_fetches_only_those()
    {
        var bucket = await moto.CreateBucketAsync();
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var writer = new QueryRunnerInstance(moto, bucket, Chunked(proxy.Url));
        using var reader = new QueryRunnerInstance(moto, bucket, Chunked(proxy.Url));
        AssertOk(await writer.PostAsync("/db/execute", TwelveMegabytes));
        Assert.Empty(await ValuesAsync(reader));
        var before = proxy.Exchanges.Count;

        AssertOk(await writer.PostAsync("/db/execute", Insert("row")));

        // One exchange per object: on a busy machine a chunk PUT whose answer came too late is sent again, and
        // both copies land; the same chunk twice is one chunk written.
        var puts = proxy.Exchanges.Skip(before).Where(e => e.Request.Method == "PUT" && e.Landed).DistinctBy(e => e.Request.Path).ToList();
        var chunkPuts = puts.Where(e => e.Request.Path.StartsWith($"/{bucket}/{ChunkPrefix}", StringComparison.Ordinal)).ToList();
        var manifestPuts = puts.Where(e => e.Request.Path == $"/{bucket}/{Key}").ToList();
        Assert.True(chunkPuts.Count is >= 1 and <= 2, $"{chunkPuts.Count} chunk PUTs: {string.Join(", ", chunkPuts)}");
        Assert.Single(manifestPuts);
        var uploaded = puts.Sum(BodyBytes);
        Assert.True(uploaded <= 2 * ChunkBytes + BodyBytes(manifestPuts[0]), $"the write uploaded {uploaded} bytes");
        Assert.True(BodyBytes(manifestPuts[0]) < 16 * 1024, $"the manifest is {BodyBytes(manifestPuts[0])} bytes");

        var beforeRead = proxy.Exchanges.Count;
        Assert.Equal(["row"], await ValuesAsync(reader));
        var chunkGets = proxy.Exchanges.Skip(beforeRead).Where(e => e.Request.Method == "GET" && e.Request.Path.StartsWith($"/{bucket}/{ChunkPrefix}", StringComparison.Ordinal)).ToList();
        AssertFetchedOnlyWritten(chunkPuts.Select(e => e.Request.Path).ToList(), chunkGets.Select(e => e.Request.Path).ToList());

        // Again: now each container patches the file of the version before (its spare) instead of copying a whole file.
        for (var round = 2; round <= 3; round++)
        {
            var beforeWrite = proxy.Exchanges.Count;
            AssertOk(await writer.PostAsync("/db/execute", Insert($"row {round}")));
            var written = proxy.Exchanges.Skip(beforeWrite)
                .Where(e => e.Request.Method == "PUT" && e.Landed && e.Request.Path.StartsWith($"/{bucket}/{ChunkPrefix}", StringComparison.Ordinal))
                .Select(e => e.Request.Path).Distinct().ToList();
            Assert.True(written.Count is >= 1 and <= 2, $"round {round}: {written.Count} chunk PUTs");
            var beforeNext = proxy.Exchanges.Count;
            var expected = new[] { "row" }.Concat(Enumerable.Range(2, round - 1).Select(i => $"row {i}")).ToList();
            Assert.Equal(expected, await ValuesAsync(reader));
            var read = proxy.Exchanges.Skip(beforeNext)
                .Where(e => e.Request.Method == "GET" && e.Request.Path.StartsWith($"/{bucket}/{ChunkPrefix}", StringComparison.Ordinal))
                .Select(e => e.Request.Path).ToList();
            AssertFetchedOnlyWritten(written, read);
        }

        using var fresh = new QueryRunnerInstance(moto, bucket, Chunked());
        var check = await fresh.GetAsync("/db/query", "q=PRAGMA%20integrity_check");
        Assert.Contains("\"ok\"", check.Body, StringComparison.Ordinal);
        var backup = await reader.GetAsync("/db/backup");
        Assert.True(backup.StatusCode == 307, $"status {backup.StatusCode}");
    }

    // A stale reader fetches only chunks the write stored, each once, and at least the one holding the header
    // (its change counter moves with every commit); a chunk whose bytes it already holds it need not fetch.
    private static void AssertFetchedOnlyWritten(IReadOnlyList<string> written, IReadOnlyList<string> fetched)
    {
        Assert.NotEmpty(fetched);
        Assert.Equal(fetched.Count, fetched.Distinct().Count());
        Assert.Subset(written.ToHashSet(), fetched.ToHashSet());
    }

    [Fact]
    public async Task By_default_a_small_database_is_one_file_and_the_commit_that_takes_it_past_the_threshold_chunks_it()
    {
        var bucket = await moto.CreateBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket, new Dictionary<string, string?> { ["AUTO_CHUNKED_MIN_BYTES"] = (8 * 1024 * 1024).ToString(CultureInfo.InvariantCulture) });
        AssertOk(await runner.PostAsync("/db/execute", """["CREATE TABLE t (v TEXT)", "CREATE TABLE big (id INTEGER PRIMARY KEY, blob BLOB)"]"""));
        AssertOk(await runner.PostAsync("/db/execute", Insert("small")));
        Assert.False(IsManifest(await HeadAsync(bucket)), "a small database was stored chunked");
        Assert.Empty(await ChunksAsync(bucket));

        // About 12 MB: past the 8 MB threshold.
        AssertOk(await runner.PostAsync("/db/execute", """["WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO big (blob) SELECT randomblob(4000) FROM n"]"""));

        Assert.True(IsManifest(await HeadAsync(bucket)), "the commit past the threshold did not chunk the database");
        using var manifest = await ManifestAsync(bucket);
        Assert.Equal(2 * 1024 * 1024, manifest.RootElement.GetProperty("chunk_size").GetInt32());
        using var reader = new QueryRunnerInstance(moto, bucket);
        Assert.Equal(["small"], await ValuesAsync(reader));
    }

    [Fact]
    public async Task A_database_converts_to_chunks_on_its_first_chunked_write_and_back_on_its_first_whole_write()
    {
        var bucket = await moto.CreateBucketAsync();
        using (var whole = new QueryRunnerInstance(moto, bucket, Chunked(layout: "whole")))
        {
            AssertOk(await whole.PostAsync("/db/execute", TwelveMegabytes));
            AssertOk(await whole.PostAsync("/db/execute", Insert("whole")));
        }

        Assert.False(IsManifest(await HeadAsync(bucket)));
        using (var chunked = new QueryRunnerInstance(moto, bucket, Chunked()))
        {
            Assert.Equal(["whole"], await ValuesAsync(chunked));
            AssertOk(await chunked.PostAsync("/db/execute", Insert("chunked")));
        }

        Assert.True(IsManifest(await HeadAsync(bucket)), "the first chunked write did not convert the database");
        Assert.True((await ChunksAsync(bucket)).Count >= 12);
        using (var wholeAgain = new QueryRunnerInstance(moto, bucket, Chunked(layout: "whole")))
        {
            Assert.Equal(["whole", "chunked"], await ValuesAsync(wholeAgain));
            AssertOk(await wholeAgain.PostAsync("/db/execute", Insert("whole again")));
        }

        var head = await HeadAsync(bucket);
        Assert.False(IsManifest(head));
        Assert.True(head.ContentLength > 11 * ChunkBytes, $"the converted-back object is {head.ContentLength} bytes");
        using var fresh = new QueryRunnerInstance(moto, bucket);
        Assert.Equal(["whole", "chunked", "whole again"], await ValuesAsync(fresh));
    }

    [Fact]
    public async Task A_chunked_backup_is_one_sqlite_file_and_an_old_manifest_version_reads_as_that_version()
    {
        var bucket = await moto.CreateVersionedBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket, Chunked());
        AssertOk(await runner.PostAsync("/db/execute", """["CREATE TABLE t (v TEXT)"]"""));
        AssertOk(await runner.PostAsync("/db/execute", Insert("first")));
        var firstVersion = (await HeadAsync(bucket)).VersionId;
        AssertOk(await runner.PostAsync("/db/execute", Insert("second")));

        var backup = await runner.GetAsync("/db/backup");
        AssertOk(backup);
        Assert.Equal(2L, DatabaseFiles.Query(backup.Bytes, "SELECT count(*) FROM t"));

        var old = await runner.GetAsync("/db/query", $"q=SELECT%20v%20FROM%20t&version={Uri.EscapeDataString(firstVersion)}");
        AssertOk(old);
        Assert.Contains("first", old.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("second", old.Body, StringComparison.Ordinal);
        using var fresh = new QueryRunnerInstance(moto, bucket, Chunked());
        var oldBackup = await fresh.GetAsync("/db/backup", $"version={Uri.EscapeDataString(firstVersion)}");
        AssertOk(oldBackup);
        Assert.Equal(1L, DatabaseFiles.Query(oldBackup.Bytes, "SELECT count(*) FROM t"));
    }

    [Fact]
    public async Task A_chunked_backup_too_large_to_answer_inline_is_a_307_to_a_staged_copy_of_the_whole_file()
    {
        var bucket = await moto.CreateVersionedBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket, Chunked());
        AssertOk(await runner.PostAsync("/db/execute", TwelveMegabytes));
        AssertOk(await runner.PostAsync("/db/execute", Insert("kept")));

        var response = await runner.GetAsync("/db/backup");

        Assert.True(response.StatusCode == 307, $"status {response.StatusCode}: {response.Body}");
        var location = new Uri(response.Header("Location")!);
        Assert.Contains("/databases/_staging/default/backup-", location.AbsolutePath, StringComparison.Ordinal);
        using var http = new HttpClient();
        var file = await http.GetByteArrayAsync(location);
        Assert.Equal(3000L, DatabaseFiles.Query(file, "SELECT count(*) FROM big"));
        Assert.Equal("kept", DatabaseFiles.Query(file, "SELECT v FROM t"));
    }

    [Fact]
    public async Task A_write_whose_chunks_cannot_be_uploaded_is_a_503_and_leaves_the_manifest_it_read_in_place()
    {
        var bucket = await moto.CreateBucketAsync();
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var runner = new QueryRunnerInstance(moto, bucket, ChunkedUnderFaults(proxy, retrySeconds: 2));
        AssertOk(await runner.PostAsync("/db/execute", """["CREATE TABLE t (v TEXT)", "INSERT INTO t VALUES ('before')"]"""));
        var before = await HeadAsync(bucket);
        var rule = proxy.Add(FaultRule.S3Error(r => r.Method == "PUT" && r.Path.StartsWith($"/{bucket}/{ChunkPrefix}", StringComparison.Ordinal), FaultTimes.Every));

        var answer = await runner.PostAsync("/db/execute", Insert("after"));

        Assert.True(answer.StatusCode == 503, $"status {answer.StatusCode}: {answer.Body}");
        Assert.True(rule.Fired > 0);
        Assert.Empty(proxy.Exchanges.Where(e => e.Request.Method == "PUT" && e.Request.Path == $"/{bucket}/{Key}" && e.Landed).Skip(1));
        Assert.Equal(before.ETag, (await HeadAsync(bucket)).ETag);
        proxy.ClearRules();
        using var fresh = new QueryRunnerInstance(moto, bucket, Chunked());
        Assert.Equal(["before"], await ValuesAsync(fresh));
    }

    [Fact]
    public async Task The_local_server_stores_a_chunked_database_as_a_manifest_and_chunk_files_and_serves_it_whole()
    {
        await using var server = await LocalServer.LocalServerHandle.StartAsync(Chunked());
        await server.PostAsync("/db/execute", TwelveMegabytes);
        await server.PostAsync("/db/execute", Insert("local"));
        var uploaded = System.Text.RegularExpressions.Regex.Matches(server.Output, "\"BytesUploaded\":([0-9]+)").Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.True(uploaded.Count >= 2, $"no BytesUploaded metric in the log: {server.Output}");
        Assert.True(uploaded[^1] is > 0 and <= (2 * ChunkBytes) + (16 * 1024), $"the one-row write's log says {uploaded[^1]} bytes uploaded");
        Assert.True(uploaded[^2] > 11 * ChunkBytes, $"the first write's log says {uploaded[^2]} bytes uploaded");

        var stored = await File.ReadAllBytesAsync(Path.Combine(server.DataDirectory, "default.sqlite"));
        Assert.Equal((byte)'{', stored[0]);
        Assert.True(stored.Length < 16 * 1024, $"the manifest is {stored.Length} bytes");
        var chunkFiles = Directory.GetFiles(Path.Combine(server.DataDirectory, "_chunks", "default"));
        Assert.True(chunkFiles.Length >= 12, $"{chunkFiles.Length} chunk files");
        var query = await server.Http.GetStringAsync("/db/query?q=SELECT%20v%20FROM%20t");
        Assert.Contains("local", query, StringComparison.Ordinal);
        var backup = await server.Http.GetByteArrayAsync("/db/backup");
        Assert.Equal(3000L, DatabaseFiles.Query(backup, "SELECT count(*) FROM big"));
        Assert.Equal("local", DatabaseFiles.Query(backup, "SELECT v FROM t"));
    }

    public static TheoryData<string> ManifestFaults =>
    [
        "manifest PUT lands but its answer is dropped, once",
        "chunk PUTs fail with 500 twice",
        "s3 503 SlowDown on a third of all requests",
    ];

    /// <summary>
    /// Faults the retries get past, under the chunked layout: each increment is answered 200 and applied exactly once
    /// (a landed manifest PUT whose answer was lost is recognised by its commit id), read back by a fresh container.
    /// </summary>
    [Theory]
    [MemberData(nameof(ManifestFaults))]
    public async Task Under_faults_every_chunked_write_is_applied_exactly_once(string fault)
    {
        var bucket = await moto.CreateBucketAsync();
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var runner = new QueryRunnerInstance(moto, bucket, ChunkedUnderFaults(proxy, retrySeconds: 3));
        AssertOk(await runner.PostAsync("/db/execute", """["CREATE TABLE counter (n INTEGER NOT NULL)", "INSERT INTO counter VALUES (0)", "CREATE TABLE pad (b BLOB)", "INSERT INTO pad VALUES (randomblob(3000000))"]"""));
        var rule = proxy.Add(fault switch
        {
            "manifest PUT lands but its answer is dropped, once" => FaultRule.DropAnswer(FaultRule.S3("PUT", $"/{bucket}/{Key}"), FaultTimes.First(1)),
            "chunk PUTs fail with 500 twice" => FaultRule.S3Error(r => r.Method == "PUT" && r.Path.StartsWith($"/{bucket}/{ChunkPrefix}", StringComparison.Ordinal), FaultTimes.First(2)),
            "s3 503 SlowDown on a third of all requests" => FaultRule.SlowDown(r => r.Ec2Action is null, FaultTimes.WithProbability(0.33, seed: 20261202)),
            _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, "no such fault case"),
        });

        const int Increments = 4;
        for (var i = 0; i < Increments; i++)
        {
            var answer = await runner.PostAsync("/db/execute", """["UPDATE counter SET n = n + 1", "UPDATE pad SET b = randomblob(3000000)"]""");
            Assert.True(answer.StatusCode == 200, $"{fault}: increment {i + 1}: {answer.StatusCode} {answer.Body}{Environment.NewLine}{proxy.Describe()}");
        }

        proxy.ClearRules();
        Assert.True(rule.Fired > 0, $"the fault never fired: {proxy.Describe()}");
        using var fresh = new QueryRunnerInstance(moto, bucket, Chunked());
        var stored = await fresh.GetAsync("/db/query", "q=SELECT%20n%20FROM%20counter");
        AssertOk(stored);
        Assert.Contains($"[[{Increments}]]", stored.Body, StringComparison.Ordinal);
        var check = await fresh.GetAsync("/db/query", "q=PRAGMA%20quick_check");
        Assert.Contains("\"ok\"", check.Body, StringComparison.Ordinal);
    }
}
