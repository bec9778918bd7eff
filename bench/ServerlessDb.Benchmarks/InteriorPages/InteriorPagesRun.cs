using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

using Amazon.S3;
using Amazon.S3.Model;

using Microsoft.Data.Sqlite;

using ServerlessDb.Vfs;

namespace ServerlessDb.Benchmarks.InteriorPages;

/// <summary>
/// Issue 19 asks whether publishing a version's B-tree interior pages, for a cold open to load in one request, measures
/// better than today's lazy point read. This measures both on the lazy benchmark's databases (docs/benchmarks.md,
/// "Publishing interior pages"):
///
/// - the pages: how many are interior (dbstat), and the bundle's size (page 1, every B-tree's root and every interior
///   page: what a cold open would load first);
/// - which pages a cold point read reads, exactly: SQLite's own reads of the plain file, traced by strace (python3's
///   sqlite3 runs the query; strace logs each pread64);
/// - today's fetches: the same query through the lazy VFS and its real fetch policy (2 MiB blocks, as chunks);
/// - the bundle's fetches: the bundle, then the pages the query reads outside it, through the same fetch policy;
/// - the time of each sequence of GETs on moto_server, replayed request by request (ranged GETs of 2 MiB chunk
///   objects, one GET of the bundle object), fresh client connections warmed first; SQLite's own time is the same in
///   both and left out, as are the HEAD and the manifest GET both make first. Each read's two replays alternate which
///   goes first.
///
///   dotnet run -c Release --project bench/ServerlessDb.Benchmarks -- interior-pages [--sizes-mb 1024,10240] [--reads 20]
///       [--out docs/benchmarks/interior-pages.json]
/// </summary>
internal static partial class InteriorPagesRun
{
    private const int BlockBytes = 2 * 1024 * 1024;
    private const string Bucket = "interior-pages";

