using Microsoft.Extensions.Time.Testing;
using ServerlessDb.Errors;
using ServerlessDb.Storage;
using ServerlessDb.Storage.LocalFolder;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>The local folder store's time travel: replaced files kept under <c>.versions</c>, listed, read by id and as of a time, and pruned.</summary>
public sealed class LocalFolderHistoryTests : IDisposable
{
    private const string Db = "inventory";
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    private readonly string _root = Directory.CreateTempSubdirectory("serverlessdb-local-history-").FullName;
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private LocalFolderDatabaseStore NewStore(int versionsKept = LocalVersionRetention.DefaultVersionsKept) =>
        new(Path.Combine(_root, "data"), Path.Combine(_root, "cache"), 256L * 1024 * 1024, _time, retention: new LocalVersionRetention(versionsKept));

    /// <summary>Commits databases marked 1, 2, ... <paramref name="count"/>, a minute apart; returns their versions, oldest first.</summary>
    private async Task<List<StoredVersion>> CommitAsync(LocalFolderDatabaseStore store, int count)
    {
        var versions = new List<StoredVersion>();
        var current = StoredVersion.Missing;
        for (byte marker = 1; marker <= count; marker++)
        {
            var file = Path.Combine(_root, Guid.NewGuid().ToString("N"));
            File.WriteAllBytes(file, DatabaseBytes.Valid(pages: marker, marker: marker));
            current = (await store.CommitAsync(Db, current, file, default)).Version;
            versions.Add(current);
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        return versions;
    }

    private static async Task<byte[]> ContentAsync(LocalFolderDatabaseStore store, string id)
    {
        using var snapshot = await store.GetVersionAsync(Db, id, default);
        Assert.Equal(id, snapshot.VersionId);
        return File.ReadAllBytes(snapshot.FilePath);
    }

    [Fact]
    public async Task Every_commit_keeps_the_file_it_replaced_and_the_list_is_newest_first()
    {
        var store = NewStore();
        var versions = await CommitAsync(store, 3);

        var page = await store.ListVersionsAsync(Db, 10, null, default);

        Assert.Null(page.Next);
        Assert.Equal(versions.Select(v => v.ETag).Reverse(), page.Versions.Select(v => v.Id));
        Assert.Equal([true, false, false], page.Versions.Select(v => v.IsCurrent));
        Assert.Equal([Start.AddMinutes(2), Start.AddMinutes(1), Start], page.Versions.Select(v => v.Time));
        Assert.Equal([3 * 512L, 2 * 512L, 512L], page.Versions.Select(v => v.Size));
        Assert.Equal(2, Directory.GetFiles(store.VersionsFolderOf(Db)).Length);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(DatabaseBytes.Valid(pages: i + 1, marker: (uint)(i + 1)), await ContentAsync(store, versions[i].ETag!));
        }

        // The current file is untouched by keeping the old ones.
        Assert.Equal(DatabaseBytes.Valid(pages: 3, marker: 3), File.ReadAllBytes(store.PathOf(Db)));
    }

    [Fact]
    public async Task A_large_retention_is_checked_every_tenth_of_its_commits_and_never_exceeded_by_more()
    {
        var store = NewStore(versionsKept: 20);
        var counts = new List<int>();
        var current = StoredVersion.Missing;
        for (var i = 1; i <= 40; i++)
        {
            var file = Path.Combine(_root, Guid.NewGuid().ToString("N"));
            File.WriteAllBytes(file, DatabaseBytes.Valid(pages: 1, marker: (uint)i));
            current = (await store.CommitAsync(Db, current, file, default)).Version;
            _time.Advance(TimeSpan.FromSeconds(1));
            counts.Add(Directory.Exists(store.VersionsFolderOf(Db)) ? Directory.GetFiles(store.VersionsFolderOf(Db)).Length : 0);
        }

        Assert.True(counts.Max() <= 22, string.Join(", ", counts));
        Assert.Contains(20, counts.Skip(20));
        Assert.True(counts.Skip(20).All(c => c >= 20), string.Join(", ", counts));

        // The oldest went first: the newest replaced version is still kept.
        var page = await store.ListVersionsAsync(Db, 100, null, default);
        Assert.Equal(counts[^1] + 1, page.Versions.Count);
        Assert.True(page.Versions[0].IsCurrent);
    }

    [Fact]
    public async Task An_old_version_read_once_stays_cached_and_is_read_again_without_copying_it()
    {
        var store = NewStore();
        var versions = await CommitAsync(store, 3);
        var oldest = versions[0].ETag!;

        string cachedFile;
        using (var first = await store.GetVersionAsync(Db, oldest, default))
        {
            Assert.Equal(SnapshotSource.Downloaded, first.Fetch.Source);
            cachedFile = first.FilePath;
        }

        Assert.True(File.Exists(cachedFile), "released, the old version stays in the cache");
        using var again = await store.GetVersionAsync(Db, oldest, default);

        Assert.Equal(cachedFile, again.FilePath);
        Assert.Equal(SnapshotFetch.Revalidated, again.Fetch);
        Assert.Equal(DatabaseBytes.Valid(pages: 1, marker: 1), File.ReadAllBytes(again.FilePath));
    }

    [Fact]
    public async Task A_cached_old_version_the_store_has_pruned_since_is_not_found_and_leaves_the_cache()
    {
        var store = NewStore(versionsKept: 1);
        var versions = await CommitAsync(store, 2);
        string cachedFile;
        using (var first = await store.GetVersionAsync(Db, versions[0].ETag!, default))
        {
            cachedFile = first.FilePath;
        }

        var third = Path.Combine(_root, "third");
        File.WriteAllBytes(third, DatabaseBytes.Valid(pages: 3, marker: 3));
        await store.CommitAsync(Db, versions[1], third, default); // prunes versions[0]: one replaced version is kept

        await Assert.ThrowsAsync<VersionNotFoundException>(() => store.GetVersionAsync(Db, versions[0].ETag!, default));
        Assert.False(File.Exists(cachedFile));
    }

