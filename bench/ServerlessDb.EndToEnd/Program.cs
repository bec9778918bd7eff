using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ServerlessDb.EndToEnd;

// End to end against moto_server: the seed PoC and ServerlessDb side by side, on the same moto and the same
// database, interleaved request by request. See docs/benchmarks.md ("End to end against moto_server").
//
//   dotnet run -c Release --project bench/ServerlessDb.EndToEnd -- [--sizes 1,10,50,200] [--iterations 18]
//       [--large-iterations 7] [--label whole] [--out docs/benchmarks/e2e.json] [--env NAME=VALUE ...] [--jit]
//       [--server-from PATH]
//
// --env sets a variable for ServerlessDb's containers (STORAGE_LAYOUT=chunked, say); --label names the run;
// --jit runs the local server without ReadyToRun code (to measure what precompiling saves); --server-from PATH
// builds ServerlessDb from another checkout (an earlier commit in a git worktree), for before-and-after runs.
//   dotnet run -c Release --project bench/ServerlessDb.EndToEnd -- local-load [seconds]
//
// local-load measures one client against one local server instead (folder storage, thread-pool spinning off/on).
//   dotnet run -c Release --project bench/ServerlessDb.EndToEnd -- lazy [--sizes-mb 1024,10240] [--out docs/benchmarks/lazy.json]
//
// lazy measures lazy reads (issue 19): cold reads by fresh containers, read in place or downloaded, beside the seed
// (LazyReads.cs, and docs/benchmarks.md, "Lazy reads (issue 19)").
var repository = Options.RepositoryRoot();
if (args is ["local-load", ..])
{
    var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
    Console.WriteLine(await LocalServerLoad.RunAsync(await BuildLocalServerAsync(repository, readyToRun: true), TimeSpan.FromSeconds(seconds)));
    return 0;
}

var seedHandler = Path.GetFullPath(Path.Combine(repository, "..", "shared", "peer", "seed-poc", "db_function", "lambda_function.py"));
if (!File.Exists(seedHandler))
{
    Console.Error.WriteLine($"The seed PoC's handler is not at {seedHandler}.");
    return 1;
}

if (args is ["lazy", ..])
{
    return await LazyReads.RunAsync(args[1..], await BuildLocalServerAsync(repository, readyToRun: true), seedHandler);
}

var options = Options.Parse(args);
var localServer = await BuildLocalServerAsync(options.ServerRepository ?? repository, options.ReadyToRun);
using var moto = await Moto.StartAsync();
var vpc = await moto.CreateVpcAsync();
var samples = new List<Sample>();
var containers = new List<ContainerFacts>();
Console.WriteLine($"moto {moto.Url}, VPC {vpc}; sizes {string.Join(", ", options.Sizes)} MB; label '{options.Label}'");

