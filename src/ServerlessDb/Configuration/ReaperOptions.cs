namespace ServerlessDb.Configuration;

/// <summary>
/// Everything the LockReaper reads from its environment, read once and validated with one message
/// per bad value. The reaper shares LOCK_BACKEND, LOCK_VPC_ID and LOCK_NAME_PREFIX (the EC2 lock) or
/// DB_BUCKET and DB_PREFIX (the S3 lock) with the QueryRunner, so it looks exactly where the writers lock.
/// </summary>
internal sealed record ReaperOptions
{
    /// <summary>
    /// What the default staleness threshold adds to the QueryRunner's timeout: the writer's and the
    /// reaper's clocks may disagree by this much (EC2 tags carry the writer's clock) and a lock is still
    /// never taken from a live writer.
    /// </summary>
    public static readonly TimeSpan ClockSkewMargin = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The default grace of an unreferenced chunk: far above any QueryRunner timeout (Lambda allows 900 s), so a
    /// deployment that raises the timeout stays safe without touching CHUNK_GC_GRACE_SECONDS.
    /// </summary>
    public const long DefaultChunkGraceSeconds = 3600;

    private const string VpcVariable = "LOCK_VPC_ID";
    private const string ChunkGcVariable = "CHUNK_GC";
    private const string ChunkGraceVariable = "CHUNK_GC_GRACE_SECONDS";
    private const string TimeoutVariable = "QUERY_RUNNER_TIMEOUT_SECONDS";

    /// <summary>
    /// The variables a deployment with the default lock backend (ec2) must set for <see cref="FromEnvironment"/>
    /// to start; with LOCK_BACKEND=s3, DB_BUCKET takes LOCK_VPC_ID's place. AWS_REGION is required too, but
    /// Lambda sets it in every function.
    /// </summary>
    public static IReadOnlyList<string> RequiredVariables { get; } = [VpcVariable, TimeoutVariable];

    // Lambda's own limit on a function's timeout.
    private const long MaxQueryRunnerTimeoutSeconds = 900;
    private const long MaxStaleSeconds = 7 * 24 * 60 * 60;
    private const long MaxChunkGraceSeconds = 30 * 24 * 60 * 60;

    /// <summary>Which locks to reap: LOCK_BACKEND, ec2 when unset; none has nothing to reap and is refused.</summary>
    public required LockBackend LockBackend { get; init; }

    /// <summary>The VPC in which the writers create their lock groups; never null with the EC2 lock.</summary>
    public required string? LockVpcId { get; init; }

    /// <summary>The bucket holding the databases and their lease objects; never null with the S3 lock.</summary>
    public required string? Bucket { get; init; }

    /// <summary>The databases' key prefix; the leases live under <c>{Prefix}_locks/</c>.</summary>
    public required string Prefix { get; init; }

    public required string LockNamePrefix { get; init; }

    /// <summary>
    /// A lock group whose CreateTime is older than this is stale; always longer than <see cref="QueryRunnerTimeout"/>.
    /// Defaults to the timeout plus <see cref="ClockSkewMargin"/>.
    /// </summary>
    public required TimeSpan StaleAfter { get; init; }

    /// <summary>The QueryRunner function's timeout: no writer can hold a lock for longer, because Lambda stops it.</summary>
    public required TimeSpan QueryRunnerTimeout { get; init; }

    /// <summary>
    /// Whether each pass also collects unreferenced chunks (CHUNK_GC, on by default wherever DB_BUCKET is set, off
    /// without it); <see cref="Bucket"/> is never null when true.
    /// </summary>
    public required bool ChunkCollection { get; init; }

    /// <summary>
    /// An unreferenced chunk is deleted only once it is older than this (CHUNK_GC_GRACE_SECONDS); always longer
    /// than <see cref="QueryRunnerTimeout"/>, the longest a commit can take from uploading its chunks to committing its manifest.
    /// </summary>
    public required TimeSpan ChunkGrace { get; init; }

    /// <summary>The region EC2 requests are signed for.</summary>
    public required string Region { get; init; }

    public required AwsEndpoints Endpoints { get; init; }

    /// <exception cref="OptionsException">a value is missing or invalid; the message lists every problem.</exception>
    public static ReaperOptions FromEnvironment(IEnvironment environment)
    {
        var read = new EnvironmentReader(environment);
        var options = Read(read, environment);
        read.ThrowIfInvalid();
        return options;
    }

    /// <summary>
    /// Every variable <see cref="FromEnvironment"/> reads, with its default, in reading order; the
    /// staleness threshold's default follows the QUERY_RUNNER_TIMEOUT_SECONDS of <paramref name="environment"/>.
    /// </summary>
    internal static IReadOnlyList<VariableDescriptor> Variables(IEnvironment environment)
    {
        var read = new EnvironmentReader(environment);
        Read(read, environment);
        return read.Variables;
    }