    [Fact]
    public async Task As_of_finds_the_newest_version_committed_at_or_before_the_time()
    {
        var store = NewStore();
        var versions = await CommitAsync(store, 3);

        Assert.Null(await store.FindAsOfAsync(Db, Start.AddSeconds(-1), default));
        Assert.Equal(versions[0].ETag, (await store.FindAsOfAsync(Db, Start, default))!.Id);
        Assert.Equal(versions[0].ETag, (await store.FindAsOfAsync(Db, Start.AddSeconds(59), default))!.Id);
        Assert.Equal(versions[1].ETag, (await store.FindAsOfAsync(Db, Start.AddMinutes(1.5), default))!.Id);
        Assert.Equal(versions[2].ETag, (await store.FindAsOfAsync(Db, Start.AddDays(1), default))!.Id);
        Assert.Null(await store.FindAsOfAsync("never", Start.AddDays(1), default));
    }

    [Fact]
    public async Task Retention_deletes_the_oldest_beyond_the_count_and_never_the_current_version()
    {
        var store = NewStore(versionsKept: 2);
        var versions = await CommitAsync(store, 5);

        var listed = (await store.ListVersionsAsync(Db, 10, null, default)).Versions;

        Assert.Equal([versions[4].ETag, versions[3].ETag, versions[2].ETag], listed.Select(v => v.Id));
        Assert.Equal(2, Directory.GetFiles(store.VersionsFolderOf(Db)).Length);
        await Assert.ThrowsAsync<VersionNotFoundException>(() => store.GetVersionAsync(Db, versions[1].ETag!, default));
        Assert.Equal(DatabaseBytes.Valid(pages: 5, marker: 5), await ContentAsync(store, versions[4].ETag!));
    }

    [Fact]
    public async Task With_no_versions_kept_only_the_current_one_is_listed()
    {
        var store = NewStore(versionsKept: 0);
        var versions = await CommitAsync(store, 3);

        var listed = Assert.Single((await store.ListVersionsAsync(Db, 10, null, default)).Versions);

        Assert.Equal(versions[2].ETag, listed.Id);
        Assert.False(Directory.Exists(store.VersionsFolderOf(Db)));
    }

    [Fact]
    public async Task Pages_follow_each_other_with_the_next_token_and_a_foreign_token_is_refused()
    {
        var store = NewStore();
        var versions = await CommitAsync(store, 5);

        var first = await store.ListVersionsAsync(Db, 2, null, default);
        var second = await store.ListVersionsAsync(Db, 2, first.Next, default);
        var third = await store.ListVersionsAsync(Db, 2, second.Next, default);

        Assert.Equal(
            versions.Select(v => v.ETag).Reverse(),
            first.Versions.Concat(second.Versions).Concat(third.Versions).Select(v => v.Id));
        Assert.NotNull(second.Next);
        Assert.Null(third.Next);
        Assert.Single(third.Versions);
        await Assert.ThrowsAsync<ArgumentException>(() => store.ListVersionsAsync(Db, 2, "not-a-token", default));
        await Assert.ThrowsAsync<ArgumentException>(() => store.ListVersionsAsync(Db, 2, "Li4vLi4vZXRj", default)); // "../../etc"
    }

    [Theory]
    [InlineData("9-doesnotexist")]
    [InlineData("../inventory.sqlite")]
    [InlineData("*")]
    public async Task An_unknown_or_unsafe_id_is_not_found_and_reads_nothing(string id)
    {
        var store = NewStore();
        var versions = await CommitAsync(store, 2);

        var error = await Assert.ThrowsAsync<VersionNotFoundException>(() => store.GetVersionAsync(Db, id, default));

        Assert.Contains("GET /db/versions", error.Message, StringComparison.Ordinal);
        var cached = Directory.GetFiles(Path.Combine(store.CacheFolder.CacheDirectory, Db)).Select(Path.GetFileName);
        Assert.Equal([CachedDatabase.FileNameFor(versions[1])], cached);
    }

    [Fact]
    public async Task A_version_of_another_database_is_not_found_there()
    {
        var store = NewStore();
        var versions = await CommitAsync(store, 2);

        await Assert.ThrowsAsync<VersionNotFoundException>(() => store.GetVersionAsync("other", versions[0].ETag!, default));
    }

    [Fact]
    public async Task An_old_version_is_an_immutable_cached_file_kept_once_released()
    {
        var store = NewStore();
        var versions = await CommitAsync(store, 2);

        string path;
        using (var snapshot = await store.GetVersionAsync(Db, versions[0].ETag!, default))
        {
            path = snapshot.FilePath;
            Assert.StartsWith(store.CacheFolder.CacheDirectory, path, StringComparison.Ordinal);
            Assert.Equal(versions[0], snapshot.Version);

            // A commit meanwhile does not touch the held file.
            var next = Path.Combine(_root, "next");
            File.WriteAllBytes(next, DatabaseBytes.Valid(pages: 7, marker: 7));
            await store.CommitAsync(Db, versions[1], next, default);
            Assert.Equal(DatabaseBytes.Valid(pages: 1, marker: 1), File.ReadAllBytes(path));
        }

        // Released, it stays cached (immutable, like every cached version) until the cache's budget evicts it.
        Assert.Equal(DatabaseBytes.Valid(pages: 1, marker: 1), File.ReadAllBytes(path));
    }
}
