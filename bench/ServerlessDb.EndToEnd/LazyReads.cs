using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Amazon.S3.Model;
using Microsoft.Data.Sqlite;

namespace ServerlessDb.EndToEnd;

/// <summary>
/// The lazy-read benchmarks of issue 19: cold reads of large databases by a fresh container (empty cache), read in place
/// (LAZY_READ_MIN_BYTES at its default), downloaded whole (LAZY_READ_MIN_BYTES=off), with a 64 MiB cache, from a
/// whole-file object, and by the seed PoC; a 1% indexed range, a full scan, a one-row write, and the point read across
/// small sizes to choose LAZY_READ_MIN_BYTES. See docs/benchmarks.md ("Lazy reads (issue 19)").
///
///   dotnet run -c Release --project bench/ServerlessDb.EndToEnd -- lazy [--sizes-mb 1024,10240] [--rounds 3]
///       [--large-rounds 2] [--thresholds-mb 1,4,16,64] [--whole-max-mb 64] [--heavy-max-mb 1024]
///       [--only point,range,scan,write,threshold]
///       [--label NAME] [--env NAME=VALUE ...] [--out docs/benchmarks/lazy.json]
///
/// Every database is the same schema: items(id INTEGER PRIMARY KEY, name TEXT, category INTEGER, payload BLOB), 1300
/// random bytes of payload a row, an index on name, and a 100-row categories table the point read joins. The chunked
/// ones are built by a ServerlessDb container itself (one write request that creates and fills them, committed under
/// STORAGE_LAYOUT=auto); the whole-file copy for the seed and for our whole-file lazy reads is built here with
/// Microsoft.Data.Sqlite and uploaded as one object. moto runs with MOTO_S3_DEFAULT_KEY_BUFFER_SIZE=1 MiB, so every
/// chunk lives in a temporary file, not in moto's memory. The seed and our whole-file object are measured up to
/// --whole-max-mb only (moto reads a whole object for every ranged GET: see the note the run records); the range's
/// download, the full scan and the write up to --heavy-max-mb.
/// </summary>
internal static class LazyReads
{
    private const int PayloadBytes = 1300;
    private const long BytesPerRow = 1390; // a 4 KiB page holds 3 rows; plus the name index's share
    private const string OneRowWrite = "UPDATE categories SET hits = hits + 1 WHERE id = 1";
    private const string FullScan = "SELECT sum(length(payload)) FROM items";
    private const long SmallCache = 64L * 1024 * 1024;

    public static async Task<int> RunAsync(string[] args, string localServerDll, string seedHandler)
    {
        var options = LazyOptions.Parse(args);
        var run = new Run(options, localServerDll, seedHandler);
        return await run.ExecuteAsync();
    }

    private static string[] Schema(long rows) =>
    [
        "CREATE TABLE categories (id INTEGER PRIMARY KEY, label TEXT NOT NULL, hits INTEGER NOT NULL DEFAULT 0)",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO categories (id, label) SELECT i, 'category-' || i FROM n",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category INTEGER NOT NULL, payload BLOB NOT NULL)",
        "CREATE INDEX items_name ON items (name)",
        string.Create(CultureInfo.InvariantCulture, $"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) INSERT INTO items SELECT i, printf('item-%09d', i), i % 100 + 1, randomblob({PayloadBytes}) FROM n"),
    ];

    private static long RowsFor(int megabytes) => megabytes * 1024L * 1024 / BytesPerRow;

    /// <summary>An indexed point lookup (by name, through items_name) joined to categories.</summary>
    private static string PointRead(long id) => string.Create(CultureInfo.InvariantCulture,
        $"SELECT i.id, i.name, c.label, length(i.payload) FROM items i JOIN categories c ON c.id = i.category WHERE i.name = 'item-{id:D9}'");

    /// <summary>1% of the rows, by the primary key: a contiguous run of the table's pages.</summary>
    private static string RangeRead(long from, long rows) => string.Create(CultureInfo.InvariantCulture,
        $"SELECT count(*), sum(length(payload)), min(name), max(name) FROM items WHERE id BETWEEN {from} AND {from + rows / 100 - 1}");

    private sealed class Run(LazyOptions options, string localServerDll, string seedHandler)
    {
        private readonly List<LazySample> _samples = [];
        private readonly List<LazyDatabase> _databases = [];
        private readonly List<string> _notes = [];
        private Moto _moto = null!;
        private string _vpc = null!;

