using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Amazon.S3.Model;
using Microsoft.Data.Sqlite;

namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>
/// Two databases of about 25 MB for the lazy-read tests, built once per moto_server and shared by their classes (the
/// tests only read them): <see cref="Whole"/> stored as one file (STORAGE_LAYOUT=whole) and <see cref="Chunked"/> as a
/// manifest and chunks (the default, auto, from 4 MiB). Each is <see cref="Rows"/> rows of a 4000-byte randomblob, one
/// row a page, with an index on <c>k</c>; the answers the tests compare with are computed by a reader that downloads
/// the whole file (LAZY_READ_MIN_BYTES=off), and for the whole file also by SQLite on a downloaded copy of the object.
/// </summary>
public sealed class LazyReadDatabases
{
    public const int Rows = 6000;
    public const string Prefix = "databases/";

    private static readonly ConditionalWeakTable<MotoServerFixture, Task<LazyReadDatabases>> Built = new();

    private LazyReadDatabases(string bucket, Stored whole, Stored chunked)
    {
        Bucket = bucket;
        Whole = whole;
        Chunked = chunked;
    }

    /// <summary>The keys the point queries look up: near the start, the middle and the end of the table.</summary>
    public static IReadOnlyList<string> PointKeys { get; } = ["k00017", "k03457", "k05999"];

    /// <summary>Reads every row's payload: a full scan.</summary>
    public const string FullScan = "SELECT count(*), sum(length(payload)), sum(tag), sum(unicode(hex(substr(payload, 2000, 1)))) FROM big";

    public string Bucket { get; }

    public Stored Whole { get; }

    public Stored Chunked { get; }

    public Stored Of(string layout) => layout == "whole" ? Whole : Chunked;

    /// <summary>A point query through the index on <c>k</c>; its answer holds bytes of the row's payload.</summary>
    public static string PointQuery(string k) =>
        $"SELECT id, k, tag, hex(substr(payload, 1, 24)), hex(substr(payload, 3990, 10)), length(payload) FROM big WHERE k = '{k}'";

    /// <summary>The statements that build a database of <paramref name="rows"/> rows (about 4 KiB each) with an index on k.</summary>
    public static string BuildStatements(int rows) =>
        "[\"CREATE TABLE big (id INTEGER PRIMARY KEY, k TEXT NOT NULL, tag INTEGER NOT NULL, payload BLOB NOT NULL)\", " +
        $"\"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows.ToString(CultureInfo.InvariantCulture)}) INSERT INTO big (k, tag, payload) SELECT printf('k%05d', i), 1, randomblob(4000) FROM n\", " +
        "\"CREATE INDEX big_k ON big (k)\"]";

    public static string KeyOf(string database) => $"{Prefix}{database}.sqlite";

    public static string ChunkPrefixOf(string database) => $"{Prefix}_chunks/{database}/";

    /// <summary>The databases, built on the first call for this moto_server.</summary>
    public static Task<LazyReadDatabases> GetAsync(MotoServerFixture moto) => Built.GetValue(moto, BuildAsync);

    /// <summary>GET /db/query of <paramref name="sql"/> on <paramref name="database"/>.</summary>
    public static Task<LambdaResponse> QueryAsync(QueryRunnerInstance runner, string database, string sql) =>
        runner.GetAsync("/db/query", $"db={database}&q={Uri.EscapeDataString(sql)}");

    /// <summary>
    /// What an answer says, without its timings: each result's columns, types and values, or its error; the
    /// status and body when it is not a 200 with results.
    /// </summary>
    public static string Canonical(LambdaResponse response)
    {
        if (response.StatusCode != 200)
        {
            return $"status {response.StatusCode}: {response.Body}";
        }

        using var document = JsonDocument.Parse(response.Body);
        if (!document.RootElement.TryGetProperty("results", out var results))
        {
            return $"no results: {response.Body}";
        }

        return string.Join(" | ", results.EnumerateArray().Select(result =>
            result.TryGetProperty("error", out var error) ? $"error {error}"
            : $"{Field(result, "columns")} {Field(result, "types")} {Field(result, "values")}"));
    }

    private static string Field(JsonElement result, string name) => result.TryGetProperty(name, out var value) ? value.GetRawText() : "-";

    /// <summary>
    /// Asserts the rule that no result is answered from a failed fetch: a 200's results hold no error (an I/O error
    /// SQLite met would be one), and an answer that is not a 200 has no results at all.
    /// </summary>
    public static void AssertNoResultFromAFailedFetch(LambdaResponse response)
    {
        if (response.StatusCode != 200)
        {
            // An error's body is its message (text), never results.
            Assert.False(response.Body.TrimStart().StartsWith('{') && response.Body.Contains("\"results\"", StringComparison.Ordinal), $"a {response.StatusCode} carries results: {response.Body}");
            return;
        }

        using var document = JsonDocument.Parse(response.Body);
        var hasResults = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("results", out _);

        Assert.True(hasResults, $"a 200 without results: {response.Body}");
        foreach (var result in document.RootElement.GetProperty("results").EnumerateArray())
        {
            Assert.False(result.TryGetProperty("error", out var error), $"a 200 answered a statement's error: {error}");
        }
    }

