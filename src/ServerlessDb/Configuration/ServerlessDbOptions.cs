using System.Text.RegularExpressions;

namespace ServerlessDb.Configuration;

/// <summary>
/// Everything the QueryRunner reads from its environment, read once at start-up and validated
/// with one message per bad value. README's configuration table is the contract; the reader owns
/// the defaults, each written once below.
/// </summary>
internal sealed partial record ServerlessDbOptions
{
    public const string DefaultPrefix = "databases/";
    public const string DefaultLockNamePrefix = "serverlessdb-lock-";

    /// <summary>
    /// 256 MiB: half of Lambda's default 512 MB /tmp, leaving the rest for working copies (a write
    /// copies its database) and what else the function keeps there.
    /// </summary>
    public const long DefaultCacheMaxBytes = 256L * 1024 * 1024;

    private const long DefaultLockWaitSeconds = 20;

    /// <summary>The template's default: the QueryRunner's 30 s timeout plus the reaper's 2-minute clock-skew margin.</summary>
    private const long DefaultLockStaleSeconds = 150;
    private const long DefaultRequestTimeoutSeconds = 25;
    private const long DefaultStorageRetrySeconds = 10;
    private const long DefaultWriteAttempts = 8;
    private const long DefaultMaxRequestBytes = 1024 * 1024;

    // Lambda's synchronous response limit is 6 MB; stay well below it.
    private const long DefaultMaxResultBytes = 5 * 1024 * 1024;
    private const long DefaultMaxStatements = 1000;
    private const bool DefaultQuickCheckBeforeUpload = false;
    private const long DefaultIdempotencyRetentionSeconds = 24 * 60 * 60;

    // The local folder store's time travel: replaced versions kept per database (Storage/LocalFolder's default).
    private const long DefaultLocalVersionsKept = 100;
    private const string DefaultStorageLayout = "auto";
    private const long DefaultChunkSizeMib = 2;

    // STORAGE_LAYOUT=auto chunks a database from this size: at 1 MB a chunked write is no faster (two PUTs where
    // whole-file makes one), at 10 MB it is about twice as fast (docs/benchmarks.md, chunked storage).
    private const long DefaultAutoChunkedMinBytes = 4L * 1024 * 1024;

    // Below this a read downloads the whole database (one GET, then served from /tmp); from it, a container without
    // the current version reads only the pages a query touches (docs/benchmarks.md, lazy reads).
    private const long DefaultLazyReadMinBytes = 16L * 1024 * 1024;

    private const string BucketVariable = "DB_BUCKET";

    // 1 MiB to 1 TiB: below a megabyte no real database stays cached; above a terabyte is a typo.
    private const long MinCacheMaxBytes = 1024 * 1024;
    private const long MaxCacheMaxBytes = 1024L * 1024 * 1024 * 1024;

    // Lambda's /tmp, wherever the platform keeps temporary files.
    private static readonly string DefaultCacheDirectory = Path.Combine(Path.GetTempPath(), "serverlessdb");

    /// <summary>
    /// The variables <see cref="FromEnvironment(IEnvironment)"/> refuses to start without; a deployment
    /// (template.yaml) must set each of them.
    /// </summary>
    public static IReadOnlyList<string> RequiredVariables { get; } = [BucketVariable];

    /// <summary>The bucket holding the databases; null only where storage is not S3 (the local server's folder).</summary>
    public required string? Bucket { get; init; }

    /// <summary>Key prefix; database NAME lives at <c>{Prefix}{NAME}.sqlite</c>.</summary>
    public required string Prefix { get; init; }

    /// <summary>VPC for the security-group lock; never null when <see cref="LockBackend"/> is <see cref="Configuration.LockBackend.Ec2"/>.</summary>
    public required string? LockVpcId { get; init; }

    /// <summary>How writers take turns: LOCK_BACKEND, by default ec2 when LOCK_VPC_ID is set and none otherwise.</summary>
    public required LockBackend LockBackend { get; init; }

    /// <summary>
    /// With the S3 lock, how long a lease lasts: a lease older than this may be taken over by another
    /// writer, so it must outlast any request (REQUEST_TIMEOUT_SECONDS). The template feeds the reaper's
    /// LOCK_STALE_SECONDS from the same value.
    /// </summary>
    public required TimeSpan LockStaleAfter { get; init; }

    public required string LockNamePrefix { get; init; }

    public required TimeSpan LockWait { get; init; }

    /// <summary>Never null with the security-group lock: EC2 requests are signed for a region.</summary>
    public required string? Region { get; init; }

    public required AwsEndpoints Endpoints { get; init; }

    /// <summary>Local folder for cached versions and working copies (Lambda's /tmp); each process claims its own folder in it.</summary>
    public required string CacheDirectory { get; init; }

