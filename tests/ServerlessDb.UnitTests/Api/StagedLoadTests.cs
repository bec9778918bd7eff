using ServerlessDb.Api;
using ServerlessDb.Errors;
using ServerlessDb.Storage;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Api;

/// <summary>
/// <c>POST /db/load/upload</c> and <c>staged=ID</c> over a store with a staging area (the folder store plus a
/// folder of staged files): what is deleted when, and that tidying up never undoes a committed load.
/// </summary>
public sealed class StagedLoadTests : IDisposable
{
    private const string Id = "0123456789abcdef0123456789abcdef";

    private readonly StagingStore _store = new();
    private readonly ApiHarness _api;

    public StagedLoadTests() => _api = new ApiHarness(store: _store);

    public void Dispose()
    {
        _api.Dispose();
        _store.Dispose();
    }

    private Task<ApiResponse> LoadStagedAsync(string id = Id) => _api.SendAsync("POST", "/db/load", query: $"db=shop&staged={id}", contentType: "");

    private static byte[] Database(params string[] sql)
    {
        using var file = new TempDatabase(sql);
        return File.ReadAllBytes(file.FilePath);
    }

    [Fact]
    public async Task An_upload_slot_names_the_load_that_takes_it()
    {
        var response = await _api.SendAsync("POST", "/db/load/upload", query: "db=shop");

        Assert.Equal(200, response.StatusCode);
        Assert.Contains("\"method\":\"PUT\"", response.Body, StringComparison.Ordinal);
        Assert.Contains($"\"url\":\"https://staging.example/shop/{_store.LastId}\"", response.Body, StringComparison.Ordinal);
        Assert.Contains($"\"load\":\"/db/load?db=shop&staged={_store.LastId}\"", response.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_staged_file_is_committed_and_then_deleted()
    {
        var file = Database("CREATE TABLE t(x)", "INSERT INTO t VALUES ('staged')");
        _store.Stage(Id, file);

        var response = await LoadStagedAsync();

        Assert.True(response.StatusCode == 200, response.Body);
        Assert.Equal(file, File.ReadAllBytes(_store.Observed.CurrentPath("shop")!));
        Assert.Equal([Id], _store.Deleted);
    }

    [Fact]
    public async Task A_staged_file_that_fails_its_checks_changes_nothing_and_stays_staged()
    {
        _store.Stage(Id, DatabaseBytes.Valid(pages: 2)[..700]);

        var response = await LoadStagedAsync();

        Assert.Equal(400, response.StatusCode);
        Assert.Contains("not a whole number of", response.Body, StringComparison.Ordinal);
        Assert.Null(_store.Observed.CurrentPath("shop"));
        Assert.Empty(_store.Deleted);
    }

    [Fact]
    public async Task A_staged_dump_is_refused()
    {
        _store.Stage(Id, "CREATE TABLE t(x);"u8.ToArray());

        var response = await LoadStagedAsync();

        Assert.Equal(400, response.StatusCode);
        Assert.Contains("a staged upload must be a SQLite file", response.Body, StringComparison.Ordinal);
        Assert.Null(_store.Observed.CurrentPath("shop"));
    }

    [Fact]
    public async Task Nothing_staged_under_the_id_is_a_400()
    {
        var response = await LoadStagedAsync("ffffffffffffffffffffffffffffffff");

        Assert.Equal(400, response.StatusCode);
        Assert.Contains("no staged upload 'ffffffffffffffffffffffffffffffff' for database 'shop'", response.Body, StringComparison.Ordinal);
        Assert.Null(_store.Observed.CurrentPath("shop"));
    }

    [Fact]
    public async Task A_delete_that_fails_after_the_commit_is_logged_and_the_load_still_answers_200()
    {
        var file = Database("CREATE TABLE t(x)");
        _store.Stage(Id, file);
        _store.FailDeletes = true;

        var response = await LoadStagedAsync();

        Assert.True(response.StatusCode == 200, response.Body);
        Assert.Equal(file, File.ReadAllBytes(_store.Observed.CurrentPath("shop")!));
        Assert.Contains(_api.Log.Lines, line => line.Contains("staged upload not deleted after its load", StringComparison.Ordinal));
    }

    /// <summary>The real folder store with a staging area of files beside it.</summary>
    private sealed class StagingStore : IDatabaseStore, IDatabaseStaging, IDisposable
    {
        private readonly string _staging = Directory.CreateTempSubdirectory("serverlessdb-staging-").FullName;

        public ObservedStore Observed { get; } = new();

        public List<string> Deleted { get; } = [];

        public bool FailDeletes { get; set; }

        public string? LastId { get; private set; }

        public void Stage(string id, byte[] content) => File.WriteAllBytes(Path.Combine(_staging, id), content);

        public Task<DatabaseSnapshot> GetAsync(string database, TimeSpan? maxStaleness, CancellationToken cancellationToken) =>
            Observed.GetAsync(database, maxStaleness, cancellationToken);

        public Task<CommitReceipt> CommitAsync(string database, DatabaseETag basedOn, string filePath, CancellationToken cancellationToken) =>
            Observed.CommitAsync(database, basedOn, filePath, cancellationToken);

        public Task<DatabaseETag> CurrentETagAsync(string database, CancellationToken cancellationToken) =>
            Observed.CurrentETagAsync(database, cancellationToken);

        public Task<StagedUpload> CreateUploadAsync(string database, TimeSpan expiry, CancellationToken cancellationToken)
        {
            LastId = Guid.NewGuid().ToString("N");
            return Task.FromResult(new StagedUpload(LastId, new Uri($"https://staging.example/{database}/{LastId}"), DateTimeOffset.UtcNow + expiry));
        }

        public Task<StagedObject?> DownloadAsync(string database, string id, string targetPath, CancellationToken cancellationToken)
        {
            var source = Path.Combine(_staging, id);
            if (!File.Exists(source))
            {
                return Task.FromResult<StagedObject?>(null);
            }

            File.Copy(source, targetPath);
            return Task.FromResult<StagedObject?>(new StagedObject(id, new FileInfo(targetPath).Length, VersionId: null));
        }

        public Task DeleteAsync(string database, StagedObject staged, CancellationToken cancellationToken)
        {
            if (FailDeletes)
            {
                throw new StorageUnavailableException("S3 did not answer DeleteObject (test)");
            }

            Deleted.Add(staged.Id);
            File.Delete(Path.Combine(_staging, staged.Id));
            return Task.CompletedTask;
        }

        public void Dispose()
        {
            Observed.Dispose();
            Directory.Delete(_staging, recursive: true);
        }
    }
}
