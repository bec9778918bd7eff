using System.Text.RegularExpressions;

namespace ServerlessDb.Configuration;

/// <summary>
/// Everything the QueryRunner reads from its environment, read once at start-up and validated
/// with one message per bad value. DESIGN.md's configuration table is the contract.
/// </summary>
public sealed partial record ServerlessDbOptions
{
    public const string DefaultPrefix = "databases/";
    public const string DefaultLockNamePrefix = "serverlessdb-lock-";

    private const string BucketVariable = "DB_BUCKET";

    // 1 MiB to 1 TiB: below a megabyte no real database stays cached; above a terabyte is a typo.
    private const long MinCacheMaxBytes = 1024 * 1024;
    private const long MaxCacheMaxBytes = 1024L * 1024 * 1024 * 1024;

    /// <summary>
    /// The variables <see cref="FromEnvironment(IEnvironment)"/> refuses to start without; a deployment
    /// (template.yaml) must set each of them.
    /// </summary>
    public static IReadOnlyList<string> RequiredVariables { get; } = [BucketVariable];

    /// <summary>The bucket holding the databases; null only where storage is not S3 (the local server's folder).</summary>
    public string? Bucket { get; init; }

    /// <summary>Key prefix; database NAME lives at <c>{Prefix}{NAME}.sqlite</c>.</summary>
    public string Prefix { get; init; } = DefaultPrefix;

    /// <summary>VPC for the security-group lock; without it writers rely on the conditional commit alone.</summary>
    public string? LockVpcId { get; init; }

    public string LockNamePrefix { get; init; } = DefaultLockNamePrefix;

    public TimeSpan LockWait { get; init; } = TimeSpan.FromSeconds(20);

    public string? Region { get; init; }

    public AwsEndpoints Endpoints { get; init; } = new(null, null, null);

    /// <summary>
    /// 256 MiB: half of Lambda's default 512 MB /tmp, leaving the rest for working copies (a write
    /// copies its database) and what else the function keeps there.
    /// </summary>
    public const long DefaultCacheMaxBytes = 256L * 1024 * 1024;

