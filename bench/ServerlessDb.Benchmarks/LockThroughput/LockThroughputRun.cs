using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Amazon.S3;
using Amazon.S3.Model;
using ServerlessDb.Api;
using ServerlessDb.Configuration;
using ServerlessDb.Engine;
using ServerlessDb.Hosting;
using ServerlessDb.Locking;
using ServerlessDb.Locking.Ec2;
using ServerlessDb.Logging;
using ServerlessDb.Storage;
using ServerlessDb.Storage.S3;

namespace ServerlessDb.Benchmarks.LockThroughput;

/// <summary>
/// Locked writes per second across many databases, for each lock backend, on a moto_server this run
/// starts: every writer is a QueryRunner "container" of its own (its own cache, clients, lock) composed as
/// <see cref="CompositionRoot"/> composes one, sending counter increments to its database through the real
/// API handler for a fixed time. With <c>ec2</c>, every writer's EC2 client goes through one shared
/// <see cref="Ec2CallBudget"/>, the account's mutating-call budget that moto does not model. At the end the
/// stored counters are read back: their sum must lie between the writes answered 200 and those plus the
/// ones answered 503 "may have been committed" (the request's deadline passed with the commit in flight).
/// </summary>
internal static partial class LockThroughputRun
{
    private static readonly byte[] IncrementJson = Encoding.UTF8.GetBytes("""["UPDATE counter SET n = n + 1"]""");
    private static readonly Dictionary<string, string> NoQuery = [];
    private static readonly Dictionary<string, string> Json = new(StringComparer.OrdinalIgnoreCase) { ["Content-Type"] = "application/json" };