foreach (var size in options.Sizes)
{
    var iterations = size >= 200 ? options.LargeIterations : options.Iterations;
    var file = SampleDatabase.Create(size);
    var seedBucket = $"seed-{size}mb";
    var ourBucket = $"ours-{size}mb";
    await moto.CreateBucketAsync(seedBucket);
    await moto.CreateBucketAsync(ourBucket);
    await moto.UploadAsync(seedBucket, "database.db", file);
    await moto.UploadAsync(ourBucket, "databases/bench.sqlite", file);
    File.Delete(file);

    using var seed = await SeedContainer.StartAsync(new Backend(moto.Url, vpc, seedBucket, "database.db"), seedHandler);
    using var a = await ServerlessDbContainer.StartAsync("ours-a", new Backend(moto.Url, vpc, ourBucket, "databases/bench.sqlite"), localServer, "bench", options.Environment);
    using var b = await ServerlessDbContainer.StartAsync("ours-b", new Backend(moto.Url, vpc, ourBucket, "databases/bench.sqlite"), localServer, "bench", options.Environment);

    // Warm-up: every path once, and B the last writer, as at the start of each iteration. The first writes
    // of a fresh process are its JIT's worst case.
    var seedFirstWrite = await seed.WriteAsync();
    var ourFirstWrite = await a.WriteAsync();
    await b.WriteAsync();

    async Task Measure(IContainer container, string scenario, Func<Task<TimeSpan>> request)
    {
        var before = container.S3.Bytes;
        var elapsed = await request();
        var after = container.S3.Bytes;
        samples.Add(new Sample(options.Label, container.Name == "seed" ? "seed" : "ours", scenario, size, elapsed.TotalMilliseconds, after.Sent - before.Sent, after.Received - before.Received));
    }

    for (var i = 0; i < iterations; i++)
    {
        await Measure(seed, "read", () => seed.ReadAsync());
        await Measure(a, "write after foreign write", a.WriteAsync);
        await Measure(seed, "write", seed.WriteAsync);
        await Measure(a, "write", a.WriteAsync);
        await Measure(b, "read after foreign write", () => b.ReadAsync());
        await Measure(b, "read", () => b.ReadAsync());
        await Measure(b, "read from cache", () => b.ReadAsync(cacheOnly: true));
        await Measure(b, "write", b.WriteAsync); // B has just read A's commit: its cache is current
        Console.Write('.');
    }

    Console.WriteLine($" {size} MB: {iterations} iterations");
    containers.Add(new ContainerFacts(options.Label, "seed", size, seed.ColdStart.TotalMilliseconds, seedFirstWrite.TotalMilliseconds, seed.PeakMemoryBytes()));
    containers.Add(new ContainerFacts(options.Label, "ours", size, a.ColdStart.TotalMilliseconds, ourFirstWrite.TotalMilliseconds, Math.Max(a.PeakMemoryBytes(), b.PeakMemoryBytes())));
    await moto.EmptyBucketAsync(seedBucket);
    await moto.EmptyBucketAsync(ourBucket);
}

var report = Report.Markdown(samples, containers);
Console.WriteLine();
Console.WriteLine(report);
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Out))!);
await File.WriteAllTextAsync(options.Out, JsonSerializer.Serialize(new { options.Label, Date = DateTime.UtcNow, Samples = samples, Containers = containers }, new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine($"raw samples: {options.Out}");
return 0;

// Published as the Lambda package is (framework-dependent, linux-x64); with --ready-to-run precompiled, as
// QueryRunner.csproj publishes it for a runtime identifier.
static async Task<string> BuildLocalServerAsync(string repository, bool readyToRun)
{
    var output = Path.Combine(Path.GetTempPath(), $"serverlessdb-e2e-localserver-{(readyToRun ? "r2r" : "jit")}-{Math.Abs(repository.GetHashCode(StringComparison.Ordinal))}");
    var build = Process.Start(new ProcessStartInfo("dotnet", ["publish", Path.Combine(repository, "src", "LocalServer"), "-c", "Release", "-r", "linux-x64", "--self-contained", "false", $"-p:PublishReadyToRun={readyToRun}", "-o", output, "-nologo", "-v", "q"]))!;
    await build.WaitForExitAsync();
    return build.ExitCode == 0 ? Path.Combine(output, "LocalServer.dll") : throw new InvalidOperationException("building the local server failed");
}

internal sealed record Sample(string Label, string System, string Scenario, int SizeMb, double Milliseconds, long BytesUp, long BytesDown);

internal sealed record ContainerFacts(string Label, string System, int SizeMb, double ColdStartMs, double FirstWriteMs, long PeakMemoryBytes);

internal sealed record Options(int[] Sizes, int Iterations, int LargeIterations, string Label, string Out, Dictionary<string, string?> Environment, bool ReadyToRun, string? ServerRepository = null)
{
    public static Options Parse(string[] args)
    {
        var options = new Options([1, 10, 50, 200], 18, 7, "whole", Path.Combine(RepositoryRoot(), "docs", "benchmarks", "e2e.json"), [], ReadyToRun: true);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--jit")
            {
                options = options with { ReadyToRun = false };
                continue;
            }

            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--sizes" => options with { Sizes = value.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() },
                "--iterations" => options with { Iterations = int.Parse(value, CultureInfo.InvariantCulture) },
                "--large-iterations" => options with { LargeIterations = int.Parse(value, CultureInfo.InvariantCulture) },
                "--label" => options with { Label = value },
                "--server-from" => options with { ServerRepository = Path.GetFullPath(value) },
                "--out" => options with { Out = value },
                "--env" => options.With(value),
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
            i++;
        }

        return options;
    }

    private Options With(string assignment)
    {
        var parts = assignment.Split('=', 2);
        Environment[parts[0]] = parts.Length > 1 ? parts[1] : string.Empty;
        return this;
    }

    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ServerlessDb.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("run from inside the repository");
    }
}

