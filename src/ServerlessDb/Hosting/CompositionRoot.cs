using ServerlessDb.Api;
using ServerlessDb.Configuration;
using ServerlessDb.Engine;
using ServerlessDb.Locking;
using ServerlessDb.Locking.Ec2;
using ServerlessDb.Locking.Local;
using ServerlessDb.Locking.S3;
using ServerlessDb.Logging;
using ServerlessDb.Storage;
using ServerlessDb.Storage.Collection;
using ServerlessDb.Storage.LocalFolder;
using ServerlessDb.Storage.S3;

namespace ServerlessDb.Hosting;

/// <summary>
/// The composition root: builds the API handler or the lock reaper and their clients from the
/// environment, once per process (a Lambda container, the local server, a test). It is the one place
/// that maps the configuration read from the environment to each component's own options.
/// Invalid configuration throws <see cref="OptionsException"/> listing every problem, so a
/// misconfigured function fails at its first invocation with a message that says what to fix.
/// </summary>
public static class CompositionRoot
{
    public static IApiHandler CreateApiHandler(IEnvironment environment) =>
        CreateApiHandler(environment, TimeProvider.System, ConsoleLogSink.Instance);

    /// <summary>
    /// The QueryRunner's composition: S3 storage (DB_BUCKET required) and the lock LOCK_BACKEND names (the
    /// security-group lock by default when LOCK_VPC_ID is set); the store and an S3 lease lock share one client.
    /// </summary>
    public static IApiHandler CreateApiHandler(IEnvironment environment, TimeProvider time, ILogSink log)
    {
        var options = ServerlessDbOptions.FromEnvironment(environment);
        var cacheFolder = CacheFolder.Claim(options.CacheDirectory);
        var s3 = S3ClientFactory.Create(S3ClientOptionsFrom(options));
        var store = CreateS3Store(s3, options, cacheFolder, time);
        var databaseLock = CreateLock(options, s3, () => new NoOpDatabaseLock(time), time, log);
        using (var line = new LogLine(time, "info", "started"))
        {
            line.Add("bucket", options.Bucket)
                .Add("prefix", options.Prefix)
                .Add("lock", LockDescription(options, withoutLock: "none (conditional commits only)"))
                .Add("cacheDirectory", cacheFolder.FolderPath)
                .Add("cacheMaxBytes", options.CacheMaxBytes)
                .WriteTo(log);
        }

        return CreateApiHandler(options, store, store.Capabilities, new WorkingCopies(cacheFolder), databaseLock, time, log, ApiResponse.LambdaResponseLimitBytes);
    }

    /// <summary>
    /// The local server's composition. Storage is the folder <paramref name="dataDirectory"/>
    /// (<see cref="DatabaseStore"/> over <see cref="LocalFolderObjectBackend"/>, whose unreferenced chunks
    /// <see cref="LocalMode.CollectChunksAsync"/> collects), or S3 when the environment names an S3 endpoint
    /// (AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3; DB_BUCKET is then required). Writers take turns on a
    /// <see cref="LocalDatabaseLock"/>, or on the security-group lock when LOCK_VPC_ID is set.
    /// The process claims its own folder in CACHE_DIR, which several processes may share.
    /// </summary>
    /// <exception cref="OptionsException">the configuration is invalid; the message lists every problem.</exception>
    public static LocalMode CreateLocalMode(IEnvironment environment, string dataDirectory, TimeProvider time, ILogSink log)
    {
        var options = ServerlessDbOptions.FromEnvironment(environment, bucketRequired: false);
        var cacheFolder = CacheFolder.Claim(options.CacheDirectory);
        IDatabaseStore store;
        StoreCapabilities capabilities;
        string storage;
        IChunkCollector? chunks = null;
        Amazon.S3.IAmazonS3? s3 = null;
        if (options.Endpoints.ForS3 is { } endpoint)
        {
            s3 = S3ClientFactory.Create(S3ClientOptionsFrom(options));
            var s3Store = CreateS3Store(s3, options, cacheFolder, time);
            (store, capabilities) = (s3Store, s3Store.Capabilities);
            storage = $"S3 bucket {options.Bucket} (keys {new ObjectKeys(options.Prefix).Database("NAME")}) at {endpoint}";
        }
        else
        {
            var folder = new LocalFolderObjectBackend(dataDirectory, LocalVersionRetentionFrom(options), time);
            var folderStore = new DatabaseStore(folder, links: null, LocalStoreOptionsFrom(options), cacheFolder, time);
            (store, capabilities) = (folderStore, folderStore.Capabilities);
            storage = $"folder {folder.Folder} ({folder.Describe(new ObjectKeys(LocalPrefix).Database("NAME"))})";
            chunks = new ChunkCollector(folder, new ChunkCollectorOptions(LocalPrefix, options.ChunkGrace), time, log);
        }

        var databaseLock = CreateLock(options, s3, () => new LocalDatabaseLock(options.LockWait, time), time, log);
        return new LocalMode(
            CreateApiHandler(options, store, capabilities, new WorkingCopies(cacheFolder), databaseLock, time, log),
            storage,
            LockDescription(options, withoutLock: "local (writers in this process take turns)"))
        {
            Chunks = chunks,
            Log = log,
            Time = time,
        };
    }

