using System.Diagnostics;
using System.Globalization;

using Microsoft.Data.Sqlite;

using ServerlessDb.Vfs;

namespace ServerlessDb.Benchmarks.VfsScan;

/// <summary>
/// What the lazy VFS costs a full scan in CPU, with no network: the lazy benchmark's full scan of its database (<see cref="LazyBenchSchema"/>) by SQLite's own VFS and
/// through the lazy VFS and its block cache (cold, then warm), the blocks fetched from a local file. A lazy scan
/// against S3 is never faster than this; the gap to the plain file is the VFS's own price per byte.
///
///   dotnet run -c Release --project bench/ServerlessDb.Benchmarks -- vfs-scan [--mb 1024] [--rounds 3]
/// </summary>
internal static class VfsScanRun
{
    public static int Run(string[] args)
    {
        var megabytes = Option(args, "--mb", 1024);
        var rounds = Option(args, "--rounds", 3);
        var folder = Directory.CreateTempSubdirectory("serverlessdb-vfs-scan-").FullName;
        try
        {
            var path = Path.Combine(folder, "scan.sqlite");
            var built = Stopwatch.StartNew();
            LazyBenchSchema.Build(path, megabytes);
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
        using var command = new SqliteCommand(LazyBenchSchema.FullScan, connection);
        return (long)command.ExecuteScalar()!;
    }

    private static int Option(string[] args, string name, int fallback) =>
        OptionText(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static string? OptionText(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
