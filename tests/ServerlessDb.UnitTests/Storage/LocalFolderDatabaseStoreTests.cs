using ServerlessDb.Errors;
using ServerlessDb.Storage;
using ServerlessDb.Storage.LocalFolder;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

public sealed class LocalFolderDatabaseStoreTests : IDisposable
{
    private const string Db = "inventory";
    private const long CacheMaxBytes = 256L * 1024 * 1024;

    private readonly string _root = Directory.CreateTempSubdirectory("serverlessdb-local-store-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string DataFolder => Path.Combine(_root, "data");

    private string DataFile => Path.Combine(DataFolder, Db + ".sqlite");

    /// <summary>A store as one process would have it: the shared data folder, its own cache folder.</summary>
    private LocalFolderDatabaseStore NewStore(string process = "a", TimeSpan? lockFileWait = null) =>
        new(DataFolder, Path.Combine(_root, "cache-" + process), CacheMaxBytes, TimeProvider.System, lockFileWait);

    /// <summary>A working copy holding a small database told apart by <paramref name="marker"/>.</summary>
    private string WorkingFile(params byte[] marker)
    {
        var path = Path.Combine(_root, Guid.NewGuid().ToString("N") + ".sqlite");
        File.WriteAllBytes(path, DatabaseBytes.Marked(marker));
        return path;
    }

    /// <summary>The current version and its bytes (as hex, so that tuples compare by value).</summary>
    private static async Task<(StoredVersion Version, string Content)> ReadAsync(LocalFolderDatabaseStore store)
    {
        using var snapshot = await store.GetAsync(Db, maxStaleness: null, CancellationToken.None);
        return (snapshot.Version, Convert.ToHexString(File.ReadAllBytes(snapshot.FilePath)));
    }

    private static (StoredVersion, string) Expected(StoredVersion version, params byte[] marker) => (version, Convert.ToHexString(DatabaseBytes.Marked(marker)));

    [Fact]
    public async Task A_database_that_does_not_exist_reads_as_an_empty_file_with_a_missing_version()
    {
        var store = NewStore();

        var (version, content) = await ReadAsync(store);

        Assert.False(version.Exists);
        Assert.Equal("", content);
        Assert.False(File.Exists(DataFile));
    }

    [Fact]
    public async Task Reads_of_a_database_that_does_not_exist_leave_nothing_in_the_data_folder_not_even_a_lock_file()
    {
        var store = NewStore();

        await ReadAsync(store);
        await ReadAsync(store);
        var versions = await store.ListVersionsAsync(Db, limit: 10, next: null, CancellationToken.None);
        var asOf = await store.FindAsOfAsync(Db, DateTimeOffset.UtcNow, CancellationToken.None);
        await Assert.ThrowsAsync<VersionNotFoundException>(() => store.GetVersionAsync(Db, "1-abc", CancellationToken.None));

        Assert.Empty(versions.Versions);
        Assert.Null(asOf);
        Assert.Empty(Directory.EnumerateFileSystemEntries(DataFolder));
    }

    [Fact]
    public async Task A_commit_on_a_missing_database_creates_its_file_and_a_version_that_reads_back()
    {
        var store = NewStore();

        var version = (await store.CommitAsync(Db, StoredVersion.Missing, WorkingFile(1, 2, 3), CancellationToken.None)).Version;

        Assert.True(version.Exists);
        Assert.StartsWith("1-", version.ETag);
        Assert.Equal(DatabaseBytes.Marked(1, 2, 3), File.ReadAllBytes(DataFile));
        Assert.Equal(version.ETag, File.ReadAllText(DataFile + ".version"));
        Assert.Equal(Expected(version, 1, 2, 3), await ReadAsync(store));
        Assert.Equal(DataFile, store.PathOf(Db));
    }

    [Fact]
    public async Task Conditional_create_fails_when_the_database_exists_and_leaves_it_untouched()
    {
        var store = NewStore();
        var first = (await store.CommitAsync(Db, StoredVersion.Missing, WorkingFile(1), CancellationToken.None)).Version;

        var conflict = await Assert.ThrowsAsync<WriteConflictException>(
            () => store.CommitAsync(Db, StoredVersion.Missing, WorkingFile(2), CancellationToken.None));

        Assert.Contains(first.ETag!, conflict.Message);
        Assert.Equal(DatabaseBytes.Marked(1), File.ReadAllBytes(DataFile));
        Assert.Equal(first.ETag, File.ReadAllText(DataFile + ".version"));
        Assert.DoesNotContain(Directory.EnumerateFiles(DataFolder), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Conditional_replace_succeeds_on_the_version_read_and_fails_on_an_older_one()
    {
        var store = NewStore();
        var v1 = (await store.CommitAsync(Db, StoredVersion.Missing, WorkingFile(1), CancellationToken.None)).Version;
        var v2 = (await store.CommitAsync(Db, v1, WorkingFile(2), CancellationToken.None)).Version;

        await Assert.ThrowsAsync<WriteConflictException>(() => store.CommitAsync(Db, v1, WorkingFile(3), CancellationToken.None));

        Assert.NotEqual(v1, v2);
        Assert.StartsWith("2-", v2.ETag);
        Assert.Equal(Expected(v2, 2), await ReadAsync(store));
    }

    [Fact]
    public async Task A_held_snapshot_keeps_its_file_and_bytes_across_commits_and_is_removed_once_released()
    {
        var store = NewStore();
        var v1 = (await store.CommitAsync(Db, StoredVersion.Missing, WorkingFile(1, 1), CancellationToken.None)).Version;
        var held = await store.GetAsync(Db, null, CancellationToken.None);

        var v2 = (await store.CommitAsync(Db, v1, WorkingFile(2, 2), CancellationToken.None)).Version;
        using (var current = await store.GetAsync(Db, null, CancellationToken.None))
        {
            Assert.Equal(v2, current.Version);
            Assert.NotEqual(held.FilePath, current.FilePath);
            Assert.Equal(DatabaseBytes.Marked(2, 2), File.ReadAllBytes(current.FilePath));
        }

        Assert.Equal(v1, held.Version);
        Assert.Equal(DatabaseBytes.Marked(1, 1), File.ReadAllBytes(held.FilePath));

        held.Dispose();
        Assert.False(File.Exists(held.FilePath));
        using var after = await store.GetAsync(Db, null, CancellationToken.None);
        Assert.True(File.Exists(after.FilePath));
    }

    [Fact]
    public async Task Two_stores_on_one_folder_see_each_others_commits_and_conflict_like_two_processes()
    {
        var a = NewStore("a");
        var b = NewStore("b");
        var v1 = (await a.CommitAsync(Db, StoredVersion.Missing, WorkingFile(1), CancellationToken.None)).Version;
        Assert.Equal(Expected(v1, 1), await ReadAsync(b));

        var v2 = (await a.CommitAsync(Db, v1, WorkingFile(2), CancellationToken.None)).Version;
        await Assert.ThrowsAsync<WriteConflictException>(() => b.CommitAsync(Db, v1, WorkingFile(3), CancellationToken.None));
        Assert.Equal(Expected(v2, 2), await ReadAsync(b));

        var v3 = (await b.CommitAsync(Db, v2, WorkingFile(3), CancellationToken.None)).Version;
        Assert.Equal(Expected(v3, 3), await ReadAsync(a));
    }

    [Fact]
    public async Task Concurrent_commits_from_two_stores_on_the_same_version_let_exactly_one_win()
    {
        var a = NewStore("a");
        var b = NewStore("b");
        var version = (await a.CommitAsync(Db, StoredVersion.Missing, WorkingFile(0), CancellationToken.None)).Version;
        for (byte round = 1; round <= 10; round++)
        {
            var fromA = a.CommitAsync(Db, version, WorkingFile(round, 0xA), CancellationToken.None);
            var fromB = b.CommitAsync(Db, version, WorkingFile(round, 0xB), CancellationToken.None);
            var outcomes = await Task.WhenAll(Outcome(fromA), Outcome(fromB));

            var winners = outcomes.Where(o => o.Version is not null).ToList();
            Assert.Single(winners);
            Assert.Single(outcomes, o => o.Error is WriteConflictException);
            version = winners[0].Version!.Value;
            Assert.Equal(version.ETag, File.ReadAllText(DataFile + ".version"));
            Assert.Contains(
                Convert.ToHexString(File.ReadAllBytes(DataFile)),
                new[] { Convert.ToHexString(DatabaseBytes.Marked(round, 0xA)), Convert.ToHexString(DatabaseBytes.Marked(round, 0xB)) });
        }

        static async Task<(StoredVersion? Version, Exception? Error)> Outcome(Task<CommitReceipt> commit)
        {
            try
            {
                return ((await commit).Version, null);
            }
            catch (WriteConflictException e)
            {
                return (null, e);
            }
        }
    }

    [Fact]
    public async Task A_commit_waits_while_another_process_holds_the_lock_file_and_gives_up_at_the_deadline()
    {
        var store = NewStore(lockFileWait: TimeSpan.FromMilliseconds(300));
        var v1 = (await store.CommitAsync(Db, StoredVersion.Missing, WorkingFile(1), CancellationToken.None)).Version;

        using (new FileStream(DataFile + ".lock", FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            var error = await Assert.ThrowsAsync<StorageUnavailableException>(
                () => store.CommitAsync(Db, v1, WorkingFile(2), CancellationToken.None));
            Assert.Contains(DataFile + ".lock", error.Message);
        }

        Assert.Equal(DatabaseBytes.Marked(1), File.ReadAllBytes(DataFile));
        var v2 = (await store.CommitAsync(Db, v1, WorkingFile(2), CancellationToken.None)).Version;
        Assert.Equal(Expected(v2, 2), await ReadAsync(store));
    }

    [Fact]
    public async Task A_database_file_put_in_the_folder_by_hand_is_read_and_can_be_replaced()
    {
        Directory.CreateDirectory(DataFolder);
        File.WriteAllBytes(DataFile, DatabaseBytes.Marked(7, 7, 7));
        var store = NewStore();

        var (handPlaced, content) = await ReadAsync(store);
        Assert.True(handPlaced.Exists);
        Assert.Equal(Convert.ToHexString(DatabaseBytes.Marked(7, 7, 7)), content);

        var next = (await store.CommitAsync(Db, handPlaced, WorkingFile(8), CancellationToken.None)).Version;
        Assert.StartsWith("1-", next.ETag);
        Assert.Equal(Expected(next, 8), await ReadAsync(store));
    }

    [Fact]
    public async Task A_truncated_database_file_is_refused_naming_its_path_and_is_left_as_it_is()
    {
        Directory.CreateDirectory(DataFolder);
        var truncated = DatabaseBytes.Valid(pages: 3)[..1024];
        File.WriteAllBytes(DataFile, truncated);
        var store = NewStore();

        var error = await Assert.ThrowsAsync<DatabaseCorruptException>(() => ReadAsync(store));
        var again = await Assert.ThrowsAsync<DatabaseCorruptException>(() => ReadAsync(store));

        Assert.StartsWith($"Database '{Db}' ({DataFile}, version 0-", error.Message);
        Assert.EndsWith(
            "is not a valid SQLite database: it is truncated: 1024 bytes (2 pages) where its header says 3 pages of 512 bytes. "
            + "Nothing was changed; restore a good version of the object.",
            error.Message);
        Assert.Equal(error.Message, again.Message);
        Assert.Equal(truncated, File.ReadAllBytes(DataFile));
        Assert.Empty(Directory.EnumerateFiles(store.CacheFolder.CacheDirectory, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_data_folder_that_cannot_be_created_fails_at_construction_naming_the_folder()
    {
        var blocker = Path.Combine(_root, "not-a-folder");
        File.WriteAllText(blocker, "a file where the folder should be");
        var folder = Path.Combine(blocker, "data");

        var error = Assert.Throws<IOException>(() => new LocalFolderDatabaseStore(folder, Path.Combine(_root, "cache"), CacheMaxBytes));

        Assert.StartsWith($"The data folder {folder} is not writable", error.Message);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("")]
    public async Task A_name_that_is_not_a_database_name_is_refused(string name)
    {
        var store = NewStore();

        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync(name, null, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.CommitAsync(name, StoredVersion.Missing, WorkingFile(1), CancellationToken.None));
        Assert.Empty(Directory.EnumerateFileSystemEntries(DataFolder));
    }
}
