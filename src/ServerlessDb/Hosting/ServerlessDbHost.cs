using ServerlessDb.Api;
using ServerlessDb.Configuration;
using ServerlessDb.Engine;
using ServerlessDb.Locking;
using ServerlessDb.Locking.Ec2;
using ServerlessDb.Logging;
using ServerlessDb.Storage;

namespace ServerlessDb.Hosting;

/// <summary>
/// The composition root: builds the API handler and its clients from the environment, once per
/// process (a Lambda container, the local server, a test). Invalid configuration throws
/// <see cref="OptionsException"/> listing every problem, so a misconfigured function fails at its
/// first invocation with a message that says what to fix.
/// </summary>
public static class ServerlessDbHost
{
    public static IApiHandler CreateApiHandler(IEnvironment environment) =>
        CreateApiHandler(environment, TimeProvider.System, ConsoleLogSink.Instance);

    public static IApiHandler CreateApiHandler(IEnvironment environment, TimeProvider time, ILogSink log)
    {
        var options = ServerlessDbOptions.FromEnvironment(environment);
        var store = new S3DatabaseStore(S3ClientFactory.Create(options), options, time);
        var databaseLock = CreateLock(options, time, log);
        var engine = new QueryEngine(store, databaseLock, new WorkingCopies(options.CacheDirectory), EngineOptions.From(options), time, log);
        using (var line = new LogLine(time, "info", "started"))
        {
            line.Add("bucket", options.Bucket)
                .Add("prefix", options.Prefix)
                .Add("lock", databaseLock is NoOpDatabaseLock ? "none (conditional commits only)" : $"security group in {options.LockVpcId}")
                .Add("cacheDirectory", options.CacheDirectory)
                .WriteTo(log);
        }

        return new ServerlessDbApi(engine, ApiOptions.From(options), time, log);
    }

    private static IDatabaseLock CreateLock(ServerlessDbOptions options, TimeProvider time, ILogSink log)
    {
        if (options.LockVpcId is null)
        {
            return new NoOpDatabaseLock(time);
        }

        return new SecurityGroupDatabaseLock(Ec2ClientFactory.Create(options), options, time, message =>
        {
            using var line = new LogLine(time, "warn", message);
            line.WriteTo(log);
        });
    }
}