    /// <summary>
    /// The engine and the API over a store, working copies and a lock the host chose. A host that answers
    /// within a response limit (<paramref name="maxInlineResponseBytes"/>: Lambda's) redirects larger backups
    /// to the store's links; without one, every backup is streamed.
    /// </summary>
    internal static IApiHandler CreateApiHandler(
        ServerlessDbOptions options,
        IDatabaseStore store,
        StoreCapabilities capabilities,
        WorkingCopies workingCopies,
        IDatabaseLock databaseLock,
        TimeProvider time,
        ILogSink log,
        long? maxInlineResponseBytes = null)
    {
        var engine = new QueryEngine(store, databaseLock, workingCopies, EngineOptionsFrom(options), time, log, capabilities);
        return new ServerlessDbApi(engine, ApiOptionsFrom(options) with { MaxInlineResponseBytes = maxInlineResponseBytes }, time, log);
    }

    /// <summary>The store over S3 and its client; the options must name a bucket.</summary>
    internal static DatabaseStore CreateS3Store(ServerlessDbOptions options, CacheFolder cacheFolder, TimeProvider time) =>
        CreateS3Store(S3ClientFactory.Create(S3ClientOptionsFrom(options)), options, cacheFolder, time);

    /// <summary>The store over the bucket of <paramref name="s3"/>: S3 keeps versions, and clients can fetch its objects by a link, so staging and links are offered.</summary>
    internal static DatabaseStore CreateS3Store(Amazon.S3.IAmazonS3 s3, ServerlessDbOptions options, CacheFolder cacheFolder, TimeProvider time)
    {
        var bucket = CreateS3Backend(s3, options);
        return new(bucket, bucket, StoreOptionsFrom(options), cacheFolder, time);
    }

    /// <summary>The objects of the databases' bucket; the options must name it.</summary>
    internal static S3ObjectBackend CreateS3Backend(Amazon.S3.IAmazonS3 s3, ServerlessDbOptions options) => CreateS3Backend(s3, options.Bucket, options.Endpoints);

    private static S3ObjectBackend CreateS3Backend(Amazon.S3.IAmazonS3 s3, string? bucket, AwsEndpoints endpoints) =>
        new(s3, Validated(bucket, "DB_BUCKET"), overTls: endpoints.ForS3 is not { } endpoint || endpoint.Scheme == Uri.UriSchemeHttps);

    // The local folder holds its databases at its top, as NAME.sqlite files a person can open; DB_PREFIX names S3 keys.
    private const string LocalPrefix = "";

    /// <summary>The store's options over the local folder: the databases at the folder's top, whatever DB_PREFIX says.</summary>
    internal static StoreOptions LocalStoreOptionsFrom(ServerlessDbOptions options) => StoreOptionsFrom(options) with { Prefix = LocalPrefix };

    /// <summary>The S3 lease lock over the objects of <paramref name="s3"/>'s bucket; the options must name a bucket.</summary>
    internal static S3LeaseDatabaseLock CreateS3LeaseLock(Amazon.S3.IAmazonS3 s3, ServerlessDbOptions options, TimeProvider time, ILogSink log)
    {
        var lockOptions = S3LeaseLockOptionsFrom(options);
        return new(new S3ObjectBackend(s3, lockOptions.Bucket), lockOptions, time, log);
    }