    /// <summary><c>lock-throughput [--seconds 30] [--databases 20] [--writers-per-database 2] [--backends none,ec2,s3] [--ec2-calls-per-second 5]</c></summary>
    public static async Task<int> MainAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 30);
        var databases = Option(args, "--databases", 20);
        var writersPerDatabase = Option(args, "--writers-per-database", 2);
        var ec2Rate = Option(args, "--ec2-calls-per-second", 5);
        var backends = OptionText(args, "--backends", "none,ec2,s3").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        // Dummy credentials moto accepts, so nothing here can reach a real account.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "testing");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "testing");
        Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);

        await using var moto = await MotoProcess.StartAsync();
        Console.WriteLine($"moto_server at {moto.Endpoint}; {databases} databases x {writersPerDatabase} writers, {seconds} s per backend, EC2 budget {ec2Rate} mutating calls/s");
        Console.WriteLine();
        Console.WriteLine("| lock | writes answered 200 | writes/s | 503 not committed / may have been | 409 | p50 ms | p95 ms | EC2 calls sent / throttled | stored counters |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var backend in backends)
        {
            var result = await RunAsync(moto.Endpoint, backend, databases, writersPerDatabase, TimeSpan.FromSeconds(seconds), ec2Rate);
            Console.WriteLine(result);
            if (!result.Verified)
            {
                Console.Error.WriteLine($"{backend}: the stored counters sum to {result.Stored}; {result.Committed} writes were answered 200 and {result.Unknown} 'may have been committed'.");
                return 1;
            }
        }

        return 0;
    }

    private static async Task<Result> RunAsync(Uri endpoint, string backend, int databases, int writersPerDatabase, TimeSpan duration, double ec2Rate)
    {
        var root = Directory.CreateTempSubdirectory("serverlessdb-bench-lock-").FullName;
        using var s3 = new AmazonS3Client(new AmazonS3Config { ServiceURL = endpoint.ToString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        var bucket = $"bench-{backend}-{Guid.NewGuid():N}"[..40];
        await s3.PutBucketAsync(bucket);
        await s3.PutBucketVersioningAsync(new PutBucketVersioningRequest { BucketName = bucket, VersioningConfig = new S3BucketVersioningConfig { Status = VersionStatus.Enabled } });
        var environment = new Dictionary<string, string?>
        {
            ["DB_BUCKET"] = bucket,
            ["AWS_ENDPOINT_URL"] = endpoint.ToString(),
            ["AWS_REGION"] = "us-east-1",
            ["LOCK_BACKEND"] = backend,
            ["LOCK_VPC_ID"] = backend == "ec2" ? await CreateVpcAsync(endpoint) : null,
            ["LOCK_NAME_PREFIX"] = $"bench-{Guid.NewGuid():N}-",
        };
        try
        {
            // Setup (the tables) is not measured, nor charged to the budget.
            var unlimited = new Ec2CallBudget(refillPerSecond: 1e9, capacity: 1e9);
            var setup = Container(environment, Path.Combine(root, "setup"), unlimited);
            for (var d = 0; d < databases; d++)
            {
                await SendAsync(setup, $"db{d}", """["CREATE TABLE counter(n INTEGER NOT NULL)", "INSERT INTO counter VALUES (0)"]""");
            }

            // A bucket of one second's refill: the sustained rate, not EC2's initial burst.
            var budget = new Ec2CallBudget(ec2Rate, capacity: ec2Rate);
            var writers = Enumerable.Range(0, databases * writersPerDatabase)
                .Select(w => (Database: $"db{w % databases}", Api: Container(environment, Path.Combine(root, $"w{w}"), budget)))
                .ToList();
            var latencies = new List<double>();
            int committed = 0, unavailable = 0, unknown = 0, conflicts = 0;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(writers.Select(writer => Task.Run(async () =>
            {
                while (clock.Elapsed < duration)
                {
                    var started = clock.Elapsed;
                    var answer = await writer.Api.HandleAsync(Increment(writer.Database), CancellationToken.None);
                    var took = (clock.Elapsed - started).TotalMilliseconds;
                    lock (latencies)
                    {
                        switch (answer.StatusCode)
                        {
                            case 200:
                                committed++;
                                latencies.Add(took);
                                break;
                            case 503 when answer.Body.Contains("may have been committed", StringComparison.Ordinal):
                                unknown++;
                                break;
                            case 503:
                                unavailable++;
                                break;
                            case 409:
                                conflicts++;
                                break;
                            default:
                                throw new InvalidOperationException($"{backend}: an increment answered {answer.StatusCode}: {answer.Body}");
                        }
                    }
                }
            })));
            var elapsed = clock.Elapsed;

            long stored = 0;
            for (var d = 0; d < databases; d++)
            {
                var body = await SendAsync(setup, $"db{d}", """["SELECT n FROM counter"]""", "/db/query");
                stored += JsonDocument.Parse(body).RootElement.GetProperty("results")[0].GetProperty("values")[0][0].GetInt64();
            }

            latencies.Sort();
            return new Result(
                backend,
                committed,
                committed / elapsed.TotalSeconds,
                unavailable,
                unknown,
                conflicts,
                Percentile(latencies, 0.50),
                Percentile(latencies, 0.95),
                backend == "ec2" ? $"{budget.Allowed} / {budget.Throttled}" : "0 / 0",
                stored);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>One QueryRunner container, composed as <see cref="CompositionRoot.CreateApiHandler(IEnvironment, TimeProvider, ILogSink)"/> does, the EC2 client behind <paramref name="budget"/>.</summary>
    private static IApiHandler Container(Dictionary<string, string?> environment, string cacheDirectory, Ec2CallBudget budget)
    {
        var options = ServerlessDbOptions.FromEnvironment(new DictionaryEnvironment(new Dictionary<string, string?>(environment) { ["CACHE_DIR"] = cacheDirectory }));
        var time = TimeProvider.System;
        var log = new NullLogSink();
        var cacheFolder = CacheFolder.Claim(options.CacheDirectory);
        var s3 = S3ClientFactory.Create(CompositionRoot.S3ClientOptionsFrom(options));
        IDatabaseLock databaseLock = options.LockBackend switch
        {
            LockBackend.Ec2 => CompositionRoot.CreateSecurityGroupLock(
                Ec2ClientFactory.Create(CompositionRoot.Ec2ClientOptionsFrom(options), budget.Handler()),
                options,
                time,
                log),
            LockBackend.S3 => CompositionRoot.CreateS3LeaseLock(s3, options, time, log),
            _ => new Locking.Local.NoOpDatabaseLock(time),
        };
        var store = CompositionRoot.CreateS3Store(s3, options, cacheFolder, time);
        return CompositionRoot.CreateApiHandler(options, store, store.Capabilities, new WorkingCopies(cacheFolder), databaseLock, time, log);
    }

    private static ApiRequest Increment(string database) =>
        new("POST", "/db/execute", new Dictionary<string, string> { ["db"] = database }, Json, IncrementJson, Guid.NewGuid().ToString("N"));

    private static async Task<string> SendAsync(IApiHandler api, string database, string body, string path = "/db/execute")
    {
        var response = await api.HandleAsync(
            new ApiRequest("POST", path, new Dictionary<string, string> { ["db"] = database }, Json, Encoding.UTF8.GetBytes(body), Guid.NewGuid().ToString("N")),
            CancellationToken.None);
        return response.StatusCode == 200 ? response.Body : throw new InvalidOperationException($"{path} on {database}: {response.StatusCode} {response.Body}");
    }

    // moto checks no signature, only the credential scope (which routes the request to EC2): a plain Query
    // API form creates the VPC the lock groups go in.
    private static async Task<string> CreateVpcAsync(Uri endpoint)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Action"] = "CreateVpc",
                ["Version"] = "2016-11-15",
                ["CidrBlock"] = "10.0.0.0/16",
            }),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0");
        using var answer = await http.SendAsync(request);
        var xml = await answer.Content.ReadAsStringAsync();
        return VpcId().Match(xml) is { Success: true } id ? id.Groups[1].Value : throw new InvalidOperationException($"CreateVpc on moto: {xml}");
    }

    private static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(p * sorted.Count))];

    private static int Option(string[] args, string name, int defaultValue) =>
        int.Parse(OptionText(args, name, defaultValue.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    private static string OptionText(string[] args, string name, string defaultValue)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : defaultValue;
    }

    [GeneratedRegex("<vpcId>(vpc-[0-9a-f]+)</vpcId>")]
    private static partial Regex VpcId();

    private sealed record Result(string Backend, int Committed, double PerSecond, int Unavailable, int Unknown, int Conflicts, double P50, double P95, string Ec2Calls, long Stored)
    {
        public bool Verified => Stored >= Committed && Stored <= Committed + Unknown;

        public override string ToString() => string.Create(
            CultureInfo.InvariantCulture,
            $"| {Backend} | {Committed} | {PerSecond:0.0} | {Unavailable} / {Unknown} | {Conflicts} | {P50:0} | {P95:0} | {Ec2Calls} | {(Verified ? $"sum {Stored}, as answered" : $"sum {Stored}: MISMATCH")} |");
    }

    private sealed class NullLogSink : ILogSink
    {
        public void Write(string jsonLine)
        {
        }
    }
}