    private static ReaperOptions Read(EnvironmentReader read, IEnvironment environment)
    {
        // Unset or invalid (reported either way) reads as 0, and the staleness check below then stays silent.
        var queryRunnerTimeout = TimeSpan.FromSeconds(read.Integer(TimeoutVariable, min: 1, max: MaxQueryRunnerTimeoutSeconds) ?? 0);
        var backend = LockBackendSetting.Read(read, whenUnset: LockBackend.Ec2);
        var options = new ReaperOptions
        {
            LockBackend = backend,
            LockVpcId = backend == LockBackend.Ec2
                ? read.Required(VpcVariable, "the VPC in which the QueryRunner creates its lock groups")
                : read.Optional(VpcVariable),
            Bucket = backend == LockBackend.S3
                ? read.Required("DB_BUCKET", "with LOCK_BACKEND=s3, the bucket that holds the databases and their lease objects")
                : read.Optional("DB_BUCKET"),
            Prefix = read.Text("DB_PREFIX", ServerlessDbOptions.DefaultPrefix),
            ChunkCollection = false,
            ChunkGrace = read.Seconds(ChunkGraceVariable, DefaultChunkGraceSeconds, 1, MaxChunkGraceSeconds),
            LockNamePrefix = read.Text("LOCK_NAME_PREFIX", ServerlessDbOptions.DefaultLockNamePrefix),
            StaleAfter = read.Seconds("LOCK_STALE_SECONDS", (long)(queryRunnerTimeout + ClockSkewMargin).TotalSeconds, 1, MaxStaleSeconds),
            QueryRunnerTimeout = queryRunnerTimeout,
            Region = read.Region() ?? string.Empty,
            Endpoints = read.Endpoints(),
        };

        options = options with { ChunkCollection = ReadChunkCollection(read, environment, options.Bucket) };
        read.Check(environment.Get(TimeoutVariable) is not null,
            $"{TimeoutVariable} is required: the QueryRunner function's Timeout, the longest a writer can hold a lock.");
        ServerlessDbOptions.CheckLockNamePrefix(read, options.LockNamePrefix);
        read.Check(options.Region.Length > 0, "AWS_REGION is required: EC2 and S3 requests are signed for a region.");
        read.Check(backend != LockBackend.None || options.ChunkCollection,
            "LOCK_BACKEND=none has no locks to reap: deploy the LockReaper with ec2 or s3, as the QueryRunner, or with DB_BUCKET to collect chunks only.");
        read.Check(!options.ChunkCollection || options.QueryRunnerTimeout <= TimeSpan.Zero || options.ChunkGrace > options.QueryRunnerTimeout,
            $"{ChunkGraceVariable} ({options.ChunkGrace.TotalSeconds:0}) must be greater than QUERY_RUNNER_TIMEOUT_SECONDS ({options.QueryRunnerTimeout.TotalSeconds:0}): " +
            "a commit uploads its chunks and commits its manifest within one QueryRunner invocation, so only a chunk older than that timeout " +
            "that no manifest names is surely garbage; a smaller grace could delete the chunks of a commit in progress.");
        read.Check(options.QueryRunnerTimeout <= TimeSpan.Zero || options.StaleAfter > options.QueryRunnerTimeout,
            $"LOCK_STALE_SECONDS ({options.StaleAfter.TotalSeconds:0}) must be greater than QUERY_RUNNER_TIMEOUT_SECONDS ({options.QueryRunnerTimeout.TotalSeconds:0}): " +
            "a writer holds its lock for at most the QueryRunner's timeout, so only a lock older than that is surely abandoned; " +
            "a smaller threshold would let the reaper delete a live lock.");
        return options;
    }

    // on|off; unset means on when DB_BUCKET names the bucket, and off without one (an EC2-only reaper of old).
    private static bool ReadChunkCollection(EnvironmentReader read, IEnvironment environment, string? bucket)
    {
        var explicitlySet = environment.Get(ChunkGcVariable) is not null;
        var value = read.Text(ChunkGcVariable, "on");
        switch (value.ToLowerInvariant())
        {
            case "on":
                read.Check(bucket is not null || !explicitlySet, $"{ChunkGcVariable}=on needs DB_BUCKET, the bucket that holds the databases and their chunks.");
                return bucket is not null;
            case "off":
                return false;
            default:
                read.Check(false, $"{ChunkGcVariable} must be on or off; got '{value}'.");
                return false;
        }
    }
}