    /// <summary>The security-group lock's EC2 client; the options must name a region.</summary>
    internal static IEc2Client CreateEc2Client(ServerlessDbOptions options) => Ec2ClientFactory.Create(Ec2ClientOptionsFrom(options));

    /// <summary>The security-group lock over <paramref name="ec2"/>; the options must name a VPC.</summary>
    internal static SecurityGroupDatabaseLock CreateSecurityGroupLock(IEc2Client ec2, ServerlessDbOptions options, TimeProvider time, ILogSink log) =>
        new(ec2, SecurityGroupLockOptionsFrom(options), time, log);

    /// <summary>
    /// The LockReaper's composition: the reaper of the backend LOCK_BACKEND names (ec2 by default; none with
    /// LOCK_BACKEND=none) and, where DB_BUCKET is set and CHUNK_GC is on, the chunk collector; the lease reaper
    /// and the collector share one S3 client.
    /// </summary>
    /// <exception cref="OptionsException">the configuration is invalid; the message lists every problem.</exception>
    public static ReaperPass CreateReaperPass(IEnvironment environment, TimeProvider time, ILogSink log)
    {
        var options = ReaperOptions.FromEnvironment(environment);
        var s3 = options.LockBackend == LockBackend.S3 || options.ChunkCollection ? S3ClientFactory.Create(S3ClientOptionsFrom(options)) : null;
        ILockReaper? locks = options.LockBackend switch
        {
            LockBackend.S3 => CreateExpiredLeaseReaper(s3!, options, time, log),
            LockBackend.Ec2 => new StaleLockReaper(Ec2ClientFactory.Create(Ec2ClientOptionsFrom(options)), StaleLockReaperOptionsFrom(options), time, log),
            _ => null,
        };
        var chunks = options.ChunkCollection ? new ChunkCollector(CreateS3Backend(s3!, options.Bucket, options.Endpoints), ChunkCollectorOptionsFrom(options), time, log) : null;
        return new ReaperPass(locks, chunks);
    }

    /// <summary>The S3 lease reaper over the objects of <paramref name="s3"/>'s bucket; the options must name a bucket.</summary>
    internal static ExpiredLeaseReaper CreateExpiredLeaseReaper(Amazon.S3.IAmazonS3 s3, ReaperOptions options, TimeProvider time, ILogSink log)
    {
        var reaperOptions = ExpiredLeaseReaperOptionsFrom(options);
        return new(new S3ObjectBackend(s3, reaperOptions.Bucket), reaperOptions, time, log);
    }

    internal static StoreOptions StoreOptionsFrom(ServerlessDbOptions options) =>
        new(options.Prefix, options.StorageRetryDeadline, options.CacheMaxBytes, options.ChunkSize, options.LazyReadMinBytes, options.ChunkedFromBytes);

    internal static S3ClientOptions S3ClientOptionsFrom(ServerlessDbOptions options) =>
        new(options.Region, options.Endpoints.ForS3, options.StorageRetryDeadline);

    internal static Ec2ClientOptions Ec2ClientOptionsFrom(ServerlessDbOptions options) =>
        new(Validated(options.Region, "AWS_REGION"), options.Endpoints.ForEc2);

    internal static SecurityGroupLockOptions SecurityGroupLockOptionsFrom(ServerlessDbOptions options) =>
        new(Validated(options.LockVpcId, "LOCK_VPC_ID"), options.LockNamePrefix, options.LockWait);

    internal static S3LeaseLockOptions S3LeaseLockOptionsFrom(ServerlessDbOptions options) =>
        new(Validated(options.Bucket, "DB_BUCKET"), options.Prefix, options.LockWait, options.LockStaleAfter);

    internal static EngineOptions EngineOptionsFrom(ServerlessDbOptions options) =>
        new(options.WriteAttempts, options.MaxResultBytes, options.QuickCheckBeforeUpload, options.IdempotencyRetention);

