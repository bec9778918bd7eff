using Microsoft.Data.Sqlite;
using ServerlessDb.Errors;
using ServerlessDb.Logging;
using ServerlessDb.Storage;
using ServerlessDb.Storage.Chunked;
using ServerlessDb.Storage.Collection;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>
/// What the one store (<see cref="DatabaseStore"/>) does over ANY object backend, written once and run against every
/// backend we have: in memory, the local folder, and S3 on moto. Each test asserts what the backend holds afterwards,
/// read through the backend itself, not only what the store answered. A "process" is a store with its own cache
/// folder and its own backend instance over the same objects, as two containers or two local servers would have.
/// </summary>
public abstract class DatabaseStoreContract : IDisposable
{
    private protected const string Db = "inventory";
    private const int ChunkSize = ChunkManifest.ChunkAlignment;
    private const int Rows = 300;
    private const string Prefix = "databases/";

    private readonly ObjectKeys _keys = new(Prefix);
    private readonly List<CacheFolder> _caches = [];

    protected DatabaseStoreContract()
    {
        Root = Directory.CreateTempSubdirectory("serverlessdb-store-contract-").FullName;
    }

    private protected string Root { get; }

    private string Key => _keys.Database(Db);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(Root, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>The objects as a new process reaches them: a new backend instance over the same storage, with its links where it has them.</summary>
    private protected abstract (IObjectBackend Objects, IObjectLinks? Links) OpenObjects();

    /// <param name="lazyFrom">LAZY_READ_MIN_BYTES: with it, the store reads lazily and writes in place.</param>
    private DatabaseStore NewStore(string process = "a", int? chunkSize = null, IObjectBackend? objects = null, long? lazyFrom = null)
    {
        var (opened, links) = OpenObjects();
        var cache = CacheFolder.Claim(Path.Combine(Root, "cache-" + process));
        return new DatabaseStore(objects ?? opened, links, new StoreOptions(Prefix, TimeSpan.FromSeconds(10), 256L * 1024 * 1024, chunkSize, lazyFrom), cache, TimeProvider.System, TimeSpan.FromMilliseconds(10));
    }

    private string WorkingFile(params byte[] marker)
    {
        var path = NewPath();
        File.WriteAllBytes(path, DatabaseBytes.Marked(marker));
        return path;
    }

    private string NewPath() => Path.Combine(Root, Guid.NewGuid().ToString("N") + ".sqlite");

    /// <summary>A real database of <see cref="Rows"/> rows, one 4 KiB page each (about 1.2 MB: about 19 chunks).</summary>
    private string NewDatabase()
    {
        var path = NewPath();
        Run(path,
            "PRAGMA page_size = 4096",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)",
            $"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {Rows}) INSERT INTO t SELECT i, randomblob(3000) FROM n");
        return path;
    }

    /// <summary>A copy of <paramref name="from"/> with one row rewritten in place (only its page and the header page change).</summary>
    private string OneRowChanged(string from, int id)
    {
        var path = NewPath();
        File.Copy(from, path);
        Run(path, $"UPDATE t SET v = randomblob(3000) WHERE id = {id}");
        return path;
    }

