using ServerlessDb.Configuration;
using ServerlessDb.Errors;
using ServerlessDb.Storage;
using ServerlessDb.Storage.LocalFolder;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>
/// What only the store over a local folder shows (everything it shares with every backend is in
/// <see cref="DatabaseStoreContract"/>): files a person put in the folder, a folder the old local store wrote, the
/// databases at the folder's top, and a data folder that cannot be written.
/// </summary>
public sealed class LocalFolderStoreTests : IDisposable
{
    private const string Db = "inventory";

    private readonly string _root = Directory.CreateTempSubdirectory("serverlessdb-local-store-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string DataFolder => Path.Combine(_root, "data");

    private string DataFile => Path.Combine(DataFolder, Db + ".sqlite");

    /// <summary>The store as the local server composes it: the databases at the folder's top, its own cache folder.</summary>
    private DatabaseStore NewStore(string process = "a") => new(
        new LocalFolderObjectBackend(DataFolder),
        links: null,
        new StoreOptions("", TimeSpan.FromSeconds(5), ServerlessDbOptions.DefaultCacheMaxBytes),
        CacheFolder.Claim(Path.Combine(_root, "cache-" + process)));

    private string WorkingFile(params byte[] marker)
    {
        var path = Path.Combine(_root, Guid.NewGuid().ToString("N") + ".sqlite");
        File.WriteAllBytes(path, DatabaseBytes.Marked(marker));
        return path;
    }

    private static async Task<(DatabaseETag Version, string Content)> ReadAsync(DatabaseStore store)
    {
        using var snapshot = await store.GetAsync(Db, maxStaleness: null, CancellationToken.None);
        return (snapshot.ETag, Convert.ToHexString(File.ReadAllBytes(snapshot.FilePath)));
    }

    [Fact]
    public async Task A_commit_writes_the_database_as_a_plain_sqlite_file_at_the_folders_top()
    {
        var version = (await NewStore().CommitAsync(Db, DatabaseETag.Missing, WorkingFile(1, 2, 3), CancellationToken.None)).ETag;

        Assert.Equal(DatabaseBytes.Marked(1, 2, 3), File.ReadAllBytes(DataFile));
        Assert.Equal((version, Convert.ToHexString(DatabaseBytes.Marked(1, 2, 3))), await ReadAsync(NewStore("b")));
        Assert.Equal([Db + ".sqlite"], Directory.EnumerateFiles(DataFolder).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Reads_of_a_database_that_does_not_exist_create_no_file_for_it()
    {
        var store = NewStore();

        await ReadAsync(store);
        await store.ListVersionsAsync(Db, limit: 10, next: null, CancellationToken.None);
        await Assert.ThrowsAsync<VersionNotFoundException>(() => store.GetVersionAsync(Db, "1-abc", CancellationToken.None));

        Assert.Empty(Directory.EnumerateFiles(DataFolder, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_database_file_put_in_the_folder_by_hand_is_read_and_can_be_replaced_keeping_it_as_a_version()
    {
        Directory.CreateDirectory(DataFolder);
        File.WriteAllBytes(DataFile, DatabaseBytes.Marked(7, 7, 7));
        var store = NewStore();

        var (handPlaced, content) = await ReadAsync(store);
        var next = (await store.CommitAsync(Db, handPlaced, WorkingFile(8), CancellationToken.None)).ETag;
        var versions = (await store.ListVersionsAsync(Db, limit: 10, next: null, CancellationToken.None)).Versions;

        Assert.True(handPlaced.Exists);
        Assert.Equal(Convert.ToHexString(DatabaseBytes.Marked(7, 7, 7)), content);
        Assert.Equal((next, Convert.ToHexString(DatabaseBytes.Marked(8))), await ReadAsync(NewStore("b")));
        using var old = await store.GetVersionAsync(Db, versions[1].Id, CancellationToken.None);
        Assert.Equal(DatabaseBytes.Marked(7, 7, 7), File.ReadAllBytes(old.FilePath));
    }

    [Fact]
    public async Task A_folder_the_old_local_store_wrote_reads_with_its_tag_and_takes_the_next_commit()
    {
        Directory.CreateDirectory(DataFolder);
        File.WriteAllBytes(DataFile, DatabaseBytes.Marked(5));
        File.WriteAllText(DataFile + ".version", "3-0123456789abcdef0123456789abcdef");
        var store = NewStore();

        var (old, content) = await ReadAsync(store);
        var next = (await store.CommitAsync(Db, old, WorkingFile(6), CancellationToken.None)).ETag;

        Assert.Equal(new DatabaseETag("3-0123456789abcdef0123456789abcdef"), old);
        Assert.Equal(Convert.ToHexString(DatabaseBytes.Marked(5)), content);
        Assert.Equal((next, Convert.ToHexString(DatabaseBytes.Marked(6))), await ReadAsync(NewStore("b")));
        await Assert.ThrowsAsync<WriteConflictException>(() => NewStore("c").CommitAsync(Db, old, WorkingFile(7), CancellationToken.None));
    }

    [Fact]
    public async Task A_truncated_database_file_is_refused_naming_its_path_and_is_left_as_it_is()
    {
        Directory.CreateDirectory(DataFolder);
        var truncated = DatabaseBytes.Valid(pages: 3)[..1024];
        File.WriteAllBytes(DataFile, truncated);
        var store = NewStore();

        var error = await Assert.ThrowsAsync<DatabaseCorruptException>(() => ReadAsync(store));

        Assert.StartsWith($"Database '{Db}' ({DataFile}, version 0-", error.Message);
        Assert.Contains("it is truncated: 1024 bytes (2 pages) where its header says 3 pages of 512 bytes", error.Message);
        Assert.Equal(truncated, File.ReadAllBytes(DataFile));
        Assert.Empty(Directory.EnumerateFiles(store.CacheFolder.CacheDirectory, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_data_folder_that_cannot_be_created_fails_at_construction_naming_the_folder()
    {
        var blocker = Path.Combine(_root, "not-a-folder");
        File.WriteAllText(blocker, "a file where the folder should be");
        var folder = Path.Combine(blocker, "data");

        var error = Assert.Throws<IOException>(() => new LocalFolderObjectBackend(folder));

        Assert.StartsWith($"The data folder {folder} is not writable", error.Message);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("")]
    public async Task A_name_that_is_not_a_database_name_is_refused_and_writes_nothing(string name)
    {
        var store = NewStore();

        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync(name, null, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.CommitAsync(name, DatabaseETag.Missing, WorkingFile(1), CancellationToken.None));
        Assert.Empty(Directory.EnumerateFiles(DataFolder, "*", SearchOption.AllDirectories));
        Assert.False(Directory.Exists(Path.Combine(_root, "escape")));
    }
}