        private bool Does(string part) => options.Only is null || options.Only.Contains(part);

        public async Task<int> ExecuteAsync()
        {
            var machineBefore = MachineState();
            using var moto = await Moto.StartAsync(new Dictionary<string, string?> { ["MOTO_S3_DEFAULT_KEY_BUFFER_SIZE"] = (1024 * 1024).ToString(CultureInfo.InvariantCulture) });
            _moto = moto;
            _vpc = await moto.CreateVpcAsync();
            Console.WriteLine($"moto {moto.Url}, VPC {_vpc}; sizes {string.Join(", ", options.SizesMb)} MB; {machineBefore}");
            await moto.CreateBucketAsync(OurBucket);
            var clock = Stopwatch.StartNew();

            // The small thresholds first, then the sizes in the order given (the largest, riskiest, last); the raw
            // samples are written after each part, and a part that fails is noted and the run goes on.
            var parts = new List<(string Name, Func<Task> Measure)>();
            if (Does("threshold"))
            {
                parts.Add(("thresholds", MeasureThresholdsAsync));
            }

            parts.AddRange(options.SizesMb.Select(size => ($"{size} MB", (Func<Task>)(() => MeasureSizeAsync(size)))));
            var failed = false;
            foreach (var (name, measure) in parts)
            {
                try
                {
                    await measure();
                }
                catch (Exception e)
                {
                    failed = true;
                    _notes.Add($"{name} failed after {clock.Elapsed:mm\\:ss}: {e.Message}");
                    Console.WriteLine($"  {name} FAILED: {e}");
                }

                Console.WriteLine($"  {name} done at {clock.Elapsed:mm\\:ss}");
                await SaveAsync(machineBefore, clock.Elapsed);
            }

            Console.WriteLine();
            Console.WriteLine(LazyReport.Markdown(_samples, _databases));
            Console.WriteLine($"raw samples: {options.Out}");
            return failed ? 1 : 0;
        }