    private static void Run(string path, params string[] sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        foreach (var statement in sql)
        {
            using var command = new SqliteCommand(statement, connection);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Runs <paramref name="sql"/> on a write in place, as the engine does: one connection, the journal in memory.</summary>
    private static void RunInPlace(InPlaceWrite write, params string[] sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = write.DataSource, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        connection.Open();
        foreach (var statement in (string[])["PRAGMA journal_mode=MEMORY", .. sql])
        {
            using var command = new SqliteCommand(statement, connection);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Commits a copy of <paramref name="path"/> (a commit moves its working copy into the cache), keeping the original to compare with.</summary>
    private async Task<CommitReceipt> CommitCopyAsync(DatabaseStore store, DatabaseETag basedOn, string path)
    {
        var working = NewPath();
        File.Copy(path, working);
        return await store.CommitAsync(Db, basedOn, working, CancellationToken.None);
    }

    /// <summary>The current version, its bytes (as hex) and how they were fetched.</summary>
    private static async Task<(DatabaseETag Version, string Content, SnapshotFetch Fetch)> ReadAsync(DatabaseStore store, string database = Db)
    {
        using var snapshot = await store.GetAsync(database, maxStaleness: null, CancellationToken.None);
        return (snapshot.ETag, Hex(File.ReadAllBytes(snapshot.FilePath)), snapshot.Fetch);
    }

    /// <summary>What the backend holds at the database's key now: its ETag and bytes (as hex, so that tuples compare by value), or null.</summary>
    private async Task<(string ETag, string Content)?> StoredAsync()
    {
        var stored = await OpenObjects().Objects.GetSmallAsync(Key, ObjectSelector.Current, 16 * 1024 * 1024, CancellationToken.None);
        return stored is null ? null : (stored.Info.ETag, Convert.ToHexString(stored.Content));
    }

    private static string Marked(params byte[] marker) => Convert.ToHexString(DatabaseBytes.Marked(marker));

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes);

    private async Task<List<string>> StoredKeysAsync(string prefix)
    {
        var objects = OpenObjects().Objects;
        var keys = new List<string>();
        string? continuation = null;
        do
        {
            var page = await objects.ListAsync(new ListRequest(prefix, Continuation: continuation), CancellationToken.None);
            keys.AddRange(page.Keys);
            continuation = page.NextContinuation;
        }
        while (continuation is not null);
        return keys;
    }

    private async Task<ChunkManifest> StoredManifestAsync()
    {
        var stored = (await StoredAsync())!.Value;
        return ChunkManifest.Parse(Convert.FromHexString(stored.Content));
    }

    private string[] CachedFiles(DatabaseStore store)
    {
        var folder = Path.Combine(store.CacheFolder.CacheDirectory, Db);
        return Directory.Exists(folder) ? Directory.GetFiles(folder) : [];
    }

    [Fact]
    public async Task A_database_that_does_not_exist_reads_as_an_empty_file_with_a_missing_version_and_nothing_is_stored()
    {
        var store = NewStore();

        var (version, content, _) = await ReadAsync(store);
        var versions = await store.ListVersionsAsync(Db, limit: 10, next: null, CancellationToken.None);
        var asOf = await store.FindAsOfAsync(Db, DateTimeOffset.UtcNow, CancellationToken.None);

        Assert.False(version.Exists);
        Assert.Equal("", content);
        Assert.Empty(versions.Versions);
        Assert.Null(asOf);
        Assert.Equal(DatabaseETag.Missing, await store.CurrentETagAsync(Db, CancellationToken.None));
        Assert.Empty(await StoredKeysAsync(Prefix));
    }

    [Fact]
    public async Task A_commit_creates_the_database_and_another_process_reads_it_back()
    {
        var version = (await NewStore("a").CommitAsync(Db, DatabaseETag.Missing, WorkingFile(1, 2, 3), CancellationToken.None)).ETag;
        var other = NewStore("b");

        var (read, content, fetch) = await ReadAsync(other);

        Assert.True(version.Exists);
        Assert.Equal((version, Marked(1, 2, 3)), (read, content));
        Assert.Equal(SnapshotSource.Downloaded, fetch.Source);
        Assert.Equal((version.ETag!, Marked(1, 2, 3)), (await StoredAsync())!.Value);
        Assert.Equal(version, await other.CurrentETagAsync(Db, CancellationToken.None));
    }

    [Fact]
    public async Task A_current_cached_copy_is_revalidated_without_moving_bytes()
    {
        var store = NewStore("a");
        await store.CommitAsync(Db, DatabaseETag.Missing, WorkingFile(4), CancellationToken.None);
        var reader = NewStore("b");
        await ReadAsync(reader);

        var (_, content, fetch) = await ReadAsync(reader);

        Assert.Equal(Marked(4), content);
        Assert.Equal((SnapshotSource.Revalidated, 0L), (fetch.Source, fetch.BytesDownloaded));
    }

    [Fact]
    public async Task A_create_fails_when_the_database_exists_and_leaves_it_as_it_was()
    {
        var store = NewStore();
        var first = (await store.CommitAsync(Db, DatabaseETag.Missing, WorkingFile(1), CancellationToken.None)).ETag;

        await Assert.ThrowsAsync<WriteConflictException>(() => NewStore("b").CommitAsync(Db, DatabaseETag.Missing, WorkingFile(2), CancellationToken.None));

        Assert.Equal((first.ETag!, Marked(1)), (await StoredAsync())!.Value);
    }

    [Fact]
    public async Task A_commit_on_the_version_read_replaces_it_and_one_on_an_older_version_is_a_conflict_that_stores_nothing()
    {
        var a = NewStore("a");
        var b = NewStore("b");
        var v1 = (await a.CommitAsync(Db, DatabaseETag.Missing, WorkingFile(1), CancellationToken.None)).ETag;
        Assert.Equal(v1, (await ReadAsync(b)).Version);
        var v2 = (await a.CommitAsync(Db, v1, WorkingFile(2), CancellationToken.None)).ETag;

        await Assert.ThrowsAsync<WriteConflictException>(() => b.CommitAsync(Db, v1, WorkingFile(3), CancellationToken.None));

        Assert.NotEqual(v1, v2);
        Assert.Equal((v2.ETag!, Marked(2)), (await StoredAsync())!.Value);
        var (read, content, _) = await ReadAsync(b);
        Assert.Equal((v2, Marked(2)), (read, content));
    }

    [Fact]
    public async Task Concurrent_commits_from_two_processes_on_the_same_version_let_exactly_one_win()
    {
        var a = NewStore("a");
        var b = NewStore("b");
        var version = (await a.CommitAsync(Db, DatabaseETag.Missing, WorkingFile(0), CancellationToken.None)).ETag;
        for (byte round = 1; round <= 5; round++)
        {
            var outcomes = await Task.WhenAll(
                Outcome(a.CommitAsync(Db, version, WorkingFile(round, 0xA), CancellationToken.None), 0xA),
                Outcome(b.CommitAsync(Db, version, WorkingFile(round, 0xB), CancellationToken.None), 0xB));

            var winner = Assert.Single(outcomes, o => o.Version is not null);
            Assert.Single(outcomes, o => o.Error is WriteConflictException);
            version = winner.Version!.Value;
            Assert.Equal((version.ETag!, Marked(round, winner.Marker)), (await StoredAsync())!.Value);
        }

        static async Task<(DatabaseETag? Version, byte Marker, Exception? Error)> Outcome(Task<CommitReceipt> commit, byte marker)
        {
            try
            {
                return ((await commit).ETag, marker, null);
            }
            catch (WriteConflictException e)
            {
                return (null, marker, e);
            }
        }
    }

    [Fact]
    public async Task A_commit_whose_answer_was_lost_is_reported_committed_once_and_stored_once()
    {
        var writer = NewStore("writer");
        var v1 = (await writer.CommitAsync(Db, DatabaseETag.Missing, WorkingFile(1), CancellationToken.None)).ETag;
        var lossy = new LossyObjectBackend(OpenObjects().Objects);
        lossy.LoseNextCommitAnswers();
        var store = NewStore("lossy", objects: lossy);
        await ReadAsync(store);

        var v2 = (await store.CommitAsync(Db, v1, WorkingFile(2), CancellationToken.None)).ETag;

        Assert.Equal(1, lossy.LostAnswers);
        Assert.Equal((v2.ETag!, Marked(2)), (await StoredAsync())!.Value);
        var history = await store.ListVersionsAsync(Db, limit: 10, next: null, CancellationToken.None);
        Assert.Equal(2, history.Versions.Count);
        var (read, content, _) = await ReadAsync(NewStore("fresh"));
        Assert.Equal((v2, Marked(2)), (read, content));
    }

    [Fact]
    public async Task A_commit_whose_answer_was_lost_and_which_another_writer_then_built_on_is_known_as_ours_by_its_lineage()
    {
        var v1 = (await NewStore("a").CommitAsync(Db, DatabaseETag.Missing, WorkingFile(1), CancellationToken.None)).ETag;
        var lossy = new LossyObjectBackend(OpenObjects().Objects);
        var store = NewStore("lossy", objects: lossy);
        await ReadAsync(store);
        var other = NewStore("b");
        string? builtOn = null;

        // Our put lands and its answer is lost; before our retry, another writer reads our version and commits on it.
        // The retry then fails its condition: only the lineage the other commit carries says that ours landed.
        lossy.LoseNextCommitAnswers(1, async () =>
        {
            var (ours, _, _) = await ReadAsync(other);
            builtOn = ours.ETag;
            await other.CommitAsync(Db, ours, WorkingFile(3), CancellationToken.None);
        });
        var v2 = (await store.CommitAsync(Db, v1, WorkingFile(2), CancellationToken.None)).ETag;

        Assert.Equal(builtOn, v2.ETag);
        Assert.Equal(Marked(3), (await StoredAsync())!.Value.Content);
        var history = (await other.ListVersionsAsync(Db, limit: 10, next: null, CancellationToken.None)).Versions;
        Assert.Equal(3, history.Count);
        using var ours = await other.GetVersionAsync(Db, history[1].Id, CancellationToken.None);
        Assert.Equal(Marked(2), Hex(File.ReadAllBytes(ours.FilePath)));
    }

    [Fact]
    public async Task A_held_snapshot_keeps_its_bytes_across_commits_and_its_file_goes_once_released()
    {
        var store = NewStore();
        var v1 = (await store.CommitAsync(Db, DatabaseETag.Missing, WorkingFile(1, 1), CancellationToken.None)).ETag;
        var held = await store.GetAsync(Db, null, CancellationToken.None);

        await store.CommitAsync(Db, v1, WorkingFile(2, 2), CancellationToken.None);
        var (_, current, _) = await ReadAsync(store);

        Assert.Equal(Marked(2, 2), current);
        Assert.Equal((v1, Marked(1, 1)), (held.ETag, Hex(File.ReadAllBytes(held.FilePath))));
        held.Dispose();
        Assert.False(File.Exists(held.FilePath));
    }

    [Fact]
    public async Task Every_commit_is_a_version_listed_newest_first_and_each_reads_back_by_its_id()
    {
        var store = NewStore();
        var version = DatabaseETag.Missing;
        for (byte i = 1; i <= 3; i++)
        {
            version = (await store.CommitAsync(Db, version, WorkingFile(i), CancellationToken.None)).ETag;
        }

        var listed = (await store.ListVersionsAsync(Db, limit: 10, next: null, CancellationToken.None)).Versions;

        Assert.Equal(3, listed.Count);
        Assert.Equal([true, false, false], listed.Select(v => v.IsCurrent));
        Assert.True(listed.Zip(listed.Skip(1)).All(pair => pair.First.Time >= pair.Second.Time));
        for (var i = 0; i < 3; i++)
        {
            using var snapshot = await NewStore("reader-" + i).GetVersionAsync(Db, listed[i].Id, CancellationToken.None);
            Assert.Equal(Marked((byte)(3 - i)), Hex(File.ReadAllBytes(snapshot.FilePath)));
            Assert.Equal(listed[i].Size, new FileInfo(snapshot.FilePath).Length);
        }
    }

    [Fact]
    public async Task Version_pages_follow_each_other_and_a_token_not_of_this_store_is_refused()
    {
        var store = NewStore();
        var version = DatabaseETag.Missing;
        for (byte i = 1; i <= 3; i++)
        {
            version = (await store.CommitAsync(Db, version, WorkingFile(i), CancellationToken.None)).ETag;
        }

        var first = await store.ListVersionsAsync(Db, limit: 2, next: null, CancellationToken.None);
        var second = await store.ListVersionsAsync(Db, limit: 2, next: first.Next, CancellationToken.None);

        Assert.Equal(2, first.Versions.Count);
        Assert.NotNull(first.Next);
        Assert.Single(second.Versions);
        Assert.Null(second.Next);
        Assert.Equal(3, first.Versions.Concat(second.Versions).Select(v => v.Id).Distinct().Count());
        await Assert.ThrowsAsync<ArgumentException>(() => store.ListVersionsAsync(Db, limit: 2, next: "bm90LWEtdG9rZW4", CancellationToken.None));
    }

    [Fact]
    public async Task As_of_finds_the_version_current_at_a_time_and_nothing_before_the_first()
    {
        var store = NewStore();
        var v1 = (await store.CommitAsync(Db, DatabaseETag.Missing, WorkingFile(1), CancellationToken.None)).ETag;

        // S3 keeps times to the second: the second commit lands in a later one.
        await Task.Delay(TimeSpan.FromMilliseconds(1100));
        await store.CommitAsync(Db, v1, WorkingFile(2), CancellationToken.None);
        var listed = (await store.ListVersionsAsync(Db, limit: 10, next: null, CancellationToken.None)).Versions;

        Assert.Equal(listed[1].Id, (await store.FindAsOfAsync(Db, listed[1].Time, CancellationToken.None))?.Id);
        Assert.Equal(listed[0].Id, (await store.FindAsOfAsync(Db, listed[0].Time, CancellationToken.None))?.Id);
        Assert.Null(await store.FindAsOfAsync(Db, listed[1].Time - TimeSpan.FromSeconds(1), CancellationToken.None));
    }

    [Fact]
    public async Task An_unknown_version_id_and_a_version_of_another_database_are_not_found()
    {
        var store = NewStore();
        await store.CommitAsync(Db, DatabaseETag.Missing, WorkingFile(1), CancellationToken.None);
        await store.CommitAsync("other", DatabaseETag.Missing, WorkingFile(2), CancellationToken.None);
        var otherId = (await store.ListVersionsAsync("other", limit: 1, next: null, CancellationToken.None)).Versions[0].Id;

        await Assert.ThrowsAsync<VersionNotFoundException>(() => store.GetVersionAsync(Db, otherId, CancellationToken.None));
        await Assert.ThrowsAsync<VersionNotFoundException>(() => store.GetVersionAsync(Db, "no-such-version", CancellationToken.None));
    }

    [Fact]
    public async Task A_chunked_commit_stores_a_manifest_at_the_key_and_its_chunks_and_another_process_reads_it_byte_for_byte()
    {
        var working = NewDatabase();
        var receipt = await CommitCopyAsync(NewStore("a", ChunkSize), DatabaseETag.Missing, working);

        var manifest = await StoredManifestAsync();
        var head = await OpenObjects().Objects.HeadAsync(Key, ObjectSelector.Current, CancellationToken.None);
        var chunks = await StoredKeysAsync(_keys.ChunkFolder(Db));
        var (_, content, fetch) = await ReadAsync(NewStore("b"));

        Assert.True(StoredMetadata.IsManifest(head!.Metadata));
        Assert.Equal(new FileInfo(working).Length, manifest.Length);
        Assert.True(manifest.Chunks.Count > 10);
        Assert.Equal(manifest.Chunks.Select(c => _keys.Chunk(Db, c.Sha256)).Distinct().Order(StringComparer.Ordinal), chunks.Order(StringComparer.Ordinal));
        Assert.Equal(Hex(File.ReadAllBytes(working)), content);
        Assert.Equal(head.Size + manifest.Length, fetch.BytesDownloaded);
        Assert.Equal(head.Size + manifest.Length, receipt.BytesUploaded);
    }

    [Fact]
    public async Task A_one_row_change_stores_at_most_two_chunks_plus_the_manifest_and_a_stale_reader_fetches_only_those()
    {
        var writer = NewStore("writer", ChunkSize);
        var reader = NewStore("reader", ChunkSize);
        var first = NewDatabase();
        var v1 = (await CommitCopyAsync(writer, DatabaseETag.Missing, first)).ETag;
        await ReadAsync(reader);
        var before = await StoredKeysAsync(_keys.ChunkFolder(Db));

        var second = OneRowChanged(first, id: 150);
        var receipt = await CommitCopyAsync(writer, v1, second);
        var (_, content, fetch) = await ReadAsync(reader);

        var manifestBytes = (await OpenObjects().Objects.HeadAsync(Key, ObjectSelector.Current, CancellationToken.None))!.Size;
        Assert.InRange((await StoredKeysAsync(_keys.ChunkFolder(Db))).Except(before).Count(), 1, 2);
        Assert.InRange(receipt.BytesUploaded, manifestBytes + 1, manifestBytes + (2L * ChunkSize));
        Assert.Equal(Hex(File.ReadAllBytes(second)), content);
        Assert.InRange(fetch.BytesDownloaded, manifestBytes + 1, manifestBytes + (2L * ChunkSize));
    }

    [Fact]
    public async Task A_write_in_place_stores_at_most_two_chunks_plus_the_manifest_and_reads_back_as_the_same_sql_on_a_whole_copy()
    {
        var first = NewDatabase();
        var v1 = (await CommitCopyAsync(NewStore("a", ChunkSize), DatabaseETag.Missing, first)).ETag;
        var before = await StoredKeysAsync(_keys.ChunkFolder(Db));
        const string Change = "UPDATE t SET v = zeroblob(3000) WHERE id = 150";
        var expected = NewPath();
        File.Copy(first, expected);
        Run(expected, "PRAGMA journal_mode=MEMORY", Change);
        var inPlace = NewStore("in-place", ChunkSize, lazyFrom: 0);

        CommitReceipt receipt;
        using (var write = (await inPlace.BeginAsync(Db, Path.Combine(Root, "overlay"), CancellationToken.None, CancellationToken.None))!)
        {
            Assert.Equal(v1, write.ETag);
            RunInPlace(write, Change);
            receipt = await inPlace.CommitAsync(Db, write, CancellationToken.None);
        }

        var (stored, content, _) = await ReadAsync(NewStore("reader", ChunkSize));
        var manifestBytes = (await OpenObjects().Objects.HeadAsync(Key, ObjectSelector.Current, CancellationToken.None))!.Size;
        Assert.Equal(receipt.ETag, stored);
        Assert.Equal(Hex(File.ReadAllBytes(expected)), content);
        Assert.InRange((await StoredKeysAsync(_keys.ChunkFolder(Db))).Except(before).Count(), 1, 2);
        Assert.InRange(receipt.BytesUploaded, manifestBytes + 1, manifestBytes + (2L * ChunkSize));
    }

    [Fact]
    public async Task A_write_in_place_on_a_version_another_process_replaced_is_a_conflict_and_stores_nothing()
    {
        var first = NewDatabase();
        var v1 = (await CommitCopyAsync(NewStore("a", ChunkSize), DatabaseETag.Missing, first)).ETag;
        var inPlace = NewStore("in-place", ChunkSize, lazyFrom: 0);
        using var write = (await inPlace.BeginAsync(Db, Path.Combine(Root, "overlay"), CancellationToken.None, CancellationToken.None))!;
        RunInPlace(write, "UPDATE t SET v = zeroblob(3000) WHERE id = 7");
        var v2 = (await CommitCopyAsync(NewStore("b", ChunkSize), v1, OneRowChanged(first, id: 9))).ETag;

        await Assert.ThrowsAsync<WriteConflictException>(() => inPlace.CommitAsync(Db, write, CancellationToken.None));

        Assert.Equal(v2.ETag, (await OpenObjects().Objects.HeadAsync(Key, ObjectSelector.Current, CancellationToken.None))!.ETag);
    }

    [Fact]
    public async Task A_kept_version_of_either_layout_reads_in_place_by_its_id_as_its_file_reads_and_an_unknown_id_is_not_found()
    {
        var first = NewDatabase();
        var v1 = (await CommitCopyAsync(NewStore("whole"), DatabaseETag.Missing, first)).ETag;
        var second = OneRowChanged(first, id: 3);
        var v2 = (await CommitCopyAsync(NewStore("chunked", ChunkSize), v1, second)).ETag;
        await CommitCopyAsync(NewStore("whole-again"), v2, OneRowChanged(second, id: 4));
        var listed = (await NewStore("lister").ListVersionsAsync(Db, limit: 10, next: null, CancellationToken.None)).Versions;
        const string Rows = "SELECT count(*) || ':' || group_concat(hex(v)) FROM (SELECT v FROM t WHERE id IN (3, 4) ORDER BY id)";
        var lazy = NewStore("lazy", ChunkSize, lazyFrom: 0);

        foreach (var (version, file) in new[] { (listed[2], first), (listed[1], second) })
        {
            using var read = await lazy.ReadVersionAsync(Db, version.Id, CancellationToken.None, CancellationToken.None);
            Assert.True(read.IsLazy, $"version {version.Id} was not read in place");
            using (var connection = new SqliteConnection(read.Lease!.ConnectionString))
            {
                connection.Open();
                using var command = new SqliteCommand(Rows, connection);
                Assert.Equal(Scalar(file, Rows), command.ExecuteScalar());
            }

            read.ThrowIfFetchFailed();
            Assert.InRange(read.RangeRequests, 1, 12);
        }

        await Assert.ThrowsAsync<VersionNotFoundException>(() => lazy.ReadVersionAsync(Db, "no-such-version", CancellationToken.None, CancellationToken.None));
    }

    private static object? Scalar(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = new SqliteCommand(sql, connection);
        return command.ExecuteScalar();
    }

    [Fact]
    public async Task A_database_converts_to_chunks_on_a_chunked_commit_and_back_to_a_file_on_a_whole_commit_and_each_version_reads_back()
    {
        var first = NewDatabase();
        var v1 = (await CommitCopyAsync(NewStore("whole"), DatabaseETag.Missing, first)).ETag;
        var second = OneRowChanged(first, id: 3);
        var v2 = (await CommitCopyAsync(NewStore("chunked", ChunkSize), v1, second)).ETag;
        Assert.True(StoredMetadata.IsManifest((await OpenObjects().Objects.HeadAsync(Key, ObjectSelector.Current, CancellationToken.None))!.Metadata));
        var third = OneRowChanged(second, id: 4);
        await CommitCopyAsync(NewStore("whole-again"), v2, third);

        Assert.Equal(Hex(File.ReadAllBytes(third)), (await StoredAsync())!.Value.Content);
        var listed = (await NewStore("reader").ListVersionsAsync(Db, limit: 10, next: null, CancellationToken.None)).Versions;
        using var manifestVersion = await NewStore("old-reader").GetVersionAsync(Db, listed[1].Id, CancellationToken.None);
        Assert.Equal(Hex(File.ReadAllBytes(second)), Hex(File.ReadAllBytes(manifestVersion.FilePath)));
        Assert.Equal(Hex(File.ReadAllBytes(third)), (await ReadAsync(NewStore("reader-2", ChunkSize))).Content);
    }

    [Fact]
    public async Task A_manifest_naming_a_missing_chunk_is_a_corrupt_database_naming_the_chunk_and_nothing_is_cached()
    {
        await CommitCopyAsync(NewStore("a", ChunkSize), DatabaseETag.Missing, NewDatabase());
        var lost = (await StoredManifestAsync()).Chunks[5];
        var objects = OpenObjects().Objects;
        await DeleteEveryVersionAsync(objects, _keys.Chunk(Db, lost.Sha256));
        var reader = NewStore("b");

        var corrupt = await Assert.ThrowsAsync<DatabaseCorruptException>(() => reader.GetAsync(Db, maxStaleness: null, CancellationToken.None));

        Assert.Contains(lost.Sha256, corrupt.Message);
        Assert.Empty(CachedFiles(reader));
    }

    [Fact]
    public async Task A_chunk_whose_bytes_differ_from_its_manifest_is_a_corrupt_database_and_nothing_is_cached()
    {
        await CommitCopyAsync(NewStore("a", ChunkSize), DatabaseETag.Missing, NewDatabase());
        var damaged = (await StoredManifestAsync()).Chunks[3];
        var objects = OpenObjects().Objects;
        var key = _keys.Chunk(Db, damaged.Sha256);
        var bytes = (await objects.GetSmallAsync(key, ObjectSelector.Current, ChunkSize, CancellationToken.None))!.Content;
        bytes[100] ^= 0xFF;
        await objects.PutAsync(key, ObjectBody.Of(bytes), PutCondition.Always, new ObjectMetadata("application/octet-stream"), CancellationToken.None);
        var reader = NewStore("b");

        await Assert.ThrowsAsync<DatabaseCorruptException>(() => reader.GetAsync(Db, maxStaleness: null, CancellationToken.None));

        Assert.Empty(CachedFiles(reader));
    }

    [Fact]
    public async Task The_collector_deletes_only_chunk_versions_no_stored_version_names_and_only_past_the_grace()
    {
        var store = NewStore("a", ChunkSize);
        var first = NewDatabase();
        var v1 = (await CommitCopyAsync(store, DatabaseETag.Missing, first)).ETag;
        var second = OneRowChanged(first, id: 10);
        await CommitCopyAsync(store, v1, second);
        var objects = OpenObjects().Objects;
        var stray = _keys.Chunk(Db, new string('e', 64));
        await objects.PutAsync(stray, ObjectBody.Of(new byte[100]), PutCondition.Always, new ObjectMetadata("application/octet-stream"), CancellationToken.None);
        var named = (await StoredKeysAsync(_keys.ChunkFolder(Db))).Where(k => k != stray).ToList();
        var log = new RecordingLogSink();

        var young = await new ChunkCollector(objects, new ChunkCollectorOptions(Prefix, TimeSpan.FromHours(1)), TimeProvider.System, log).CollectOnceAsync("test", CancellationToken.None);
        Assert.Contains(stray, await StoredKeysAsync(_keys.ChunkFolder(Db)));
        var old = await new ChunkCollector(objects, new ChunkCollectorOptions(Prefix, TimeSpan.Zero), TimeProvider.System, log).CollectOnceAsync("test", CancellationToken.None);

        Assert.Equal((0, 1), (young.Deleted, young.Young));
        Assert.Equal(1, old.Deleted);
        Assert.Equal(named.Order(StringComparer.Ordinal), (await StoredKeysAsync(_keys.ChunkFolder(Db))).Order(StringComparer.Ordinal));
        Assert.Equal(Hex(File.ReadAllBytes(second)), (await ReadAsync(NewStore("after", ChunkSize))).Content);
    }

    [Fact]
    public void Staging_and_links_are_offered_exactly_where_the_backend_has_links()
    {
        var (_, links) = OpenObjects();
        var store = NewStore();

        Assert.Equal(links is not null, store.Capabilities.Staging is not null);
        Assert.Equal(links is not null, store.Capabilities.Links is not null);
        Assert.NotNull(store.Capabilities.History);
        Assert.NotNull(store.Capabilities.Catalog);
    }

    [Fact]
    public async Task The_catalog_lists_the_databases_in_name_order_and_not_the_chunks_stored_beside_them()
    {
        var store = NewStore("a", ChunkSize);
        await CommitCopyAsync(store, DatabaseETag.Missing, NewDatabase());
        foreach (var name in new[] { "zeta", "alpha", "mid" })
        {
            await store.CommitAsync(name, DatabaseETag.Missing, WorkingFile(1), CancellationToken.None);
        }

        var page = await store.ListAsync(after: null, limit: 10, CancellationToken.None);

        Assert.Equal(["alpha", Db, "mid", "zeta"], page.Databases.Select(d => d.Name));
        Assert.Null(page.Next);
    }

    private static async Task DeleteEveryVersionAsync(IObjectBackend objects, string key)
    {
        var versions = await objects.ListVersionsAsync(new VersionListRequest(key), CancellationToken.None);
        foreach (var version in versions.Versions.Where(v => v.Key == key))
        {
            await objects.DeleteAsync(key, ifMatch: null, version.VersionId, CancellationToken.None);
        }
    }
}
