using Microsoft.Data.Sqlite;
using ServerlessDb.Configuration;
using ServerlessDb.Storage;
using ServerlessDb.UnitTests.Support;
using ServerlessDb.UnitTests.Vfs;
using ServerlessDb.Vfs;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>
/// The store's lazy reads: a database committed through the one store, pinned by the store over the object port and
/// queried through the lazy VFS, fetches a few ranges, not the file, and never reads another version's bytes; the store
/// reads lazily only what is large enough and not cached, and a chunk missing or damaged is a corrupt database.
/// </summary>
public sealed class LazyReadTests : IDisposable
{
    private const string Db = "catalog";
    private const int Rows = 20_000;

    private readonly string _root = Directory.CreateTempSubdirectory("serverlessdb-pinned-").FullName;
    private readonly InMemoryObjectBackend _bucket = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    private DatabaseStore Store(int? chunkSize, long? lazyFrom = null) => new(
        _bucket, links: null, new StoreOptions("databases/", TimeSpan.FromSeconds(5), ServerlessDbOptions.DefaultCacheMaxBytes, chunkSize, lazyFrom),
        CacheFolder.Claim(Path.Combine(_root, "cache-" + Guid.NewGuid().ToString("N"))));

    private DatabaseStore Pinned() => Store(chunkSize: null);

    private LazyFiles Lazy() => new(new LazyReadOptions(Path.Combine(_root, "lazy-" + Guid.NewGuid().ToString("N")), 64L * 1024 * 1024, PieceBytes: 64 * 1024));

    /// <summary>About 10 MB: <c>items(id, name, payload)</c> with an index on name built after the rows.</summary>
    private string NewDatabase()
    {
        var path = Path.Combine(_root, Guid.NewGuid().ToString("N") + ".sqlite");
        SampleDatabase.Build(path,
            "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, payload BLOB NOT NULL)",
            $"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {Rows}) " +
            $"INSERT INTO items SELECT i, printf('name-%08d', (i * 7919) % {Rows}), randomblob(480) FROM n",
            "CREATE INDEX items_by_name ON items(name)");
        return path;
    }

    /// <summary>A new database (<see cref="NewDatabase"/>) committed as the first version of <see cref="Db"/>; the file kept to compare with.</summary>
    private async Task<string> CommittedDatabaseAsync(int? chunkSize)
    {
        var file = NewDatabase();
        var copy = file + ".commit";
        File.Copy(file, copy);
        await Store(chunkSize).CommitAsync(Db, DatabaseETag.Missing, copy, CancellationToken.None);
        return file;
    }