    /// <summary>
    /// The bound on the total size of cached version files: beyond it the least recently used files no
    /// reader holds are evicted. Working copies are not counted.
    /// </summary>
    public required long CacheMaxBytes { get; init; }

    /// <summary>How long one request may take in all, waits and retries included.</summary>
    public required TimeSpan RequestTimeout { get; init; }

    /// <summary>How long S3 calls are retried (backoff with jitter) before the request gets a 503.</summary>
    public required TimeSpan StorageRetryDeadline { get; init; }

    /// <summary>How many times a write is run again from a fresh read after a conflicting commit.</summary>
    public required int WriteAttempts { get; init; }

    public required int MaxRequestBytes { get; init; }

    public required int MaxResultBytes { get; init; }

    public required int MaxStatements { get; init; }

    /// <summary>Run PRAGMA quick_check on every new version before it is uploaded.</summary>
    public required bool QuickCheckBeforeUpload { get; init; }

    /// <summary>How long the answer of a write sent with an Idempotency-Key is kept for its retries.</summary>
    public required TimeSpan IdempotencyRetention { get; init; }

    /// <summary>How many replaced versions of each database the local folder store keeps for time travel (0: none).</summary>
    public required int LocalVersionsKept { get; init; }

    /// <summary>
    /// With STORAGE_LAYOUT=chunked or auto, the size of a chunk in bytes (CHUNK_SIZE_MIB): commits store a manifest and
    /// only the chunks that changed. Null with STORAGE_LAYOUT=whole: each commit stores the whole file.
    /// </summary>
    public required int? ChunkSize { get; init; }

    /// <summary>
    /// The size from which a commit stores the chunked layout: AUTO_CHUNKED_MIN_BYTES with STORAGE_LAYOUT=auto (the
    /// default), 0 with chunked (every commit); smaller databases are stored whole.
    /// </summary>
    public required long ChunkedFromBytes { get; init; }

    /// <summary>
    /// LAZY_READ_MIN_BYTES: a database at least this large that a container has no current copy of is read in place,
    /// fetching only the pages its queries touch; null (<c>off</c>): every read downloads the database.
    /// </summary>
    public required long? LazyReadMinBytes { get; init; }