    internal static ApiOptions ApiOptionsFrom(ServerlessDbOptions options) =>
        new(options.RequestTimeout, options.MaxRequestBytes, options.MaxResultBytes, options.MaxStatements);

    internal static LocalVersionRetention LocalVersionRetentionFrom(ServerlessDbOptions options) => new(options.LocalVersionsKept);

    internal static Ec2ClientOptions Ec2ClientOptionsFrom(ReaperOptions options) => new(options.Region, options.Endpoints.ForEc2);

    internal static StaleLockReaperOptions StaleLockReaperOptionsFrom(ReaperOptions options) =>
        new(Validated(options.LockVpcId, "LOCK_VPC_ID"), options.LockNamePrefix, options.StaleAfter);

    // The reaper's S3 client retries nothing itself either: the reaper's own retry window does.
    internal static S3ClientOptions S3ClientOptionsFrom(ReaperOptions options) =>
        new(options.Region, options.Endpoints.ForS3, ExpiredLeaseReaperOptions.DefaultRetryWindow);

    internal static ExpiredLeaseReaperOptions ExpiredLeaseReaperOptionsFrom(ReaperOptions options) =>
        new(Validated(options.Bucket, "DB_BUCKET"), options.Prefix, options.StaleAfter);

    internal static ChunkCollectorOptions ChunkCollectorOptionsFrom(ReaperOptions options) =>
        new(options.Prefix, options.ChunkGrace);

    // ServerlessDbOptions.FromEnvironment refuses a configuration in which the component being built
    // lacks this value, so null here means a host composed a component its configuration does not enable.
    private static string Validated(string? value, string variable) =>
        value ?? throw new InvalidOperationException($"{variable} is not set, so the configuration does not enable this component.");

    private static string LockDescription(ServerlessDbOptions options, string withoutLock) => options.LockBackend switch
    {
        LockBackend.Ec2 => $"security group in {options.LockVpcId}",
        LockBackend.S3 => $"S3 lease s3://{options.Bucket}/{new ObjectKeys(options.Prefix).Lease("NAME")}",
        _ => withoutLock,
    };

    // The options were validated: ec2 comes with a VPC and a region, s3 with a bucket and S3 storage (its client).
    private static IDatabaseLock CreateLock(ServerlessDbOptions options, Amazon.S3.IAmazonS3? s3, Func<IDatabaseLock> withoutLock, TimeProvider time, ILogSink log) =>
        options.LockBackend switch
        {
            LockBackend.Ec2 => CreateSecurityGroupLock(CreateEc2Client(options), options, time, log),
            LockBackend.S3 => CreateS3LeaseLock(s3 ?? throw new InvalidOperationException("LOCK_BACKEND=s3 without S3 storage."), options, time, log),
            _ => withoutLock(),
        };
}

/// <summary>
/// What <see cref="CompositionRoot.CreateLocalMode"/> built: the API handler, and one line each
/// saying where the databases live and how writers take turns, for the local server to print.
/// </summary>
public sealed record LocalMode(IApiHandler Handler, string Storage, string Lock)
{
    /// <summary>The chunk collector of the local folder (the LockReaper's pass, run locally); none over S3, where the LockReaper runs it.</summary>
    internal IChunkCollector? Chunks { get; init; }

    internal ILogSink? Log { get; init; }

    internal TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Whether <see cref="CollectChunksAsync"/> has anything to do: storage is the local folder.</summary>
    public bool CollectsChunks => Chunks is not null;

    /// <summary>
    /// One pass of the chunk collector over the local folder, which logs what it found and deleted; a pass that fails
    /// logs why, and the next one tries again.
    /// </summary>
    public async Task CollectChunksAsync(CancellationToken cancellationToken)
    {
        if (Chunks is null)
        {
            return;
        }

        try
        {
            await Chunks.CollectOnceAsync("local-server", cancellationToken);
        }
        catch (Exception e) when (e is ObjectBackendException or BackendRetryExpiredException && Log is not null)
        {
            using var line = new LogLine(Time, "error", "chunk collector pass failed: nothing was deleted; the next pass tries again");
            line.Add("reason", ObjectBackendException.Describe(e)).Add("exception", e).WriteTo(Log);
        }
    }
}