    private static object? Query(string connectionString, string sql)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = new SqliteCommand(sql, connection);
        return command.ExecuteScalar();
    }

    private int RangedGets() => _bucket.Requests.Count(r => r.StartsWith("GET ", StringComparison.Ordinal));

    [Theory]
    [InlineData(null)]
    [InlineData(2 * 1024 * 1024)]
    public async Task A_point_query_on_a_pinned_version_reads_a_few_ranges_and_answers_as_the_file_does(int? chunkSize)
    {
        var file = await CommittedDatabaseAsync(chunkSize);
        const string Sql = "SELECT id FROM items WHERE name = 'name-00012345'";
        var expected = Query($"Data Source={file};Mode=ReadOnly;Pooling=False", Sql);
        var before = RangedGets();

        var version = (await Pinned().PinCurrentAsync(Db, CancellationToken.None))!;
        using var lease = Lazy().Open(version, CancellationToken.None);
        var answer = Query(lease.ConnectionString, Sql);

        Assert.Equal(expected, answer);
        Assert.Equal(new FileInfo(file).Length, version.Length);
        var gets = RangedGets() - before;
        Assert.InRange(gets, 1, 12);
        Assert.Null(lease.FirstFailure);
    }

    [Fact]
    public async Task Cold_reads_of_one_chunked_version_at_once_share_one_manifest_get()
    {
        var copy = NewDatabase();
        await Store(chunkSize: 2 * 1024 * 1024).CommitAsync(Db, DatabaseETag.Missing, copy, CancellationToken.None);
        var manifestGet = $"GET databases/{Db}.sqlite";
        _bucket.BeforeEach("GET", (key, _) =>
        {
            if (key == $"databases/{Db}.sqlite")
            {
                Thread.Sleep(300); // every reader asks while the first GET is under way
            }
        });
        var store = Pinned();
        var before = _bucket.Requests.Count(r => r == manifestGet);

        // A thread each (the backend's hook blocks the thread it runs on), all starting at once.
        using var start = new Barrier(6);
        var pinned = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            return store.PinCurrentAsync(Db, CancellationToken.None).GetAwaiter().GetResult();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)));

        Assert.True(1 == _bucket.Requests.Count(r => r == manifestGet) - before, string.Join(Environment.NewLine, _bucket.Requests));
        Assert.All(pinned, version => Assert.Equal(pinned[0]!.ETag, version!.ETag));
        Assert.All(pinned, version => Assert.Equal(pinned[0]!.Length, version!.Length));
    }

    [Fact]
    public async Task A_reader_that_joined_a_manifest_get_its_starter_gave_up_on_fetches_the_manifest_itself()
    {
        var copy = NewDatabase();
        await Store(chunkSize: 2 * 1024 * 1024).CommitAsync(Db, DatabaseETag.Missing, copy, CancellationToken.None);
        var manifestGets = 0;
        _bucket.BeforeEach("GET", (key, token) =>
        {
            if (key == $"databases/{Db}.sqlite" && Interlocked.Increment(ref manifestGets) == 1)
            {
                // The first GET lasts until its caller gives up.
                token.WaitHandle.WaitOne(TimeSpan.FromSeconds(10));
                token.ThrowIfCancellationRequested();
            }
        });
        var store = Pinned();
        using var starterGivesUp = new CancellationTokenSource();
        var starter = Task.Run(() => store.PinCurrentAsync(Db, starterGivesUp.Token));
        await Bounded.WaitUntilAsync(() => Volatile.Read(ref manifestGets) == 1, "the first manifest GET started");
        var joiner = Task.Run(() => store.PinCurrentAsync(Db, CancellationToken.None));
        await Task.Delay(100);

        await starterGivesUp.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => starter);
        var joined = await joiner.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(joined?.Manifest);
        Assert.Equal(2, Volatile.Read(ref manifestGets));
    }

    [Fact]
    public async Task A_whole_file_version_replaced_while_pinned_fails_the_read_and_never_serves_the_new_bytes()
    {
        var file = NewDatabase();
        var copy = file + ".commit";
        File.Copy(file, copy);
        var store = Store(chunkSize: null);
        var v1 = (await store.CommitAsync(Db, DatabaseETag.Missing, copy, CancellationToken.None)).ETag;
        var version = (await Pinned().PinCurrentAsync(Db, CancellationToken.None))!;
        var replacement = NewDatabase();
        await store.CommitAsync(Db, v1, replacement, CancellationToken.None);

        using var lease = Lazy().Open(version, CancellationToken.None);
        var error = Assert.Throws<SqliteException>(() => Query(lease.ConnectionString, "SELECT count(*) FROM items"));

        Assert.Equal(10, error.SqliteErrorCode & 0xFF); // SQLITE_IOERR
        var replaced = Assert.IsType<PinnedVersionReplacedException>(lease.FirstFailure);
        Assert.Equal(ObjectBackendFailure.ConditionFailed, Assert.IsType<ObjectBackendException>(replaced.InnerException).Failure);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(2 * 1024 * 1024)]
    public async Task A_cold_store_reads_a_large_database_lazily_counting_its_ranged_gets_and_downloads_a_small_one(int? chunkSize)
    {
        var file = await CommittedDatabaseAsync(chunkSize);
        var length = new FileInfo(file).Length;
        const string Sql = "SELECT id FROM items WHERE name = 'name-00012345'";

        using (var lazy = await Store(chunkSize, lazyFrom: length).ReadAsync(Db, maxStaleness: null, CancellationToken.None, CancellationToken.None))
        {
            Assert.True(lazy.IsLazy);
            Assert.Null(lazy.Snapshot);
            Assert.Equal(Query($"Data Source={file};Mode=ReadOnly;Pooling=False", Sql), Query(lazy.Lease!.ConnectionString, Sql));
            Assert.InRange(lazy.RangeRequests, 1, 12);
            Assert.InRange(lazy.RangeBytes, 1, length / 2);
        }

        using var whole = await Store(chunkSize, lazyFrom: length + 1).ReadAsync(Db, maxStaleness: null, CancellationToken.None, CancellationToken.None);
        Assert.False(whole.IsLazy);
        Assert.Equal(SnapshotSource.Downloaded, whole.Fetch.Source);
        Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(whole.Snapshot!.FilePath));
    }

    [Fact]
    public async Task A_store_holding_the_current_file_reads_it_rather_than_lazily()
    {
        var copy = NewDatabase();
        var store = Store(chunkSize: null, lazyFrom: 0);
        var committed = (await store.CommitAsync(Db, DatabaseETag.Missing, copy, CancellationToken.None)).ETag;
        var gets = RangedGets();

        using var read = await store.ReadAsync(Db, maxStaleness: null, CancellationToken.None, CancellationToken.None);

        Assert.False(read.IsLazy);
        Assert.Equal(committed, read.ETag);
        Assert.Equal(gets, RangedGets());
    }

    [Fact]
    public async Task A_chunk_missing_under_a_pinned_read_is_a_corrupt_database_naming_the_chunk()
    {
        var copy = NewDatabase();
        await Store(chunkSize: 2 * 1024 * 1024).CommitAsync(Db, DatabaseETag.Missing, copy, CancellationToken.None);
        using var read = await Store(chunkSize: null, lazyFrom: 0).ReadAsync(Db, maxStaleness: null, CancellationToken.None, CancellationToken.None);
        foreach (var chunk in _bucket.Keys.Where(k => k.Contains("_chunks/", StringComparison.Ordinal)))
        {
            _bucket.Remove(chunk);
        }

        var error = Assert.Throws<SqliteException>(() => Query(read.Lease!.ConnectionString, "SELECT count(*) FROM items"));

        Assert.Equal(10, error.SqliteErrorCode & 0xFF); // SQLITE_IOERR
        var corrupt = Assert.IsType<ServerlessDb.Errors.DatabaseCorruptException>(read.Lease!.FirstFailure);
        Assert.Contains("_chunks/catalog/", corrupt.Message, StringComparison.Ordinal);
        Assert.Contains("which is not stored", corrupt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_damaged_chunk_fetched_whole_is_fetched_once_more_then_reported_corrupt()
    {
        var copy = NewDatabase();
        await Store(chunkSize: 2 * 1024 * 1024).CommitAsync(Db, DatabaseETag.Missing, copy, CancellationToken.None);
        var pinned = (await Pinned().PinCurrentAsync(Db, CancellationToken.None))!;
        var first = pinned.Blocks[0];
        var chunkKey = _bucket.Keys.Single(k => k.EndsWith(first.ContentKey, StringComparison.Ordinal));
        var damaged = new byte[first.Length];
        _bucket.StoreVersion(chunkKey, damaged, new ObjectMetadata("application/octet-stream"));
        var before = RangedGets();

        var buffer = new byte[first.Length];
        var error = await Assert.ThrowsAsync<ServerlessDb.Errors.DatabaseCorruptException>(async () => await first.FetchAsync(0, buffer, CancellationToken.None));

        Assert.Contains("piece 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("CRC32", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, RangedGets() - before);
    }

    [Fact]
    public async Task A_database_that_does_not_exist_pins_nothing()
    {
        Assert.Null(await Pinned().PinCurrentAsync("nothing", CancellationToken.None));
        using var read = await Store(chunkSize: null, lazyFrom: 0).ReadAsync("nothing", maxStaleness: null, CancellationToken.None, CancellationToken.None);
        Assert.False(read.IsLazy);
        Assert.False(read.ETag.Exists);
    }

    [Fact]
    public async Task A_chunked_download_longer_than_one_calls_retry_deadline_completes_each_chunk_within_its_own()
    {
        var copy = NewDatabase();
        var length = new FileInfo(copy).Length;
        const int ChunkBytes = 64 * 1024;
        await Store(chunkSize: ChunkBytes).CommitAsync(Db, DatabaseETag.Missing, copy, CancellationToken.None);
        var chunks = _bucket.Keys.Count(k => k.Contains("_chunks/", StringComparison.Ordinal));
        Assert.True(chunks >= 120, $"{chunks} chunks");

        // One call's retry deadline is 2 s of the store's clock. The manifest's GET takes 1.9 s of it and each chunk's
        // 1 ms: the whole download takes over 2 s, and no chunk's call can (all the chunks together take 0.2 s), however
        // the calls are scheduled. A fake clock, so a busy machine cannot stretch a call.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var started = clock.GetTimestamp();
        _bucket.BeforeEach("GET", (key, _) => clock.Advance(TimeSpan.FromMilliseconds(key.Contains("_chunks/", StringComparison.Ordinal) ? 1 : 1900)));
        var store = new DatabaseStore(
            _bucket, links: null, new StoreOptions("databases/", TimeSpan.FromSeconds(2), ServerlessDbOptions.DefaultCacheMaxBytes, ChunkBytes),
            CacheFolder.Claim(Path.Combine(_root, "cache-" + Guid.NewGuid().ToString("N"))), clock, TimeSpan.FromMilliseconds(10));

        using var snapshot = await store.GetAsync(Db, maxStaleness: null, CancellationToken.None);

        Assert.True(clock.GetElapsedTime(started) > TimeSpan.FromSeconds(2), $"the download took only {clock.GetElapsedTime(started)} of the store's clock");
        Assert.Equal(length, new FileInfo(snapshot.FilePath).Length);
        Assert.Equal(Rows, Convert.ToInt32(Query($"Data Source={snapshot.FilePath};Mode=ReadOnly;Pooling=False", "SELECT count(*) FROM items"), System.Globalization.CultureInfo.InvariantCulture));
    }
}