    /// <summary>
    /// How old an unreferenced chunk must be before the local server's chunk collector deletes it (CHUNK_GC_GRACE_SECONDS,
    /// as the LockReaper reads it; an hour by default): longer than any commit takes from storing its chunks to committing
    /// its manifest.
    /// </summary>
    public required TimeSpan ChunkGrace { get; init; }

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
        var options = Read(read, bucketRequired);
        read.ThrowIfInvalid();
        return options;
    }

    /// <summary>Every variable <see cref="FromEnvironment(IEnvironment)"/> reads, with its default, in reading order.</summary>
    internal static IReadOnlyList<VariableDescriptor> Variables()
    {
        var read = new EnvironmentReader(new DictionaryEnvironment(new Dictionary<string, string?>()));
        Read(read, bucketRequired: true);
        return read.Variables;
    }

    /// <summary>Shared with <see cref="ReaperOptions"/>: the reaper must accept exactly the prefixes the QueryRunner accepts.</summary>
    internal static void CheckLockNamePrefix(EnvironmentReader read, string prefix) =>
        read.Check(LockNamePrefixPattern().IsMatch(prefix),
            $"LOCK_NAME_PREFIX must be 1-190 characters of letters, digits, and ._-:/()#,@[]+=&;{{}}!$*; got '{prefix}'.");

    private static ServerlessDbOptions Read(EnvironmentReader read, bool bucketRequired)
    {
        var bucket = bucketRequired
            ? read.Required(BucketVariable, "the S3 bucket that holds the databases")
            : read.Optional(BucketVariable);
        var prefix = read.Text("DB_PREFIX", DefaultPrefix);
        var lockVpcId = read.Optional("LOCK_VPC_ID");
        var layout = ReadLayout(read);
        var options = new ServerlessDbOptions
        {
            Bucket = bucket,
            Prefix = prefix,
            LockVpcId = lockVpcId,
            LockBackend = LockBackendSetting.Read(read, whenUnset: lockVpcId is null ? LockBackend.None : LockBackend.Ec2),
            LockNamePrefix = read.Text("LOCK_NAME_PREFIX", DefaultLockNamePrefix),
            LockWait = read.Seconds("LOCK_WAIT_SECONDS", DefaultLockWaitSeconds, 1, 600),
            LockStaleAfter = read.Seconds("LOCK_STALE_SECONDS", DefaultLockStaleSeconds, 1, 7 * 24 * 60 * 60),
            Region = read.Region(),
            Endpoints = read.Endpoints(),
            CacheDirectory = read.Text("CACHE_DIR", DefaultCacheDirectory),
            CacheMaxBytes = read.Integer("CACHE_MAX_BYTES", DefaultCacheMaxBytes, MinCacheMaxBytes, MaxCacheMaxBytes),
            RequestTimeout = read.Seconds("REQUEST_TIMEOUT_SECONDS", DefaultRequestTimeoutSeconds, 1, 900),
            StorageRetryDeadline = read.Seconds("STORAGE_RETRY_SECONDS", DefaultStorageRetrySeconds, 1, 600),
            WriteAttempts = (int)read.Integer("WRITE_ATTEMPTS", DefaultWriteAttempts, 1, 100),
            MaxRequestBytes = (int)read.Integer("MAX_REQUEST_BYTES", DefaultMaxRequestBytes, 1024, 6 * 1024 * 1024),
            MaxResultBytes = (int)read.Integer("MAX_RESULT_BYTES", DefaultMaxResultBytes, 1024, 6 * 1024 * 1024),
            MaxStatements = (int)read.Integer("MAX_STATEMENTS", DefaultMaxStatements, 1, 100_000),
            QuickCheckBeforeUpload = read.Boolean("QUICK_CHECK_BEFORE_UPLOAD", DefaultQuickCheckBeforeUpload),
            IdempotencyRetention = read.Seconds("IDEMPOTENCY_RETENTION_SECONDS", DefaultIdempotencyRetentionSeconds, 60, 30 * 24 * 60 * 60),
            LocalVersionsKept = (int)read.Integer("LOCAL_VERSIONS_KEPT", DefaultLocalVersionsKept, 0, 1_000_000),
            ChunkSize = layout.ChunkSize,
            ChunkedFromBytes = layout.ChunkedFromBytes,
            LazyReadMinBytes = ReadLazyReadMinBytes(read),
            ChunkGrace = read.Seconds("CHUNK_GC_GRACE_SECONDS", ReaperOptions.DefaultChunkGraceSeconds, 1, 30 * 24 * 60 * 60),
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
        read.Check(options.LockBackend != LockBackend.Ec2 || options.LockVpcId is not null,
            "LOCK_VPC_ID is required with LOCK_BACKEND=ec2: the VPC in which the lock groups are created.");
        read.Check(options.LockBackend != LockBackend.Ec2 || options.Region is not null,
            "AWS_REGION is required for the security-group lock and the LockReaper: EC2 requests are signed for a region.");
        read.Check(options.LockBackend != LockBackend.S3 || (options.Bucket is not null && (bucketRequired || options.Endpoints.ForS3 is not null)),
            "LOCK_BACKEND=s3 needs S3 storage (DB_BUCKET, and for the local server an S3 endpoint): the lease objects live in the databases' bucket.");
        read.Check(options.LockBackend != LockBackend.S3 || options.LockStaleAfter > options.RequestTimeout,
            $"LOCK_STALE_SECONDS ({options.LockStaleAfter.TotalSeconds:0}) must be greater than REQUEST_TIMEOUT_SECONDS ({options.RequestTimeout.TotalSeconds:0}) with LOCK_BACKEND=s3: " +
            "a lease older than that may be taken over, so it must outlast every request that holds it.");
        return options;
    }

    private static (int? ChunkSize, long ChunkedFromBytes) ReadLayout(EnvironmentReader read)
    {
        var layout = read.Text("STORAGE_LAYOUT", DefaultStorageLayout);
        var chunkSize = (int)read.Integer("CHUNK_SIZE_MIB", DefaultChunkSizeMib, 1, 64) * 1024 * 1024;
        var autoFrom = read.Integer("AUTO_CHUNKED_MIN_BYTES", DefaultAutoChunkedMinBytes, 0, MaxCacheMaxBytes);
        switch (layout.ToLowerInvariant())
        {
            case "whole":
                return (null, 0);
            case "chunked":
                return (chunkSize, 0);
            case "auto":
                return (chunkSize, autoFrom);
            default:
                read.Check(false, $"STORAGE_LAYOUT must be auto, whole or chunked; got '{layout}'.");
                return (null, 0);
        }
    }

    private static long? ReadLazyReadMinBytes(EnvironmentReader read)
    {
        var raw = read.Text("LAZY_READ_MIN_BYTES", DefaultLazyReadMinBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (string.Equals(raw, "off", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var valid = long.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var bytes) && bytes <= MaxCacheMaxBytes;
        read.Check(valid, $"LAZY_READ_MIN_BYTES must be off or a number of bytes from 0 to {MaxCacheMaxBytes}; got '{raw}'.");
        return valid ? bytes : DefaultLazyReadMinBytes;
    }

    [GeneratedRegex(@"\A[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\z")]
    private static partial Regex BucketName();

    // Security-group names allow a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* up to 255 characters;
    // the prefix leaves room for a 64-character database name.
    [GeneratedRegex(@"\A[A-Za-z0-9._\-:/()#,@\[\]+=&;{}!$*]{1,190}\z")]
    private static partial Regex LockNamePrefixPattern();
}