    /// <summary>Local folder for cached versions and working copies (Lambda's /tmp); each process claims its own folder in it.</summary>
    public string CacheDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "serverlessdb");

    /// <summary>
    /// The bound on the total size of cached version files: beyond it the least recently used files no
    /// reader holds are evicted. Working copies are not counted.
    /// </summary>
    public long CacheMaxBytes { get; init; } = DefaultCacheMaxBytes;

    /// <summary>How long one request may take in all, waits and retries included.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(25);

    /// <summary>How long S3 calls are retried (backoff with jitter) before the request gets a 503.</summary>
    public TimeSpan StorageRetryDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many times a write is run again from a fresh read after a conflicting commit.</summary>
    public int WriteAttempts { get; init; } = 8;

    public int MaxRequestBytes { get; init; } = 1024 * 1024;

    /// <summary>Lambda's synchronous response limit is 6 MB; stay well below it.</summary>
    public int MaxResultBytes { get; init; } = 5 * 1024 * 1024;

    public int MaxStatements { get; init; } = 1000;

    /// <summary>Run PRAGMA quick_check on every new version before it is uploaded.</summary>
    public bool QuickCheckBeforeUpload { get; init; }

    /// <summary>How long the answer of a write sent with an Idempotency-Key is kept for its retries.</summary>
    public TimeSpan IdempotencyRetention { get; init; } = TimeSpan.FromHours(24);

    /// <summary>The QueryRunner's options: DB_BUCKET is required.</summary>
    /// <exception cref="OptionsException">a value is missing or invalid; the message lists every problem.</exception>
    public static ServerlessDbOptions FromEnvironment(IEnvironment environment) => FromEnvironment(environment, bucketRequired: true);

    /// <param name="bucketRequired">
    /// false for the local server, whose storage is S3 only when an S3 endpoint is set (DB_BUCKET is then
    /// required); a DB_BUCKET that is set is validated either way.
    /// </param>
    /// <exception cref="OptionsException">a value is missing or invalid; the message lists every problem.</exception>
    public static ServerlessDbOptions FromEnvironment(IEnvironment environment, bool bucketRequired)
    {
        var read = new EnvironmentReader(environment);
        var options = new ServerlessDbOptions
        {
            Bucket = bucketRequired
                ? read.Required(BucketVariable, "the S3 bucket that holds the databases")
                : read.Optional(BucketVariable),
            Prefix = read.Text("DB_PREFIX", DefaultPrefix),
            LockVpcId = read.Optional("LOCK_VPC_ID"),
            LockNamePrefix = read.Text("LOCK_NAME_PREFIX", DefaultLockNamePrefix),
            LockWait = read.Seconds("LOCK_WAIT_SECONDS", 20, 1, 600),
            Region = read.Region(),
            Endpoints = read.Endpoints(),
            CacheDirectory = read.Text("CACHE_DIR", Path.Combine(Path.GetTempPath(), "serverlessdb")),
            CacheMaxBytes = read.Integer("CACHE_MAX_BYTES", DefaultCacheMaxBytes, MinCacheMaxBytes, MaxCacheMaxBytes),
            RequestTimeout = read.Seconds("REQUEST_TIMEOUT_SECONDS", 25, 1, 900),
            StorageRetryDeadline = read.Seconds("STORAGE_RETRY_SECONDS", 10, 1, 600),
            WriteAttempts = (int)read.Integer("WRITE_ATTEMPTS", 8, 1, 100),
            MaxRequestBytes = (int)read.Integer("MAX_REQUEST_BYTES", 1024 * 1024, 1024, 6 * 1024 * 1024),
            MaxResultBytes = (int)read.Integer("MAX_RESULT_BYTES", 5 * 1024 * 1024, 1024, 6 * 1024 * 1024),
            MaxStatements = (int)read.Integer("MAX_STATEMENTS", 1000, 1, 100_000),
            QuickCheckBeforeUpload = read.Boolean("QUICK_CHECK_BEFORE_UPLOAD", false),
            IdempotencyRetention = read.Seconds("IDEMPOTENCY_RETENTION_SECONDS", 24 * 60 * 60, 60, 30 * 24 * 60 * 60),
        };

        read.Check(string.IsNullOrEmpty(options.Bucket) || BucketName().IsMatch(options.Bucket),
            $"DB_BUCKET must be a valid S3 bucket name (3-63 lower-case letters, digits, dots and hyphens); got '{options.Bucket}'.");
        read.Check(!options.Prefix.StartsWith('/'), $"DB_PREFIX must not start with '/'; got '{options.Prefix}'.");
        CheckLockNamePrefix(read, options.LockNamePrefix);
        read.Check(options.StorageRetryDeadline < options.RequestTimeout,
            "STORAGE_RETRY_SECONDS must be smaller than REQUEST_TIMEOUT_SECONDS, so a request can still answer after its retries.");
        read.Check(options.LockWait < options.RequestTimeout,
            "LOCK_WAIT_SECONDS must be smaller than REQUEST_TIMEOUT_SECONDS, so a writer that gets the lock late still has time to run.");
        read.Check(bucketRequired || options.Endpoints.ForS3 is null || options.Bucket is not null,
            "DB_BUCKET is required when storage is S3 (an S3 endpoint is set): the bucket that holds the databases.");
        read.Check(options.LockVpcId is null || options.Region is not null,
            "AWS_REGION is required for the security-group lock and the LockReaper: EC2 requests are signed for a region.");
        read.ThrowIfInvalid();
        return options;
    }

    /// <summary>Shared with <see cref="ReaperOptions"/>: the reaper must accept exactly the prefixes the QueryRunner accepts.</summary>
    internal static void CheckLockNamePrefix(EnvironmentReader read, string prefix) =>
        read.Check(LockNamePrefixPattern().IsMatch(prefix),
            $"LOCK_NAME_PREFIX must be 1-190 characters of letters, digits, and ._-:/()#,@[]+=&;{{}}!$*; got '{prefix}'.");

    [GeneratedRegex(@"\A[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\z")]
    private static partial Regex BucketName();

    // Security-group names allow a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* up to 255 characters;
    // the prefix leaves room for a 64-character database name.
    [GeneratedRegex(@"\A[A-Za-z0-9._\-:/()#,@\[\]+=&;{}!$*]{1,190}\z")]
    private static partial Regex LockNamePrefixPattern();
}
