using System.Text;
using Microsoft.Extensions.Time.Testing;
using ServerlessDb.Storage;
using ServerlessDb.Storage.LocalFolder;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>
/// What only the local folder backend promises, beyond the contract every backend runs: keys are plain files, a folder
/// the old local store wrote still reads, a file put there by hand is an object, its bookkeeping is never listed,
/// retention, and processes sharing one folder.
/// </summary>
public sealed class LocalFolderObjectBackendTests : IDisposable
{
    private static readonly ObjectMetadata Binary = new("application/octet-stream");
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);

    private readonly string _root = Directory.CreateTempSubdirectory("serverlessdb-local-backend-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Data => Path.Combine(_root, "data");

    private LocalFolderObjectBackend NewBackend(int versionsKept = LocalVersionRetention.DefaultVersionsKept, TimeProvider? time = null, TimeSpan? lockFileWait = null) =>
        new(Data, new LocalVersionRetention(versionsKept), time, lockFileWait);

    private static Task<PutResult> PutAsync(IObjectBackend backend, string key, string text, PutCondition? condition = null) =>
        backend.PutAsync(key, ObjectBody.Of(Encoding.UTF8.GetBytes(text)), condition ?? PutCondition.Always, Binary, CancellationToken.None);

    private static async Task<string?> TextAsync(IObjectBackend backend, string key, string? versionId = null) =>
        await backend.GetSmallAsync(key, new ObjectSelector(VersionId: versionId), 1_000_000, CancellationToken.None) is { } read
            ? Encoding.UTF8.GetString(read.Content)
            : null;

    private static async Task<List<ObjectVersionSummary>> VersionsAsync(IObjectBackend backend, string prefix) =>
        [.. (await backend.ListVersionsAsync(new VersionListRequest(prefix), CancellationToken.None)).Versions];

    /// <summary>Every file under the data folder, relative to it, with '/' between folders.</summary>
    private List<string> FilesOnDisk() =>
        [.. Directory.EnumerateFiles(Data, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Data, f).Replace('\\', '/')).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task A_key_is_the_file_of_that_path_holding_exactly_the_bytes_put()
    {
        var backend = NewBackend();

        await PutAsync(backend, "databases/orders.sqlite", "the orders");

        Assert.Equal("the orders", await File.ReadAllTextAsync(Path.Combine(Data, "databases", "orders.sqlite")));
        Assert.Equal(Path.Combine(Data, "databases", "orders.sqlite"), backend.Describe("databases/orders.sqlite"));
    }

    [Fact]
    public async Task A_database_the_old_store_committed_reads_with_its_tag_as_ETag_and_version_id_and_its_next_put_keeps_it_as_a_version()
    {
        // What the old store (LocalFolderDatabaseStore, before the one store) left: the file, and its tag beside it.
        var bytes = DatabaseBytes.Marked(7);
        Directory.CreateDirectory(Data);
        await File.WriteAllBytesAsync(Path.Combine(Data, "orders.sqlite"), bytes);
        await File.WriteAllTextAsync(Path.Combine(Data, "orders.sqlite.version"), "1-0123456789abcdef0123456789abcdef");
        var tag = new DatabaseETag("1-0123456789abcdef0123456789abcdef");

        var backend = NewBackend();
        var head = (await backend.HeadAsync("orders.sqlite", ObjectSelector.Current, CancellationToken.None))!;
        var listed = await backend.ListAsync(new ListRequest(""), CancellationToken.None);
        var replaced = await PutAsync(backend, "orders.sqlite", "next", PutCondition.IfMatch(tag.ETag!));

        Assert.Equal((tag.ETag, tag.ETag, bytes.Length), (head.ETag, head.VersionId, (int)head.Size));
        Assert.Equal(["orders.sqlite"], listed.Keys);
        Assert.NotEqual(tag.ETag, replaced.ETag);
        Assert.Equal(bytes, (await backend.GetSmallAsync("orders.sqlite", new ObjectSelector(VersionId: tag.ETag), 1_000_000, CancellationToken.None))!.Content);
        Assert.False(File.Exists(Path.Combine(Data, "orders.sqlite.version")), "the journal stands for the old store's tag file once the backend wrote the key");
    }

    [Fact]
    public async Task A_file_put_in_the_folder_by_hand_is_an_object_whose_ETag_comes_from_its_size_and_time()
    {
        var backend = NewBackend();
        var path = Path.Combine(Data, "notes", "hand.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, "by hand");
        File.SetLastWriteTimeUtc(path, Start.UtcDateTime);

        var head = (await backend.HeadAsync("notes/hand.txt", ObjectSelector.Current, CancellationToken.None))!;
        var listed = await backend.ListAsync(new ListRequest("notes/"), CancellationToken.None);
        var replaced = await PutAsync(backend, "notes/hand.txt", "by the backend", PutCondition.IfMatch(head.ETag));

        Assert.Equal($"0-{Start.UtcDateTime.Ticks:x}-7", head.ETag);
        Assert.Equal((7L, Start), (head.Size, head.LastModified));
        Assert.Equal(["notes/hand.txt"], listed.Keys);
        Assert.Equal("by hand", await TextAsync(backend, "notes/hand.txt", head.VersionId));
        Assert.Equal("by the backend", await TextAsync(backend, "notes/hand.txt"));
        Assert.Equal([replaced.VersionId, head.VersionId], (await VersionsAsync(backend, "notes/")).Select(v => (string?)v.VersionId));
    }

    [Fact]
    public async Task A_file_changed_by_hand_after_a_put_is_a_new_object_and_the_put_ETag_no_longer_matches()
    {
        var backend = NewBackend();
        var put = await PutAsync(backend, "a.txt", "put");
        var path = Path.Combine(Data, "a.txt");
        await File.WriteAllTextAsync(path, "changed by hand");
        File.SetLastWriteTimeUtc(path, Start.UtcDateTime);

        var head = (await backend.HeadAsync("a.txt", ObjectSelector.Current, CancellationToken.None))!;
        var failure = await Assert.ThrowsAsync<ObjectBackendException>(() => PutAsync(backend, "a.txt", "lost", PutCondition.IfMatch(put.ETag)));

        Assert.NotEqual(put.ETag, head.ETag);
        Assert.Equal(ObjectBackendFailure.ConditionFailed, failure.Failure);
        Assert.Equal("changed by hand", await TextAsync(backend, "a.txt"));
    }

    [Fact]
    public async Task Two_puts_of_the_same_bytes_have_different_ETags()
    {
        var backend = NewBackend();

        var first = await PutAsync(backend, "a.txt", "same");
        var second = await PutAsync(backend, "a.txt", "same");

        Assert.NotEqual(first.ETag, second.ETag);
        Assert.Equal(ObjectBackendFailure.ConditionFailed, (await Assert.ThrowsAsync<ObjectBackendException>(() => PutAsync(backend, "a.txt", "x", PutCondition.IfMatch(first.ETag)))).Failure);
    }

    [Fact]
    public async Task The_backends_bookkeeping_is_never_listed_and_keys_that_would_name_it_are_refused()
    {
        var backend = NewBackend();
        await PutAsync(backend, "a.sqlite", "one");
        await PutAsync(backend, "a.sqlite", "two");
        await PutAsync(backend, "x/b", "b");
        await backend.DeleteAsync("x/b", ifMatch: null, versionId: null, CancellationToken.None);
        File.WriteAllText(Path.Combine(Data, "a.sqlite.lock"), "");

        var listed = await backend.ListAsync(new ListRequest(""), CancellationToken.None);
        var versions = await VersionsAsync(backend, "");

        Assert.Contains(FilesOnDisk(), f => f.StartsWith(".history/", StringComparison.Ordinal));
        Assert.Equal(["a.sqlite"], listed.Keys);
        Assert.Empty(listed.CommonPrefixes);
        Assert.Equal(["a.sqlite", "a.sqlite", "x/b", "x/b"], versions.Select(v => v.Key));
        foreach (var key in new[] { ".history/_a.sqlite/index.json", ".tmp/x", "a.sqlite.version", "a.sqlite.lock", "x/../a", "x//y", "" })
        {
            await Assert.ThrowsAnyAsync<ArgumentException>(() => PutAsync(backend, key, "refused"));
        }
    }

    [Fact]
    public async Task Retention_keeps_the_newest_noncurrent_versions_and_deletes_the_older_ones_bytes()
    {
        var backend = NewBackend(versionsKept: 2);
        var puts = new List<PutResult>();
        for (var i = 1; i <= 5; i++)
        {
            puts.Add(await PutAsync(backend, "a.txt", $"v{i}"));
        }

        var versions = await VersionsAsync(backend, "a.txt");

        Assert.Equal([puts[4].VersionId, puts[3].VersionId, puts[2].VersionId], versions.Select(v => (string?)v.VersionId));
        Assert.Equal(ObjectBackendFailure.NoSuchVersion, (await Assert.ThrowsAsync<ObjectBackendException>(() => TextAsync(backend, "a.txt", puts[1].VersionId))).Failure);
        Assert.Equal("v3", await TextAsync(backend, "a.txt", puts[2].VersionId));
        Assert.Equal(2, FilesOnDisk().Count(f => f.StartsWith(".history/_a.txt/v-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Retention_of_zero_keeps_no_replaced_version()
    {
        var backend = NewBackend(versionsKept: 0);
        await PutAsync(backend, "a.txt", "one");
        var second = await PutAsync(backend, "a.txt", "two");

        var versions = await VersionsAsync(backend, "a.txt");

        Assert.Equal([second.VersionId], versions.Select(v => (string?)v.VersionId));
        Assert.DoesNotContain(FilesOnDisk(), f => f.Contains("/v-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Last_modified_comes_from_the_clock_given_in_whole_milliseconds()
    {
        var time = new FakeTimeProvider(Start.AddTicks(1234));
        var backend = NewBackend(time: time);
        var first = await PutAsync(backend, "a.txt", "one");
        time.Advance(TimeSpan.FromMinutes(5));
        await PutAsync(backend, "a.txt", "two");

        var versions = await VersionsAsync(backend, "a.txt");
        var old = (await backend.HeadAsync("a.txt", new ObjectSelector(VersionId: first.VersionId), CancellationToken.None))!;

        Assert.Equal([Start.AddMinutes(5), Start], versions.Select(v => v.LastModified));
        Assert.Equal(Start, old.LastModified);
        Assert.Equal(Start.AddMinutes(5), (await backend.ListAsync(new ListRequest(""), CancellationToken.None)).Objects.Single().LastModified);
    }

    [Fact]
    public async Task A_key_whose_lock_file_stays_held_is_unavailable()
    {
        var backend = NewBackend(lockFileWait: TimeSpan.FromMilliseconds(100));
        await PutAsync(backend, "a.txt", "one");

        using var held = LockFile.TryAcquire(Path.Combine(Data, ".history", "_a.txt", "lock"));
        var failure = await Assert.ThrowsAsync<ObjectBackendException>(() => PutAsync(backend, "a.txt", "two"));

        Assert.NotNull(held);
        Assert.Equal(ObjectBackendFailure.Unavailable, failure.Failure);
        Assert.Contains("held", failure.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_journal_that_is_not_one_is_refused_not_retried()
    {
        var backend = NewBackend();
        await PutAsync(backend, "a.txt", "one");
        await File.WriteAllTextAsync(Path.Combine(Data, ".history", "_a.txt", "index.json"), "{ not json");

        var failure = await Assert.ThrowsAsync<ObjectBackendException>(() => backend.HeadAsync("a.txt", ObjectSelector.Current, CancellationToken.None));

        Assert.Equal(ObjectBackendFailure.Refused, failure.Failure);
        Assert.Contains("index.json", failure.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_put_that_stopped_between_its_rename_and_its_index_leaves_a_folder_that_reads_both_versions()
    {
        var backend = NewBackend();
        var first = await PutAsync(backend, "a.txt", "one");
        var index = Path.Combine(Data, ".history", "_a.txt", "index.json");
        var indexBefore = await File.ReadAllBytesAsync(index);
        var second = await PutAsync(backend, "a.txt", "two");
        await File.WriteAllBytesAsync(index, indexBefore);

        var current = (await backend.HeadAsync("a.txt", ObjectSelector.Current, CancellationToken.None))!;
        var third = await PutAsync(backend, "a.txt", "three", PutCondition.IfMatch(current.ETag));

        Assert.NotEqual(second.ETag, current.ETag);
        Assert.Equal("one", await TextAsync(backend, "a.txt", first.VersionId));
        Assert.Equal("two", await TextAsync(backend, "a.txt", current.VersionId));
        Assert.Equal([third.VersionId, current.VersionId, first.VersionId], (await VersionsAsync(backend, "a.txt")).Select(v => (string?)v.VersionId));
    }

    [Fact]
    public async Task A_stream_opened_by_a_get_reads_its_bytes_after_the_object_is_deleted_and_its_version_too()
    {
        var backend = NewBackend();
        var put = await PutAsync(backend, "a.txt", "kept open");

        using var read = await backend.GetAsync("a.txt", ObjectSelector.Current, CancellationToken.None);
        await backend.DeleteAsync("a.txt", ifMatch: null, versionId: null, CancellationToken.None);
        await backend.DeleteAsync("a.txt", ifMatch: null, put.VersionId, CancellationToken.None);

        Assert.Equal("kept open", await new StreamReader(read.Body!).ReadToEndAsync());
        Assert.DoesNotContain(FilesOnDisk(), f => f == "a.txt" || f.Contains("/v-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_key_cannot_be_both_an_object_and_a_folder_of_others()
    {
        var backend = NewBackend();
        await PutAsync(backend, "a", "object");
        await PutAsync(backend, "b/c", "below");

        var below = await Assert.ThrowsAsync<ObjectBackendException>(() => PutAsync(backend, "a/c", "x"));
        var above = await Assert.ThrowsAsync<ObjectBackendException>(() => PutAsync(backend, "b", "x"));

        Assert.Equal((ObjectBackendFailure.Refused, ObjectBackendFailure.Refused), (below.Failure, above.Failure));
        Assert.Equal(["a", "b/c"], (await backend.ListAsync(new ListRequest(""), CancellationToken.None)).Keys);
    }

    [Fact]
    public async Task Two_backends_over_one_folder_racing_puts_if_match_one_ETag_let_exactly_one_win()
    {
        var first = NewBackend();
        var second = NewBackend();
        var start = await PutAsync(first, "a.lease", "start");

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            try
            {
                await PutAsync(i % 2 == 0 ? first : second, "a.lease", $"writer {i}", PutCondition.IfMatch(start.ETag));
                return (Writer: i, Won: true);
            }
            catch (ObjectBackendException e) when (e.Failure == ObjectBackendFailure.ConditionFailed)
            {
                return (Writer: i, Won: false);
            }
        })));

        var winner = Assert.Single(outcomes, o => o.Won);
        Assert.Equal($"writer {winner.Writer}", await TextAsync(second, "a.lease"));
        Assert.Equal(2, (await VersionsAsync(first, "a.lease")).Count);
    }
}