        private async Task SaveAsync(string machineBefore, TimeSpan elapsed)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Out))!);
            await File.WriteAllTextAsync(options.Out, JsonSerializer.Serialize(
                new { options.Label, Date = DateTime.UtcNow, MachineBefore = machineBefore, MachineAfter = MachineState(), Minutes = elapsed.TotalMinutes, Settings = options.Environment, Databases = _databases, Notes = _notes, Samples = _samples },
                new JsonSerializerOptions { WriteIndented = true }));
        }

        private const string OurBucket = "lazy-ours";

        private async Task MeasureSizeAsync(int size)
        {
            var rows = RowsFor(size);
            var chunked = $"d{size}";
            var whole = $"whole{size}";
            var seedBucket = $"lazy-seed-{size}";
            var withWhole = size <= options.WholeMaxMb;
            var heavy = size <= options.HeavyMaxMb;
            await BuildChunkedAsync(chunked, size, rows);
            if (withWhole)
            {
                await BuildWholeAsync(whole, seedBucket, size, rows);
            }
            else
            {
                _notes.Add($"{size} MB: no seed and no whole-file object (--whole-max-mb {options.WholeMaxMb}): moto answers a ranged GET by reading the whole object and slicing it (moto/s3/responses.py, _handle_range_header), so the seed's download (boto3's 8 MiB ranged parts) and our whole-file lazy reads (ranged GETs) cost a read of the whole object per request; of a 1 GB object one 8 MiB part took 34 s on this loaded machine, and our whole-file lazy point read hit its 25 s deadline.");
            }

            var rounds = size >= 4096 ? options.LargeRounds : options.Rounds;
            for (var round = 0; round < rounds; round++)
            {
                var id = rows * (round + 1) / (rounds + 2);
                if (Does("point"))
                {
                    var lazy = await OursAsync("point", "lazy", size, chunked, round, [], c => c.QueryAsync(chunked, PointRead(id)));
                    var download = await OursAsync("point", "download", size, chunked, round, new() { ["LAZY_READ_MIN_BYTES"] = "off" }, c => c.QueryAsync(chunked, PointRead(id)));
                    var small = await OursAsync("point", "lazy, 64 MiB cache", size, chunked, round, new() { ["CACHE_MAX_BYTES"] = SmallCache.ToString(CultureInfo.InvariantCulture) }, c => c.QueryAsync(chunked, PointRead(id)));
                    Same("point", size, lazy, download, small);
                    if (withWhole)
                    {
                        Same("point", size, lazy, await OursAsync("point", "lazy, whole-file object", size, whole, round, [], c => c.QueryAsync(whole, PointRead(id))));
                        if (round < 2)
                        {
                            await SeedAsync("point", "seed", size, seedBucket, round, PointRead(id));
                        }
                    }
                }

                if (Does("range"))
                {
                    var lazy = await OursAsync("range 1%", "lazy", size, chunked, round, [], c => c.QueryAsync(chunked, RangeRead(id, rows)));
                    if (heavy)
                    {
                        Same("range", size, lazy, await OursAsync("range 1%", "download", size, chunked, round, new() { ["LAZY_READ_MIN_BYTES"] = "off" }, c => c.QueryAsync(chunked, RangeRead(id, rows))));
                    }
                }

                if (Does("scan") && heavy)
                {
                    var lazy = await OursAsync("full scan", "lazy", size, chunked, round, [], c => c.QueryAsync(chunked, FullScan));
                    var download = await OursAsync("full scan", "download", size, chunked, round, new() { ["LAZY_READ_MIN_BYTES"] = "off" }, c => c.QueryAsync(chunked, FullScan));
                    Same("scan", size, lazy, download);
                }

                if (Does("write") && heavy && round < 2)
                {
                    await OursAsync("one-row write", "ours (as shipped)", size, chunked, round, [], c => c.ExecuteAsync(chunked, [OneRowWrite]), watchCache: true);
                    if (round == 0 && withWhole)
                    {
                        await SeedAsync("one-row write", "seed", size, seedBucket, round, OneRowWrite);
                    }
                }

                Console.WriteLine($"  {size} MB round {round + 1}/{rounds}");
            }

            await DeleteDatabaseAsync(OurBucket, $"databases/{chunked}.sqlite", $"databases/_chunks/{chunked}/");
            if (withWhole)
            {
                await DeleteDatabaseAsync(OurBucket, $"databases/{whole}.sqlite", null);
                await DeleteDatabaseAsync(seedBucket, "database.db", null);
            }
        }

        private async Task MeasureThresholdsAsync()
        {
            foreach (var size in options.ThresholdsMb)
            {
                var name = $"t{size}";
                var rows = RowsFor(size);
                await BuildChunkedAsync(name, size, rows);
                for (var round = 0; round < options.Rounds; round++)
                {
                    var id = rows * (round + 1) / (options.Rounds + 2);
                    var lazy = await OursAsync("threshold point", "lazy (LAZY_READ_MIN_BYTES=0)", size, name, round, new() { ["LAZY_READ_MIN_BYTES"] = "0" }, c => c.QueryAsync(name, PointRead(id)));
                    var download = await OursAsync("threshold point", "download (LAZY_READ_MIN_BYTES=off)", size, name, round, new() { ["LAZY_READ_MIN_BYTES"] = "off" }, c => c.QueryAsync(name, PointRead(id)));
                    Same("threshold", size, lazy, download);
                }

                await DeleteDatabaseAsync(OurBucket, $"databases/{name}.sqlite", $"databases/_chunks/{name}/");
            }
        }

        /// <summary>Creates and fills <paramref name="name"/> with one write request to a ServerlessDb container (STORAGE_LAYOUT=auto, as shipped).</summary>
        private async Task BuildChunkedAsync(string name, int size, long rows)
        {
            var started = Stopwatch.GetTimestamp();
            using (var builder = await OurProcess.StartAsync(_moto.Url, _vpc, OurBucket, localServerDll, Settings(new() { ["REQUEST_TIMEOUT_SECONDS"] = "900", ["STORAGE_RETRY_SECONDS"] = "600", ["LAZY_READ_MIN_BYTES"] = "off", ["CACHE_MAX_BYTES"] = "1048576" })))
            {
                await builder.ExecuteAsync(name, Schema(rows));
            }

            var head = await _moto.S3.GetObjectMetadataAsync(OurBucket, $"databases/{name}.sqlite");
            var layout = head.Metadata["x-amz-meta-serverlessdb-layout"] ?? "whole";
            var length = layout == "chunked" ? await ManifestLengthAsync(name) : head.ContentLength;
            var chunks = layout == "chunked" ? await CountAsync(OurBucket, $"databases/_chunks/{name}/") : 0;
            _databases.Add(new LazyDatabase(name, size, length, rows, layout, chunks, Stopwatch.GetElapsedTime(started).TotalSeconds, "one write request to a ServerlessDb container (STORAGE_LAYOUT=auto)"));
            Console.WriteLine($"  built {name}: {length:N0} bytes, {rows:N0} rows, {layout}, {chunks} chunk objects, {Stopwatch.GetElapsedTime(started).TotalSeconds:0} s");
        }

        private async Task<long> ManifestLengthAsync(string name)
        {
            using var manifest = await _moto.S3.GetObjectAsync(OurBucket, $"databases/{name}.sqlite");
            using var json = await JsonDocument.ParseAsync(manifest.ResponseStream);
            return json.RootElement.GetProperty("length").GetInt64();
        }

        /// <summary>The same rows built here as one SQLite file, uploaded whole for the seed and as our whole-file object.</summary>
        private async Task BuildWholeAsync(string whole, string seedBucket, int size, long rows)
        {
            var started = Stopwatch.GetTimestamp();
            var path = Path.Combine(Path.GetTempPath(), $"serverlessdb-lazy-{size}mb-{Guid.NewGuid():N}.sqlite");
            try
            {
                using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
                {
                    connection.Open();
                    Execute(connection, "PRAGMA journal_mode=OFF");
                    Execute(connection, "PRAGMA synchronous=OFF");
                    Execute(connection, "BEGIN");
                    foreach (var statement in Schema(rows))
                    {
                        Execute(connection, statement);
                    }

                    Execute(connection, "COMMIT");
                    Execute(connection, "PRAGMA journal_mode=DELETE"); // the file as a client would upload it
                }

                await _moto.CreateBucketAsync(seedBucket);
                await _moto.UploadAsync(seedBucket, "database.db", path);
                await _moto.UploadAsync(OurBucket, $"databases/{whole}.sqlite", path);
                var length = new FileInfo(path).Length;
                _databases.Add(new LazyDatabase(whole, size, length, rows, "whole", 0, Stopwatch.GetElapsedTime(started).TotalSeconds, "built here with Microsoft.Data.Sqlite (one transaction, journal_mode=OFF, synchronous=OFF), uploaded whole (also as the seed's database.db)"));
                Console.WriteLine($"  built {whole}: {length:N0} bytes, whole, {Stopwatch.GetElapsedTime(started).TotalSeconds:0} s");
            }
            finally
            {
                File.Delete(path);
            }
        }

        private static void Execute(SqliteConnection connection, string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.CommandTimeout = 0;
            command.ExecuteNonQuery();
        }

        private Dictionary<string, string?> Settings(Dictionary<string, string?> settings)
        {
            var all = new Dictionary<string, string?>(options.Environment);
            foreach (var (key, value) in settings)
            {
                all[key] = value;
            }

            return all;
        }

        /// <summary>One request by a fresh ServerlessDb container with an empty cache folder: what it cost, and its answer.</summary>
        private async Task<string> OursAsync(string scenario, string variant, int size, string database, int round, Dictionary<string, string?> settings, Func<OurProcess, Task<(TimeSpan Elapsed, string Body)>> request, bool watchCache = false)
        {
            using var container = await OurProcess.StartAsync(_moto.Url, _vpc, OurBucket, localServerDll, Settings(settings));
            var (gets, heads, puts) = (container.S3.Requests("GET"), container.S3.Requests("HEAD"), container.S3.Requests("PUT"));
            var before = container.S3.Bytes;
            var (cpuBefore, motoCpuBefore) = (container.CpuTime(), _moto.CpuTime());
            using var watch = watchCache ? new FolderWatch(container.CacheDirectory) : null;
            var (elapsed, body) = await request(container);
            var (cpu, motoCpu) = (container.CpuTime() - cpuBefore, _moto.CpuTime() - motoCpuBefore);
            var peak = watch?.Stop();
            var after = container.S3.Bytes;
            var line = await container.RequestLineAsync();
            var sample = new LazySample(options.Label, scenario, variant, size, database, round, elapsed.TotalMilliseconds,
                container.S3.Requests("GET") - gets, container.S3.Requests("HEAD") - heads, container.S3.Requests("PUT") - puts,
                after.Sent - before.Sent, after.Received - before.Received,
                Metric(line, "RangeReads"), Metric(line, "BlockCacheHits"), Metric(line, "BytesDownloaded"), Metric(line, "BytesUploaded"),
                peak, watchCache ? DiskUsage(container.CacheDirectory) : null, container.PeakMemoryBytes(), Answer(body), cpu.TotalSeconds, motoCpu.TotalSeconds);
            _samples.Add(sample);
            Console.WriteLine($"    {scenario} | {variant} | {size} MB | {sample.Milliseconds:0} ms | GET {sample.Gets} HEAD {sample.Heads} PUT {sample.Puts} | down {sample.BytesDown:N0} up {sample.BytesUp:N0} | RangeReads {sample.RangeReads} BlockCacheHits {sample.BlockCacheHits}{(peak is null ? string.Empty : $" | cache peak {peak:N0}, du after {sample.CacheDiskAfterBytes:N0}")}");
            return sample.Answer ?? string.Empty;
        }

        private async Task SeedAsync(string scenario, string variant, int size, string bucket, int round, string query)
        {
            using var seed = await SeedProcess.StartAsync(_moto.Url, _vpc, bucket, seedHandler);
            var (gets, heads, puts) = (seed.S3.Requests("GET"), seed.S3.Requests("HEAD"), seed.S3.Requests("PUT"));
            var before = seed.S3.Bytes;
            var (cpuBefore, motoCpuBefore) = (seed.CpuTime(), _moto.CpuTime());
            var elapsed = await seed.InvokeAsync(query);
            var (cpu, motoCpu) = (seed.CpuTime() - cpuBefore, _moto.CpuTime() - motoCpuBefore);
            var after = seed.S3.Bytes;
            var sample = new LazySample(options.Label, scenario, variant, size, "database.db", round, elapsed.TotalMilliseconds,
                seed.S3.Requests("GET") - gets, seed.S3.Requests("HEAD") - heads, seed.S3.Requests("PUT") - puts,
                after.Sent - before.Sent, after.Received - before.Received, null, null, null, null, null, SeedFileBytes(), seed.PeakMemoryBytes(), null, cpu.TotalSeconds, motoCpu.TotalSeconds);
            _samples.Add(sample);
            File.Delete("/tmp/database.db");
            Console.WriteLine($"    {scenario} | {variant} | {size} MB | {sample.Milliseconds:0} ms | GET {sample.Gets} HEAD {sample.Heads} PUT {sample.Puts} | down {sample.BytesDown:N0} up {sample.BytesUp:N0}");
        }

        // The seed downloads to the fixed path /tmp/database.db on every request.
        private static long? SeedFileBytes() => File.Exists("/tmp/database.db") ? new FileInfo("/tmp/database.db").Length : null;

        private void Same(string what, int size, string expected, params string[] others)
        {
            foreach (var other in others)
            {
                if (other != expected)
                {
                    throw new InvalidOperationException($"{what} at {size} MB answered differently: {expected} against {other}");
                }
            }
        }

        private static long? Metric(JsonElement? line, string name) =>
            line is { } l && l.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? (long)value.GetDouble() : null;

        private static string? Answer(string body)
        {
            using var json = JsonDocument.Parse(body);
            var results = json.RootElement.GetProperty("results");
            if (results.GetArrayLength() == 0)
            {
                return string.Empty;
            }

            var last = results[results.GetArrayLength() - 1];
            return last.TryGetProperty("values", out var values) ? values.GetRawText() : last.TryGetProperty("rows_affected", out var affected) ? $"rows_affected {affected}" : last.GetRawText();
        }

        private async Task DeleteDatabaseAsync(string bucket, string key, string? chunkPrefix)
        {
            await _moto.S3.DeleteObjectAsync(bucket, key);
            if (chunkPrefix is null)
            {
                return;
            }

            string? token = null;
            do
            {
                var listed = await _moto.S3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = chunkPrefix, ContinuationToken = token });
                foreach (var item in listed.S3Objects ?? [])
                {
                    await _moto.S3.DeleteObjectAsync(bucket, item.Key);
                }

                token = listed.IsTruncated == true ? listed.NextContinuationToken : null;
            }
            while (token is not null);
        }

        private async Task<int> CountAsync(string bucket, string prefix)
        {
            var count = 0;
            string? token = null;
            do
            {
                var listed = await _moto.S3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = prefix, ContinuationToken = token });
                count += listed.S3Objects?.Count ?? 0;
                token = listed.IsTruncated == true ? listed.NextContinuationToken : null;
            }
            while (token is not null);
            return count;
        }
    }

    /// <summary>Allocated bytes under a folder, as du counts them.</summary>
    internal static long DiskUsage(string folder)
    {
        using var du = Process.Start(new ProcessStartInfo("du", ["-s", "-B1", folder]) { RedirectStandardOutput = true })!;
        var output = du.StandardOutput.ReadToEnd();
        du.WaitForExit();
        return long.Parse(output.Split('\t')[0], CultureInfo.InvariantCulture);
    }

    internal static string MachineState()
    {
        var load = File.ReadAllText("/proc/loadavg").Split(' ');
        var available = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return $"load average {load[0]} {load[1]} {load[2]}, {Environment.ProcessorCount} cores, {long.Parse(available, CultureInfo.InvariantCulture) / 1024 / 1024} GB available";
    }
}

