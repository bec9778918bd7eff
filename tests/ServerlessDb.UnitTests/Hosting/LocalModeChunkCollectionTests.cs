using ServerlessDb.Configuration;
using ServerlessDb.Hosting;
using ServerlessDb.Storage;
using ServerlessDb.Storage.LocalFolder;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Hosting;

/// <summary>
/// The local server collects unreferenced chunks of its folder with the LockReaper's own collector and the one grace
/// setting, CHUNK_GC_GRACE_SECONDS; over S3 it leaves that to the LockReaper.
/// </summary>
public sealed class LocalModeChunkCollectionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("serverlessdb-local-mode-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Data => Path.Combine(_root, "data");

    private LocalMode Compose(RecordingLogSink log, string graceSeconds) => CompositionRoot.CreateLocalMode(
        new DictionaryEnvironment(new Dictionary<string, string?>
        {
            ["CACHE_DIR"] = Path.Combine(_root, "cache"),
            ["STORAGE_LAYOUT"] = "chunked",
            ["CHUNK_GC_GRACE_SECONDS"] = graceSeconds,
        }),
        Data,
        TimeProvider.System,
        log);

    private async Task<string> StoreChunkAsync(LocalFolderObjectBackend folder, string database, char hex)
    {
        var key = new ObjectKeys("").Chunk(database, new string(hex, 64));
        await folder.PutAsync(key, ObjectBody.Of(new byte[64]), PutCondition.Always, new ObjectMetadata("application/octet-stream"), CancellationToken.None);
        return key;
    }

    [Fact]
    public async Task A_pass_deletes_a_chunk_no_version_names_once_past_the_grace_and_logs_what_it_did()
    {
        var log = new RecordingLogSink();
        var mode = Compose(log, graceSeconds: "1");
        var folder = new LocalFolderObjectBackend(Data);
        var stray = await StoreChunkAsync(folder, "orders", 'a');

        await Task.Delay(TimeSpan.FromMilliseconds(1100));
        await mode.CollectChunksAsync(CancellationToken.None);

        Assert.True(mode.CollectsChunks);
        Assert.Null(await folder.HeadAsync(stray, ObjectSelector.Current, CancellationToken.None));
        Assert.Contains(log.Lines, line => line.Contains("\"chunk collector pass\"", StringComparison.Ordinal) && line.Contains("\"graceSeconds\":1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_chunk_younger_than_the_grace_is_kept()
    {
        var mode = Compose(new RecordingLogSink(), graceSeconds: "3600");
        var folder = new LocalFolderObjectBackend(Data);
        var young = await StoreChunkAsync(folder, "orders", 'b');

        await mode.CollectChunksAsync(CancellationToken.None);

        Assert.NotNull(await folder.HeadAsync(young, ObjectSelector.Current, CancellationToken.None));
    }
}