    public static async Task<int> RunAsync(string[] args)
    {
        var sizes = (Option(args, "--sizes-mb") ?? "1024,10240").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var reads = int.Parse(Option(args, "--reads") ?? "20", CultureInfo.InvariantCulture);
        var output = Option(args, "--out") ?? "docs/benchmarks/interior-pages.json";

        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "testing");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "testing");
        await using var moto = await MotoProcess.StartAsync();
        using var s3 = new AmazonS3Client(new AmazonS3Config { ServiceURL = moto.Endpoint.ToString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        await s3.PutBucketAsync(Bucket);

        var results = new List<SizeResult>();
        foreach (var size in sizes)
        {
            var folder = Directory.CreateTempSubdirectory("serverlessdb-interior-").FullName;
            try
            {
                results.Add(await MeasureAsync(s3, folder, size, reads));
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        await File.WriteAllTextAsync(output, JsonSerializer.Serialize(new { Date = DateTime.UtcNow, Reads = reads, Results = results }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"raw: {output}");
        return 0;
    }

    private static async Task<SizeResult> MeasureAsync(IAmazonS3 s3, string folder, int sizeMb, int reads)
    {
        var path = Path.Combine(folder, "db.sqlite");
        var clock = Stopwatch.StartNew();
        var rows = LazyBenchSchema.Build(path, sizeMb);
        var length = new FileInfo(path).Length;
        var pages = PagesByKind(path);
        var pageSize = pages.PageSize;
        var bundle = new SortedSet<long>(pages.Interior.Concat(pages.Roots)) { 1 };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{sizeMb} MB: {length:N0} bytes, {rows:N0} rows, built in {clock.Elapsed.TotalSeconds:0} s; {pages.Interior.Count:N0} interior pages of {length / pageSize:N0}, bundle {bundle.Count * (long)pageSize:N0} bytes"));

        // The bundle and every chunk a read touches, as objects on moto (only those: the GETs' time does not depend on the rest).
        var bundleBytes = new byte[bundle.Count * pageSize];
        using (var file = File.OpenHandle(path))
        {
            var at = 0;
            foreach (var page in bundle)
            {
                RandomAccess.Read(file, bundleBytes.AsSpan(at, pageSize), (page - 1) * pageSize);
                at += pageSize;
            }
        }

        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = $"{sizeMb}/bundle", InputStream = new MemoryStream(bundleBytes) });
        await ReplayAsync(s3, sizeMb, [], bundleFirst: true, bundleBytes.Length); // the client's connection and code warmed before anything is timed
        var uploaded = new HashSet<long>();
        var random = new Random(sizeMb);
        var samples = new List<ReadResult>();
        for (var read = 0; read < reads; read++)
        {
            var id = random.NextInt64(1, rows + 1);
            var sql = LazyBenchSchema.PointRead(id);
            var traced = TracePages(path, sql, pageSize);
            var today = TodaysFetches(path, sql);
            var withBundle = BundleFetches(traced, bundle, pageSize, length);
            foreach (var chunk in today.Concat(withBundle).Select(f => f.Offset / BlockBytes).Distinct().Where(uploaded.Add))
            {
                await UploadChunkAsync(s3, path, sizeMb, chunk, length);
            }

            // Each variant goes first in every other read, so that neither always meets the other's warm connections.
            double todayMs, bundleMs;
            if (read % 2 == 0)
            {
                todayMs = await ReplayAsync(s3, sizeMb, today, bundleFirst: false, bundleBytes.Length);
                bundleMs = await ReplayAsync(s3, sizeMb, withBundle, bundleFirst: true, bundleBytes.Length);
            }
            else
            {
                bundleMs = await ReplayAsync(s3, sizeMb, withBundle, bundleFirst: true, bundleBytes.Length);
                todayMs = await ReplayAsync(s3, sizeMb, today, bundleFirst: false, bundleBytes.Length);
            }

            var tracedInterior = traced.Count(bundle.Contains);
            samples.Add(new ReadResult(id, traced.Count, tracedInterior, today.Count, today.Sum(f => (long)f.Length), todayMs,
                1 + withBundle.Count, bundleBytes.Length + withBundle.Sum(f => (long)f.Length), bundleMs));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  read {read + 1}: {traced.Count} pages read ({tracedInterior} in the bundle); today {today.Count} GETs, {today.Sum(f => (long)f.Length):N0} bytes, {todayMs:0.0} ms; bundle 1 + {withBundle.Count} GETs, {bundleBytes.Length + withBundle.Sum(f => (long)f.Length):N0} bytes, {bundleMs:0.0} ms"));
        }

        return new SizeResult(sizeMb, length, rows, pageSize, length / pageSize, pages.Interior.Count, pages.InteriorIndex, bundle.Count * (long)pageSize, samples,
            Median(samples.Select(s => (double)s.TodayGets)), Median(samples.Select(s => (double)s.TodayBytes)), Median(samples.Select(s => s.TodayMs)),
            Median(samples.Select(s => (double)s.BundleGets)), Median(samples.Select(s => (double)s.BundleBytes)), Median(samples.Select(s => s.BundleMs)));
    }

    /// <summary>
    /// The page size; the interior pages, by SQLite's own account (its dbstat table, which python3's SQLite has and
    /// e_sqlite3 does not), and how many of them are the name index's; and every B-tree's root (a small table's is a leaf).
    /// </summary>
    private static (int PageSize, List<long> Interior, int InteriorIndex, List<long> Roots) PagesByKind(string path)
    {
        var script = "import sqlite3, sys; c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True); "
            + "print(c.execute('PRAGMA page_size').fetchone()[0]); "
            + "[print(n, p, t, r) for n, p, t, r in c.execute(\"SELECT name, pageno, pagetype, path = '/' FROM dbstat WHERE pagetype = 'internal' OR path = '/'\")]";
        var lines = Run("python3", ["-c", script, path]).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var pages = lines.Skip(1).Select(line => line.Split(' ')).ToList();
        var interior = pages.Where(fields => fields[2] == "internal").ToList();
        return (int.Parse(lines[0], CultureInfo.InvariantCulture),
            [.. interior.Select(fields => long.Parse(fields[1], CultureInfo.InvariantCulture))],
            interior.Count(fields => fields[0] == "items_name"),
            [.. pages.Where(fields => fields[3] == "1").Select(fields => long.Parse(fields[1], CultureInfo.InvariantCulture))]);
    }

    /// <summary>Runs a program to its end and returns what it printed; throws when it fails.</summary>
    private static string Run(string program, string[] arguments)
    {
        var info = new ProcessStartInfo(program, arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start");
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{program} exited with {process.ExitCode}: {errors.Result}");
    }

    /// <summary>The pages SQLite reads for <paramref name="sql"/> on a fresh connection to the plain file, in order, each once: its pread64 calls, traced by strace.</summary>
    private static List<long> TracePages(string path, string sql, int pageSize)
    {
        var log = Path.Combine(Path.GetDirectoryName(path)!, "strace.log");
        var script = "import sqlite3, sys; c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True); c.execute(sys.argv[2]).fetchall()";
        Run("strace", ["-f", "-e", "trace=pread64", "-e", "signal=none", "-o", log, "python3", "-c", script, path, sql]);

        var seen = new HashSet<long>();
        var pages = new List<long>();
        foreach (var line in File.ReadLines(log))
        {
            if (PreadLine().Match(line) is { Success: true } match)
            {
                var offset = long.Parse(match.Groups["offset"].Value, CultureInfo.InvariantCulture);
                var count = long.Parse(match.Groups["count"].Value, CultureInfo.InvariantCulture);
                for (var page = offset / pageSize + 1; page <= (offset + Math.Max(count, 1) - 1) / pageSize + 1; page++)
                {
                    if (seen.Add(page))
                    {
                        pages.Add(page);
                    }
                }
            }
        }

        if (pages.Count == 0)
        {
            throw new InvalidOperationException($"strace saw no pread64 of the database: {string.Join('\n', File.ReadLines(log).Take(20))}");
        }

        return pages;
    }

    /// <summary>The fetches a cold lazy point read makes today: the query through the lazy VFS, its real fetch policy and an empty block cache.</summary>
    private static List<Fetch> TodaysFetches(string path, string sql)
    {
        var cache = Directory.CreateTempSubdirectory("serverlessdb-interior-cache-").FullName;
        try
        {
            var files = new LazyFiles(new LazyReadOptions(cache, 1L << 30));
            using var version = new LocalFileVersion(path, BlockBytes);
            using (var lease = files.Open(version, CancellationToken.None))
            {
                using var connection = new SqliteConnection(lease.ConnectionString);
                connection.Open();
                using var command = new SqliteCommand(sql, connection);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                }

                lease.ThrowIfFailed();
            }

            // Read-ahead a read started may still be landing: count it too, since S3 would serve it.
            while (files.Cache.PiecesInFlight > 0)
            {
                Thread.Sleep(5);
            }

            return [.. version.Fetches.Select(fetch => new Fetch(fetch.Offset, fetch.Length))];
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    /// <summary>
    /// The fetches a cold point read would make with the bundle loaded first: the pages it reads outside the bundle, in
    /// order, through the same fetch policy (a fetch brings what the policy asks; a page inside what was fetched is a hit).
    /// </summary>
    private static List<Fetch> BundleFetches(List<long> pages, SortedSet<long> bundle, int pageSize, long length)
    {
        var policy = new FetchPolicy(LazyReadOptions.DefaultPieceBytes, LazyReadOptions.DefaultMaxFetchBytes);
        var fetched = new List<Fetch>();
        foreach (var page in pages.Where(p => !bundle.Contains(p)))
        {
            var offset = (page - 1) * pageSize;
            if (fetched.Any(f => offset >= f.Offset && offset < f.Offset + f.Length))
            {
                continue;
            }

            var blockOffset = offset / BlockBytes * BlockBytes;
            var pieceOffset = blockOffset + (offset - blockOffset) / LazyReadOptions.DefaultPieceBytes * LazyReadOptions.DefaultPieceBytes;
            var range = policy.OnMiss(pieceOffset, blockOffset, (int)Math.Min(BlockBytes, length - blockOffset), length);
            for (var start = range.Offset; start < range.End; start = (start / BlockBytes + 1) * BlockBytes)
            {
                fetched.Add(new Fetch(start, (int)(Math.Min(range.End, (start / BlockBytes + 1) * BlockBytes) - start)));
            }
        }

        return fetched;
    }

    private static async Task UploadChunkAsync(IAmazonS3 s3, string path, int sizeMb, long chunk, long length)
    {
        var bytes = new byte[(int)Math.Min(BlockBytes, length - chunk * BlockBytes)];
        using (var file = File.OpenHandle(path))
        {
            RandomAccess.Read(file, bytes, chunk * BlockBytes);
        }

        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = ChunkKey(sizeMb, chunk), InputStream = new MemoryStream(bytes) });
    }

    /// <summary>The wall time of the GETs, one after the other as a cold read makes them (each waits for the page before it).</summary>
    private static async Task<double> ReplayAsync(IAmazonS3 s3, int sizeMb, List<Fetch> fetches, bool bundleFirst, int bundleLength)
    {
        var clock = Stopwatch.StartNew();
        if (bundleFirst)
        {
            await DrainAsync(s3, new GetObjectRequest { BucketName = Bucket, Key = $"{sizeMb}/bundle" }, bundleLength);
        }

        foreach (var fetch in fetches)
        {
            var offsetInChunk = fetch.Offset % BlockBytes;
            await DrainAsync(s3, new GetObjectRequest
            {
                BucketName = Bucket,
                Key = ChunkKey(sizeMb, fetch.Offset / BlockBytes),
                ByteRange = new ByteRange(offsetInChunk, offsetInChunk + fetch.Length - 1),
            }, fetch.Length);
        }

        return clock.Elapsed.TotalMilliseconds;
    }

    private static async Task DrainAsync(IAmazonS3 s3, GetObjectRequest request, int expected)
    {
        using var response = await s3.GetObjectAsync(request);
        var buffer = new byte[81920];
        long total = 0;
        int got;
        while ((got = await response.ResponseStream.ReadAsync(buffer)) > 0)
        {
            total += got;
        }

        if (total != expected)
        {
            throw new InvalidOperationException($"GET {request.Key} brought {total} bytes, not {expected}");
        }
    }

    private static string ChunkKey(int sizeMb, long chunk) => string.Create(CultureInfo.InvariantCulture, $"{sizeMb}/chunk-{chunk}");

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    [GeneratedRegex(@"pread64\(\d+, .*, (?<count>\d+), (?<offset>\d+)\) = \d+")]
    private static partial Regex PreadLine();

    private readonly record struct Fetch(long Offset, int Length);

    private sealed record ReadResult(long Id, int PagesRead, int PagesInBundle, int TodayGets, long TodayBytes, double TodayMs, int BundleGets, long BundleBytes, double BundleMs);

    private sealed record SizeResult(
        int SizeMb, long Bytes, long Rows, int PageSize, long Pages, int InteriorPages, int InteriorIndexPages, long BundleObjectBytes, List<ReadResult> Reads,
        double MedianTodayGets, double MedianTodayBytes, double MedianTodayMs, double MedianBundleGets, double MedianBundleBytes, double MedianBundleMs);
}