/// <summary>The largest apparent size of a folder's files while it runs (sampled every 20 ms).</summary>
internal sealed class FolderWatch : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _task;
    private long _peak;

    public FolderWatch(string folder)
    {
        _task = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                _peak = Math.Max(_peak, Size(folder));
                try
                {
                    await Task.Delay(20, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
    }

    public long Stop()
    {
        _stop.Cancel();
        _task.Wait();
        return _peak;
    }

    private static long Size(string folder)
    {
        long total = 0;
        try
        {
            foreach (var file in new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                try
                {
                    total += file.Length;
                }
                catch (IOException)
                {
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return total;
    }

    public void Dispose() => _stop.Cancel();
}

/// <summary>A ServerlessDb local server in S3 mode with the EC2 lock, its S3 through a counting proxy, its request log lines kept.</summary>
internal sealed class OurProcess : IDisposable
{
    private readonly ChildProcess _process;
    private readonly HttpClient _http;
    private readonly ConcurrentQueue<string> _requestLines;
    private int _linesTaken;

    private OurProcess(ChildProcess process, CountingProxy s3, Uri url, string cache, ConcurrentQueue<string> requestLines)
    {
        _process = process;
        S3 = s3;
        CacheDirectory = cache;
        _requestLines = requestLines;
        _http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(20) };
    }

    public CountingProxy S3 { get; }

    public string CacheDirectory { get; }

    public static async Task<OurProcess> StartAsync(Uri moto, string vpc, string bucket, string localServerDll, IReadOnlyDictionary<string, string?> settings)
    {
        var s3 = new CountingProxy(moto);
        var cache = Directory.CreateTempSubdirectory("serverlessdb-lazy-cache-").FullName;
        var environment = Backend.AwsEnvironment();
        environment["AWS_ENDPOINT_URL_EC2"] = moto.ToString();
        environment["LOCK_VPC_ID"] = vpc;
        environment["CACHE_DIR"] = cache;
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        var port = FreePort();
        var lines = new ConcurrentQueue<string>();
        var process = ChildProcess.Start(
            "dotnet",
            [localServerDll, "--port", port.ToString(CultureInfo.InvariantCulture), "--s3-endpoint", s3.Url.ToString(), "--bucket", bucket],
            environment,
            onLine: line =>
            {
                if (line.Contains("\"message\":\"request\"", StringComparison.Ordinal))
                {
                    lines.Enqueue(line);
                }
            });
        var container = new OurProcess(process, s3, new Uri($"http://127.0.0.1:{port}"), cache, lines);
        while (true)
        {
            if (process.Process.HasExited)
            {
                throw new InvalidOperationException($"the local server exited with {process.Process.ExitCode}:\n{process.Output()}");
            }

            try
            {
                using var ready = await container._http.GetAsync("/readyz");
                if (ready.IsSuccessStatusCode)
                {
                    return container;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(10);
        }
    }

    public Task<(TimeSpan, string)> QueryAsync(string database, string sql) =>
        SendAsync(() => _http.GetAsync($"/db/query?db={database}&q={Uri.EscapeDataString(sql)}"));

    public Task<(TimeSpan, string)> ExecuteAsync(string database, string[] statements) =>
        SendAsync(() => _http.PostAsync($"/db/execute?db={database}", new StringContent(JsonSerializer.Serialize(statements), Encoding.UTF8, "application/json")));

    /// <summary>The request log line of the last request sent (waits up to 2 s for it); null if none came.</summary>
    public async Task<JsonElement?> RequestLineAsync()
    {
        for (var i = 0; i < 200 && _requestLines.Count <= _linesTaken; i++)
        {
            await Task.Delay(10);
        }

        var all = _requestLines.ToArray();
        if (all.Length <= _linesTaken)
        {
            return null;
        }

        _linesTaken = all.Length;
        using var json = JsonDocument.Parse(all[^1]);
        return json.RootElement.Clone();
    }

    private async Task<(TimeSpan, string)> SendAsync(Func<Task<HttpResponseMessage>> send)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await send();
        var body = await response.Content.ReadAsStringAsync();
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (response.StatusCode != HttpStatusCode.OK || body.Contains("\"error\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the local server answered {(int)response.StatusCode}: {body}\n{_process.Output()}");
        }

        return (elapsed, body);
    }

    public long PeakMemoryBytes() => _process.PeakMemoryBytes();

    public TimeSpan CpuTime() => _process.CpuTime();

    public void Dispose()
    {
        _http.Dispose();
        _process.Dispose();
        S3.Dispose();
        Directory.Delete(CacheDirectory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The seed PoC's handler in a fresh Python process (seed_driver.py), S3 through a counting proxy; no request before the measured one.</summary>
internal sealed class SeedProcess : IDisposable
{
    private readonly ChildProcess _process;

    private SeedProcess(ChildProcess process, CountingProxy s3)
    {
        _process = process;
        S3 = s3;
    }

    public CountingProxy S3 { get; }

    public static async Task<SeedProcess> StartAsync(Uri moto, string vpc, string bucket, string seedHandler)
    {
        var s3 = new CountingProxy(moto);
        var environment = Backend.AwsEnvironment();
        environment["AWS_ENDPOINT_URL_S3"] = s3.Url.ToString();
        environment["AWS_ENDPOINT_URL_EC2"] = moto.ToString();
        environment["vpc_id"] = vpc;
        environment["bucket_name"] = bucket;
        var process = ChildProcess.Start("python3", [Path.Combine(AppContext.BaseDirectory, "seed_driver.py"), seedHandler], environment, readsStdout: true, writesStdin: true);
        var ready = await process.Process.StandardOutput.ReadLineAsync();
        if (ready is null || !ready.Contains("ready", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the seed driver said '{ready}':\n{process.Output()}");
        }

        return new SeedProcess(process, s3);
    }

    public Task<TimeSpan> InvokeAsync(string query) => SeedContainer.InvokeSeedAsync(_process, query);

    public long PeakMemoryBytes() => _process.PeakMemoryBytes();

    public TimeSpan CpuTime() => _process.CpuTime();

    public void Dispose()
    {
        _process.Dispose();
        S3.Dispose();
    }
}

internal sealed record LazyDatabase(string Name, int SizeMb, long Bytes, long Rows, string Layout, int ChunkObjects, double BuildSeconds, string How);

internal sealed record LazySample(
    string Label, string Scenario, string Variant, int SizeMb, string Database, int Round, double Milliseconds,
    int Gets, int Heads, int Puts, long BytesUp, long BytesDown,
    long? RangeReads, long? BlockCacheHits, long? LoggedBytesDownloaded, long? LoggedBytesUploaded,
    long? CachePeakBytes, long? CacheDiskAfterBytes, long PeakMemoryBytes, string? Answer, double? CpuSeconds = null, double? MotoCpuSeconds = null);

internal sealed record LazyOptions(int[] SizesMb, int Rounds, int LargeRounds, int[] ThresholdsMb, int WholeMaxMb, int HeavyMaxMb, HashSet<string>? Only, string Label, string Out, Dictionary<string, string?> Environment)
{
    public static LazyOptions Parse(string[] args)
    {
        var options = new LazyOptions([64, 1024, 10240], 3, 2, [1, 4, 16, 64], 64, 1024, null, "lazy", Path.Combine(Options.RepositoryRoot(), "docs", "benchmarks", "lazy.json"), []);
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            int[] Ints() => value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            options = args[i] switch
            {
                "--sizes-mb" => options with { SizesMb = Ints() },
                "--rounds" => options with { Rounds = int.Parse(value, CultureInfo.InvariantCulture) },
                "--large-rounds" => options with { LargeRounds = int.Parse(value, CultureInfo.InvariantCulture) },
                "--thresholds-mb" => options with { ThresholdsMb = Ints() },
                "--whole-max-mb" => options with { WholeMaxMb = int.Parse(value, CultureInfo.InvariantCulture) },
                "--heavy-max-mb" => options with { HeavyMaxMb = int.Parse(value, CultureInfo.InvariantCulture) },
                "--only" => options with { Only = [.. value.Split(',')] },
                "--label" => options with { Label = value },
                "--out" => options with { Out = value },
                "--env" => options.With(value),
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
            i++;
        }

        return options;
    }

    private LazyOptions With(string assignment)
    {
        var parts = assignment.Split('=', 2);
        Environment[parts[0]] = parts.Length > 1 ? parts[1] : string.Empty;
        return this;
    }
}

internal static class LazyReport
{
    public static string Markdown(IReadOnlyList<LazySample> samples, IReadOnlyList<LazyDatabase> databases)
    {
        static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToList();
            return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        }

        static string Ms(double ms) => ms >= 1000 ? (ms / 1000).ToString("0.00", CultureInfo.InvariantCulture) + " s" : ms.ToString(ms < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " ms";
        static string Mb(double bytes) => (bytes / 1_000_000).ToString(bytes < 10_000_000 ? "0.00" : "0", CultureInfo.InvariantCulture) + " MB";

        var text = new StringBuilder();
        text.AppendLine("| database | bytes | rows | layout | chunk objects | built in |");
        text.AppendLine("| --- | ---: | ---: | --- | ---: | ---: |");
        foreach (var d in databases)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {d.Name} | {d.Bytes:N0} | {d.Rows:N0} | {d.Layout} | {d.ChunkObjects} | {d.BuildSeconds:0} s |");
        }

        text.AppendLine();
        text.AppendLine("| scenario | size | variant | rounds | time | GET | HEAD | PUT | down | up | % of DB down | RangeReads | BlockCacheHits | MB/s | cache peak | du after | peak RSS | CPU | moto CPU |");
        text.AppendLine("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var group in samples.GroupBy(s => (s.Scenario, s.SizeMb, s.Variant)))
        {
            var all = group.ToList();
            var ms = Median(all.Select(s => s.Milliseconds));
            var down = Median(all.Select(s => (double)s.BytesDown));
            var dbBytes = databases.FirstOrDefault(d => d.Name == all[0].Database)?.Bytes ?? databases.FirstOrDefault(d => d.SizeMb == all[0].SizeMb && d.Layout == "whole")?.Bytes ?? 0;
            string Opt(Func<LazySample, long?> of) => all.All(s => of(s) is null) ? "" : Median(all.Select(s => (double)(of(s) ?? 0))).ToString("0", CultureInfo.InvariantCulture);
            string Seconds(Func<LazySample, double?> of) => all.All(s => of(s) is null) ? "" : Median(all.Select(s => of(s) ?? 0)).ToString("0.00", CultureInfo.InvariantCulture) + " s";
            string OptMb(Func<LazySample, long?> of) => all.All(s => of(s) is null) ? "" : Mb(Median(all.Select(s => (double)(of(s) ?? 0))));
            var throughput = all[0].Scenario == "full scan" && dbBytes > 0 ? (dbBytes / 1_000_000.0 / (ms / 1000)).ToString("0", CultureInfo.InvariantCulture) : "";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {group.Key.Scenario} | {group.Key.SizeMb} MB | {group.Key.Variant} | {all.Count} | {Ms(ms)} | {Median(all.Select(s => (double)s.Gets)):0} | {Median(all.Select(s => (double)s.Heads)):0} | {Median(all.Select(s => (double)s.Puts)):0} | {Mb(down)} | {Mb(Median(all.Select(s => (double)s.BytesUp)))} | {(dbBytes > 0 ? (100 * down / dbBytes).ToString("0.00", CultureInfo.InvariantCulture) + "%" : "")} | {Opt(s => s.RangeReads)} | {Opt(s => s.BlockCacheHits)} | {throughput} | {OptMb(s => s.CachePeakBytes)} | {OptMb(s => s.CacheDiskAfterBytes)} | {Mb(Median(all.Select(s => (double)s.PeakMemoryBytes)))} | {Seconds(s => s.CpuSeconds)} | {Seconds(s => s.MotoCpuSeconds)} |");
        }

        return text.ToString();
    }
}
