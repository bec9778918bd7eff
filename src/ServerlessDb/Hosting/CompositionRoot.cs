using ServerlessDb.Api;
using ServerlessDb.Configuration;
using ServerlessDb.Engine;
using ServerlessDb.Locking;
using ServerlessDb.Locking.Ec2;
using ServerlessDb.Locking.Local;
using ServerlessDb.Logging;
using ServerlessDb.Storage;
using ServerlessDb.Storage.LocalFolder;
using ServerlessDb.Storage.S3;

namespace ServerlessDb.Hosting;

/// <summary>
/// The composition root: builds the API handler and its clients from the environment, once per
/// process (a Lambda container, the local server, a test). Invalid configuration throws
/// <see cref="OptionsException"/> listing every problem, so a misconfigured function fails at its
/// first invocation with a message that says what to fix.
/// </summary>
public static class CompositionRoot
{
    public static IApiHandler CreateApiHandler(IEnvironment environment) =>
        CreateApiHandler(environment, TimeProvider.System, ConsoleLogSink.Instance);

    /// <summary>The QueryRunner's composition: S3 storage (DB_BUCKET required), the security-group lock when LOCK_VPC_ID is set.</summary>
    public static IApiHandler CreateApiHandler(IEnvironment environment, TimeProvider time, ILogSink log)
    {
        var options = ServerlessDbOptions.FromEnvironment(environment);
        var cacheFolder = CacheFolder.Claim(options.CacheDirectory);
        var store = new S3DatabaseStore(S3ClientFactory.Create(options), options, cacheFolder, time);
        IDatabaseLock databaseLock = options.LockVpcId is null ? new NoOpDatabaseLock(time) : CreateSecurityGroupLock(options, time, log);
        using (var line = new LogLine(time, "info", "started"))
        {
            line.Add("bucket", options.Bucket)
                .Add("prefix", options.Prefix)
                .Add("lock", LockDescription(options, withoutVpc: "none (conditional commits only)"))
                .Add("cacheDirectory", cacheFolder.FolderPath)
                .Add("cacheMaxBytes", options.CacheMaxBytes)
                .WriteTo(log);
        }

        return CreateApiHandler(options, store, new WorkingCopies(cacheFolder), databaseLock, time, log);
    }

    /// <summary>
    /// The local server's composition. Storage is the folder <paramref name="dataDirectory"/>
    /// (<see cref="LocalFolderDatabaseStore"/>), or S3 when the environment names an S3 endpoint
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
        string storage;
        if (options.Endpoints.ForS3 is { } endpoint)
        {
            if (options.Bucket is null)
            {
                throw new OptionsException(["DB_BUCKET is required when storage is S3 (an S3 endpoint is set): the bucket that holds the databases."]);
            }

            store = new S3DatabaseStore(S3ClientFactory.Create(options), options, cacheFolder, time);
            storage = $"S3 bucket {options.Bucket} (keys {DatabaseKey.For(options.Prefix, "NAME")}) at {endpoint}";
        }
        else
        {
            var folder = new LocalFolderDatabaseStore(dataDirectory, cacheFolder, options.CacheMaxBytes, time);
            store = folder;
            storage = $"folder {folder.DataDirectory} ({folder.PathOf("NAME")})";
        }

        IDatabaseLock databaseLock = options.LockVpcId is null
            ? new LocalDatabaseLock(options.LockWait, time)
            : CreateSecurityGroupLock(options, time, log);
        return new LocalMode(
            CreateApiHandler(options, store, new WorkingCopies(cacheFolder), databaseLock, time, log),
            storage,
            LockDescription(options, withoutVpc: "local (writers in this process take turns)"));
    }

    /// <summary>The engine and the API over a store, working copies and a lock the host chose.</summary>
    public static IApiHandler CreateApiHandler(
        ServerlessDbOptions options, IDatabaseStore store, WorkingCopies workingCopies, IDatabaseLock databaseLock, TimeProvider time, ILogSink log)
    {
        var engine = new QueryEngine(store, databaseLock, workingCopies, EngineOptions.From(options), time, log);
        return new ServerlessDbApi(engine, ApiOptions.From(options), time, log);
    }

    private static string LockDescription(ServerlessDbOptions options, string withoutVpc) =>
        options.LockVpcId is null ? withoutVpc : $"security group in {options.LockVpcId}";

    private static SecurityGroupDatabaseLock CreateSecurityGroupLock(ServerlessDbOptions options, TimeProvider time, ILogSink log) =>
        new(Ec2ClientFactory.Create(options), options, time, log);
}