    /// <summary>The last request line of <paramref name="runner"/>'s log (the one with the request's metrics).</summary>
    public static JsonElement LastRequestLine(QueryRunnerInstance runner)
    {
        var line = runner.LogLines.LastOrDefault(l => l.Contains("\"RangeReads\"", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"no request line with RangeReads in the log:{Environment.NewLine}{string.Join(Environment.NewLine, runner.LogLines)}");
        using var document = JsonDocument.Parse(line);
        return document.RootElement.Clone();
    }

    public static double Metric(JsonElement line, string name) =>
        line.TryGetProperty(name, out var value) ? value.GetDouble() : throw new Xunit.Sdk.XunitException($"no {name} in {line}");

    /// <summary>The bytes of the files under the container's lazy block cache folders (<c>{CACHE_DIR}/p-*/blocks/</c>).</summary>
    public static long BlockCacheBytes(QueryRunnerInstance runner)
    {
        long total = 0;
        foreach (var blocks in Directory.EnumerateDirectories(runner.CacheDirectory, "blocks", SearchOption.AllDirectories))
        {
            try
            {
                foreach (var file in new DirectoryInfo(blocks).EnumerateFiles("*", SearchOption.AllDirectories))
                {
                    try
                    {
                        total += file.Length;
                    }
                    catch (FileNotFoundException)
                    {
                        // Evicted while we looked.
                    }
                }
            }
            catch (DirectoryNotFoundException)
            {
            }
        }

        return total;
    }

    /// <summary>Builds <paramref name="database"/> with <paramref name="rows"/> rows through <paramref name="writer"/>.</summary>
    public static async Task BuildAsync(QueryRunnerInstance writer, string database, int rows)
    {
        var built = await writer.PostAsync("/db/execute", BuildStatements(rows), $"db={database}");
        Assert.True(built.StatusCode == 200, $"building {database}: {built.StatusCode} {built.Body}");
        Assert.DoesNotContain("\"error\"", built.Body, StringComparison.Ordinal);
    }

    public static bool IsManifest(GetObjectMetadataResponse head) =>
        head.Metadata.Keys.Any(k => k.Equals("x-amz-meta-serverlessdb-layout", StringComparison.OrdinalIgnoreCase) && head.Metadata[k] == "chunked");

    private static async Task<LazyReadDatabases> BuildAsync(MotoServerFixture moto)
    {
        var bucket = await moto.CreateVersionedBucketAsync();
        using (var writer = new QueryRunnerInstance(moto, bucket, new Dictionary<string, string?> { ["STORAGE_LAYOUT"] = "whole" }))
        {
            await BuildAsync(writer, "lazy-whole", Rows);
        }

        using (var writer = new QueryRunnerInstance(moto, bucket))
        {
            await BuildAsync(writer, "lazy-chunked", Rows);
        }

        var wholeHead = await moto.S3.GetObjectMetadataAsync(bucket, KeyOf("lazy-whole"));
        var chunkedHead = await moto.S3.GetObjectMetadataAsync(bucket, KeyOf("lazy-chunked"));
        Assert.False(IsManifest(wholeHead), "STORAGE_LAYOUT=whole stored a manifest");
        Assert.True(IsManifest(chunkedHead), "STORAGE_LAYOUT=auto did not chunk a 25 MB database");

        using var downloader = new QueryRunnerInstance(moto, bucket, new Dictionary<string, string?> { ["LAZY_READ_MIN_BYTES"] = "off" });
        var whole = await ExpectAsync(downloader, "lazy-whole", "whole", wholeHead.ETag);
        var chunked = await ExpectAsync(downloader, "lazy-chunked", "chunked", chunkedHead.ETag);
        Assert.Equal(wholeHead.ContentLength, whole.Bytes);

        // The downloading reader's answers are those of SQLite itself on the stored file.
        var path = Path.GetTempFileName();
        try
        {
            using (var object_ = await moto.S3.GetObjectAsync(bucket, KeyOf("lazy-whole")))
            {
                await object_.WriteResponseStreamToFileAsync(path, append: false, CancellationToken.None);
            }

            using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
            connection.Open();
            foreach (var k in PointKeys)
            {
                using var command = new SqliteCommand($"SELECT hex(substr(payload, 1, 24)) FROM big WHERE k = '{k}'", connection);
                var hex = (string)command.ExecuteScalar()!;
                Assert.True(whole.Expected[PointQuery(k)].Contains($"\"{hex}\"", StringComparison.Ordinal), $"the downloading reader's answer for {k} is not the stored file's {hex}: {whole.Expected[PointQuery(k)]}");
            }
        }
        finally
        {
            File.Delete(path);
        }

        return new LazyReadDatabases(bucket, whole, chunked);
    }

    private static async Task<Stored> ExpectAsync(QueryRunnerInstance downloader, string database, string layout, string etag)
    {
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var sql in PointKeys.Select(PointQuery).Append(FullScan))
        {
            var answer = await QueryAsync(downloader, database, sql);
            Assert.True(answer.StatusCode == 200, $"{database}: {sql}: {answer.StatusCode} {answer.Body}");
            AssertNoResultFromAFailedFetch(answer);
            expected[sql] = Canonical(answer);
        }

        Assert.Contains($"[[{Rows},{Rows * 4000},{Rows}", expected[FullScan], StringComparison.Ordinal);
        var size = await QueryAsync(downloader, database, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
        using var document = JsonDocument.Parse(size.Body);
        var bytes = document.RootElement.GetProperty("results")[0].GetProperty("values")[0][0].GetInt64();
        Assert.InRange(bytes, 20_000_000, 40_000_000);
        return new Stored(database, layout, bytes, etag, expected);
    }

    /// <summary>One stored database: its name, layout, file size, ETag of its key, and the answers expected of its queries.</summary>
    public sealed record Stored(string Name, string Layout, long Bytes, string ETag, IReadOnlyDictionary<string, string> Expected)
    {
        public string Key => KeyOf(Name);

        public string ChunkPrefix => ChunkPrefixOf(Name);
    }
}