internal static class Report
{
    public static string Markdown(IReadOnlyList<Sample> samples, IReadOnlyList<ContainerFacts> containers)
    {
        double Median(string system, string scenario, int size, Func<Sample, double> of)
        {
            var values = samples.Where(s => s.System == system && s.Scenario == scenario && s.SizeMb == size).Select(of).Order().ToList();
            return values.Count == 0 ? double.NaN : values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
        }

        string Ms(double ms) => ms >= 1000 ? (ms / 1000).ToString("0.00", CultureInfo.InvariantCulture) + " s" : ms.ToString(ms < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " ms";
        string Ratio(double seed, double ours) => "x" + (seed / ours).ToString(seed / ours < 10 ? "0.00" : "0", CultureInfo.InvariantCulture);
        string Mb(double bytes) => (bytes / 1_000_000).ToString(bytes < 10_000_000 ? "0.00" : "0", CultureInfo.InvariantCulture) + " MB";

        var text = new StringBuilder();
        text.AppendLine("| DB | seed read | seed write | our read (revalidated) | our read from cache | read after foreign write | our write | write after foreign write |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var size in samples.Select(s => s.SizeMb).Distinct())
        {
            double M(string system, string scenario) => Median(system, scenario, size, s => s.Milliseconds);
            var (seedRead, seedWrite) = (M("seed", "read"), M("seed", "write"));
            var (read, cached, stale, write, foreign) = (M("ours", "read"), M("ours", "read from cache"), M("ours", "read after foreign write"), M("ours", "write"), M("ours", "write after foreign write"));
            text.AppendLine($"| {size} MB | {Ms(seedRead)} | {Ms(seedWrite)} | {Ms(read)}, {Ratio(seedRead, read)} | {Ms(cached)} | {Ms(stale)}, {Ratio(seedRead, stale)} | {Ms(write)}, {Ratio(seedWrite, write)} | {Ms(foreign)}, {Ratio(seedWrite, foreign)} |");
        }

        text.AppendLine();
        text.AppendLine("Bytes moved per request (median, on the wire to and from S3: up / down):");
        text.AppendLine();
        text.AppendLine("| DB | seed read | seed write | our read | read after foreign write | our write | write after foreign write |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var size in samples.Select(s => s.SizeMb).Distinct())
        {
            string B(string system, string scenario) => $"{Mb(Median(system, scenario, size, s => s.BytesUp))} / {Mb(Median(system, scenario, size, s => s.BytesDown))}";
            text.AppendLine($"| {size} MB | {B("seed", "read")} | {B("seed", "write")} | {B("ours", "read")} | {B("ours", "read after foreign write")} | {B("ours", "write")} | {B("ours", "write after foreign write")} |");
        }

        text.AppendLine();
        text.AppendLine("| DB | cold start to first read: seed / ours | first write: seed / ours | peak memory: seed / ours |");
        text.AppendLine("| --- | ---: | ---: | ---: |");
        foreach (var size in containers.Select(c => c.SizeMb).Distinct())
        {
            var seed = containers.First(c => c.SizeMb == size && c.System == "seed");
            var ours = containers.First(c => c.SizeMb == size && c.System == "ours");
            text.AppendLine($"| {size} MB | {Ms(seed.ColdStartMs)} / {Ms(ours.ColdStartMs)} | {Ms(seed.FirstWriteMs)} / {Ms(ours.FirstWriteMs)} | {seed.PeakMemoryBytes / 1_000_000} / {ours.PeakMemoryBytes / 1_000_000} MB |");
        }

        return text.ToString();
    }
}
