using System.Diagnostics;
using System.Globalization;

using Microsoft.Data.Sqlite;
using Microsoft.Win32.SafeHandles;

using ServerlessDb.Vfs;

namespace ServerlessDb.Benchmarks.VfsScan;

/// <summary>
/// What the lazy VFS costs a full scan in CPU, with no network: the same scan of the same file by SQLite's own VFS and
/// through the lazy VFS and its block cache (cold, then warm), the blocks fetched from a local file. A lazy scan
/// against S3 is never faster than this; the gap to the plain file is the VFS's own price per byte.
///
///   dotnet run -c Release --project bench/ServerlessDb.Benchmarks -- vfs-scan [--mb 1024] [--rounds 3]
/// </summary>
internal static class VfsScanRun
{
    private const string FullScan = "SELECT sum(length(payload)) FROM items";

    public static int Run(string[] args)
    {
        var megabytes = Option(args, "--mb", 1024);
        var rounds = Option(args, "--rounds", 3);
        var folder = Directory.CreateTempSubdirectory("serverlessdb-vfs-scan-").FullName;
        try
        {
            var path = Path.Combine(folder, "scan.sqlite");
            var built = Stopwatch.StartNew();
            Build(path, megabytes * 1024L * 1024 / 1390);
            var length = new FileInfo(path).Length;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"built {length / 1e6:0} MB in {built.Elapsed.TotalSeconds:0.0} s"));

            var expected = Scan($"Data Source={path};Mode=ReadOnly;Pooling=False");
            for (var round = 1; round <= rounds; round++)
            {
                Measure($"plain file, round {round}", length, () => Scan($"Data Source={path};Mode=ReadOnly;Pooling=False"), expected);
                var cache = Path.Combine(folder, "cache");
                Directory.CreateDirectory(cache);
                var files = new LazyFiles(new LazyReadOptions(cache, 4L * 1024 * 1024 * 1024));
                using var version = new LocalFileVersion(path, 2 * 1024 * 1024);
                using (var lease = files.Open(version, CancellationToken.None))
                {
                    Measure($"lazy VFS, cold cache, round {round}", length, () => Scan(lease.ConnectionString), expected);
                    Measure($"lazy VFS, warm cache, round {round}", length, () => Scan(lease.ConnectionString), expected);
                    lease.ThrowIfFailed();
                }

                while (files.Cache.PiecesInFlight > 0)
                {
                    Thread.Sleep(10);
                }

                Directory.Delete(cache, recursive: true);
            }

            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void Measure(string name, long length, Func<long> scan, long expected)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var answer = scan();
        var elapsed = clock.Elapsed;
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        if (answer != expected)
        {
            throw new InvalidOperationException($"{name}: {answer}, expected {expected}");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {elapsed.TotalSeconds:0.00} s, {length / 1e6 / elapsed.TotalSeconds:0} MB/s, CPU {cpu.TotalSeconds:0.00} s"));
    }

    private static long Scan(string connectionString)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = new SqliteCommand(FullScan, connection);
        return (long)command.ExecuteScalar()!;
    }

    private static void Build(string path, long rows)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        foreach (var sql in new[]
        {
            "PRAGMA journal_mode=OFF",
            "PRAGMA synchronous=OFF",
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category INTEGER NOT NULL, payload BLOB NOT NULL)",
            "CREATE INDEX items_name ON items (name)",
            string.Create(CultureInfo.InvariantCulture, $"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) INSERT INTO items SELECT i, printf('item-%09d', i), i % 100 + 1, randomblob(1300) FROM n"),
        })
        {
            using var command = new SqliteCommand(sql, connection);
            command.ExecuteNonQuery();
        }
    }

    private static int Option(string[] args, string name, int fallback) =>
        OptionText(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static string? OptionText(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    /// <summary>A pinned version over a local file in 2 MiB blocks, as a chunked version's would be.</summary>
    private sealed class LocalFileVersion : IPinnedVersion, IDisposable
    {
        private readonly SafeFileHandle _file;

        public LocalFileVersion(string path, int blockBytes)
        {
            _file = File.OpenHandle(path);
            Length = RandomAccess.GetLength(_file);
            var blocks = new List<IPinnedBlock>();
            for (long offset = 0; offset < Length; offset += blockBytes)
            {
                blocks.Add(new Block(_file, offset, (int)Math.Min(blockBytes, Length - offset)));
            }

            Blocks = blocks;
        }

        public string Description => "a local file";

        public long Length { get; }

        public IReadOnlyList<IPinnedBlock> Blocks { get; }

        public void Dispose() => _file.Dispose();

        private sealed class Block(SafeFileHandle file, long offset, int length) : IPinnedBlock
        {
            public long Offset { get; } = offset;

            public int Length { get; } = length;

            public string ContentKey { get; } = string.Create(CultureInfo.InvariantCulture, $"local:{offset}");

            public async ValueTask<int> FetchAsync(int offsetInBlock, Memory<byte> into, CancellationToken cancellationToken) =>
                await RandomAccess.ReadAsync(file, into, Offset + offsetInBlock, cancellationToken);
        }
    }
}
