using System.Collections.Concurrent;
using ServerlessDb.Api;
using ServerlessDb.Configuration;
using ServerlessDb.Engine;
using ServerlessDb.Hosting;
using ServerlessDb.Locking;
using ServerlessDb.Locking.Ec2;
using ServerlessDb.Logging;
using ServerlessDb.Storage;
using ServerlessDb.Storage.S3;

namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>
/// Composes a QueryRunner handler from the same pieces as <c>CompositionRoot</c> (real S3 store,
/// real security-group lock, real engine), with seams a test can hold: a gate before every commit,
/// a record of the writer's EC2 lock calls on a shared timeline, and the writer's log lines.
/// </summary>
internal sealed class WriterSeams(string name, ConcurrentQueue<string> timeline) : IDatabaseStore, IEc2Client, ILogSink
{
    private readonly ConcurrentQueue<string> _logLines = new();
    private readonly TaskCompletionSource _duplicateSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _commitReached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _commitGate = Opened();
    private IDatabaseStore _store = null!;
    private IEc2Client _ec2 = null!;

    /// <summary>
    /// Completes when a write of this writer reaches its commit (since the gate was last closed):
    /// it holds the lock and has read the version its commit is conditional on.
    /// </summary>
    public Task CommitReached => _commitReached.Task;

    /// <summary>Completes when this writer's CreateSecurityGroup was refused because another writer holds the lock.</summary>
    public Task DuplicateSeen => _duplicateSeen.Task;

    public IReadOnlyList<string> LogLines => _logLines.ToArray();

    /// <summary>Makes the next commits wait until <see cref="OpenCommitGate"/>, and re-arms <see cref="CommitReached"/>.</summary>
    public void CloseCommitGate()
    {
        _commitReached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _commitGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void OpenCommitGate() => _commitGate.TrySetResult();

    /// <summary>Pass to <see cref="QueryRunnerInstance"/>: builds this writer's handler from the environment.</summary>
    public IApiHandler CreateHandler(IEnvironment environment)
    {
        var options = ServerlessDbOptions.FromEnvironment(environment);
        var time = TimeProvider.System;
        // One folder for the store's cache and the working copies, as CompositionRoot composes a container.
        var cacheFolder = CacheFolder.Claim(options.CacheDirectory);
        _store = CompositionRoot.CreateS3Store(options, cacheFolder, time);
        _ec2 = CompositionRoot.CreateEc2Client(options);

        // With LOCK_BACKEND=s3 the real lease lock, whose S3 calls the timeline does not record.
        IDatabaseLock databaseLock = options.LockBackend == LockBackend.S3
            ? CompositionRoot.CreateS3LeaseLock(S3ClientFactory.Create(CompositionRoot.S3ClientOptionsFrom(options)), options, time, this)
            : CompositionRoot.CreateSecurityGroupLock(this, options, time, this);
        return CompositionRoot.CreateApiHandler(options, this, StoreCapabilities.None, new WorkingCopies(cacheFolder), databaseLock, time, this);
    }

    public Task<DatabaseSnapshot> GetAsync(string database, TimeSpan? maxStaleness, CancellationToken cancellationToken) =>
        _store.GetAsync(database, maxStaleness, cancellationToken);

    public Task<DatabaseETag> CurrentETagAsync(string database, CancellationToken cancellationToken) =>
        _store.CurrentETagAsync(database, cancellationToken);

    public async Task<CommitReceipt> CommitAsync(string database, DatabaseETag basedOn, string filePath, CancellationToken cancellationToken)
    {
        _commitReached.TrySetResult();
        await _commitGate.Task.WaitAsync(cancellationToken);
        timeline.Enqueue($"{name} commit");
        return await _store.CommitAsync(database, basedOn, filePath, cancellationToken);
    }

    public Task CopyForWriteAsync(string database, DatabaseSnapshot snapshot, string targetPath, CancellationToken cancellationToken) =>
        _store.CopyForWriteAsync(database, snapshot, targetPath, cancellationToken);

    public async Task<string> CreateSecurityGroupAsync(
        string groupName, string vpcId, string description, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        try
        {
            var groupId = await _ec2.CreateSecurityGroupAsync(groupName, vpcId, description, tags, cancellationToken);
            timeline.Enqueue($"{name} locked");
            return groupId;
        }
        catch (Ec2Exception e) when (e.Kind == Ec2ErrorKind.GroupDuplicate)
        {
            _duplicateSeen.TrySetResult();
            throw;
        }
    }

    public async Task DeleteSecurityGroupAsync(string groupId, CancellationToken cancellationToken)
    {
        await _ec2.DeleteSecurityGroupAsync(groupId, cancellationToken);
        timeline.Enqueue($"{name} unlocked");
    }

    public Task<IReadOnlyList<SecurityGroupInfo>> DescribeSecurityGroupsAsync(IReadOnlyList<Ec2Filter> filters, CancellationToken cancellationToken) =>
        _ec2.DescribeSecurityGroupsAsync(filters, cancellationToken);

    public void Write(string jsonLine) => _logLines.Enqueue(jsonLine);

    private static TaskCompletionSource Opened()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }
}
