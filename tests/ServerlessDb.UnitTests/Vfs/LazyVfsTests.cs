using Microsoft.Data.Sqlite;

using Xunit.Abstractions;

using ServerlessDb.Vfs;

using static ServerlessDb.UnitTests.Vfs.SqliteCalls;

namespace ServerlessDb.UnitTests.Vfs;

/// <summary>Real SQLite, through Microsoft.Data.Sqlite, reading a real 100 MB file through the lazy VFS and its block cache.</summary>
public sealed class LazyVfsTests(SampleDatabase sample, ITestOutputHelper output) : IClassFixture<SampleDatabase>, IDisposable
{
    private const int BlockBytes = 2 * 1024 * 1024;
    private const string PointQuery = "SELECT id, hex(payload) FROM items WHERE name = 'name-00123457'";

    private readonly LazyFilesFolder _folder = new("serverlessdb-vfs-cache-");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_point_query_by_index_fetching_only_pieces_returns_its_row_and_fetches_under_one_percent_of_the_file()
    {
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1");
        var piecesOnly = _folder.NewFiles(maxFetchBytes: LazyReadOptions.DefaultPieceBytes);
        using var lease = piecesOnly.Open(version, CancellationToken.None);

        Assert.Equal(QueryRow(PlainConnectionString(), PointQuery), QueryRow(lease.ConnectionString, PointQuery));
        output.WriteLine($"point query, pieces only: {version.Fetches} fetches, {version.FetchedBytes} bytes of {version.Length}");
        Assert.InRange(version.Fetches, 1, 8);
        Assert.True(version.FetchedBytes < version.Length / 100, $"{version.FetchedBytes} bytes in {version.Fetches} fetches, of {version.Length}");
        Assert.Null(lease.FirstFailure);
    }

    [Fact]
    public void A_point_query_with_the_default_fetch_sizes_costs_a_handful_of_fetches_at_most_one_whole_block()
    {
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1");
        using var lease = _folder.NewFiles().Open(version, CancellationToken.None);

        Assert.Equal(QueryRow(PlainConnectionString(), PointQuery), QueryRow(lease.ConnectionString, PointQuery));
        output.WriteLine($"point query, default fetch sizes: {version.Fetches} fetches, {version.FetchedBytes} bytes of {version.Length}");
        Assert.InRange(version.Fetches, 1, 8);
        Assert.True(
            version.FetchedBytes <= BlockBytes + 6 * LazyReadOptions.DefaultPieceBytes && version.FetchedBytes < version.Length / 30,
            $"{version.FetchedBytes} bytes in {version.Fetches} fetches, of {version.Length}");

        var fetchesBefore = version.Fetches;
        Assert.Equal(QueryRow(PlainConnectionString(), PointQuery), QueryRow(lease.ConnectionString, PointQuery));
        Assert.Equal(fetchesBefore, version.Fetches);
    }

    [Fact]
    public void A_full_scan_answers_as_the_plain_file_does()
    {
        const string sql = "SELECT count(*), sum(id), sum(length(payload)), hex(max(payload)), min(name) FROM items NOT INDEXED";
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1");
        using var lease = _folder.NewFiles().Open(version, CancellationToken.None);

        Assert.Equal(QueryRow(PlainConnectionString(), sql), QueryRow(lease.ConnectionString, sql));
        output.WriteLine($"full scan: {version.Fetches} fetches, {version.FetchedBytes} bytes of {version.Length}");
        Assert.Equal((object)(long)SampleDatabase.Rows, QueryRow(lease.ConnectionString, "SELECT count(*) FROM items")[0]);
    }

    [Fact]
    public void A_scan_that_outruns_its_read_ahead_waits_for_the_windows_in_flight_keeps_the_next_one_coming_and_fetches_each_block_once()
    {
        // A slow source: the scan reaches pieces that read-ahead has asked for but not yet brought. Waiting for them is
        // not a miss; a miss there would start a stream again from one piece and fetch parts of blocks twice.
        const string sql = "SELECT count(*), sum(length(payload)) FROM items NOT INDEXED";
        int inFlight = 0, mostInFlight = 0;
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1")
        {
            BeforeFetch = async token =>
            {
                var now = Interlocked.Increment(ref inFlight);
                InterlockedMax(ref mostInFlight, now);
                try
                {
                    await Task.Delay(100, token);
                }
                finally
                {
                    Interlocked.Decrement(ref inFlight);
                }
            },
        };
        using var lease = _folder.NewFiles().Open(version, CancellationToken.None);

        Assert.Equal(QueryRow(PlainConnectionString(), sql), QueryRow(lease.ConnectionString, sql));

        var blocks = version.Blocks.Count;
        output.WriteLine($"slow full scan: {version.Fetches} fetches for {blocks} blocks, {version.FetchedBytes} bytes of {version.Length}, at most {mostInFlight} in flight");
        Assert.InRange(version.Fetches, blocks, blocks + 12); // the first blocks come in growing pieces, then a fetch a block
        Assert.InRange(version.FetchedBytes, version.Length, version.Length + BlockBytes);

        // The reader waits inside one window while the next is in flight: more than one widest window's blocks at once.
        Assert.True(mostInFlight > LazyReadOptions.DefaultMaxFetchBytes / BlockBytes, $"at most {mostInFlight} fetches were in flight at once");
    }

    [Fact]
    public void Two_pinned_versions_open_at_once_each_see_only_their_own_content()
    {
        var first = Path.Combine(_folder.Path, "first.sqlite");
        var second = Path.Combine(_folder.Path, "second.sqlite");
        SampleDatabase.Build(first, "CREATE TABLE t(v TEXT)", "INSERT INTO t VALUES ('first version')");
        SampleDatabase.Build(second, "CREATE TABLE t(v TEXT)", "INSERT INTO t VALUES ('second version')");
        var files = _folder.NewFiles();
        using var firstVersion = new LocalFileVersion(first, BlockBytes, "etag-1");
        using var secondVersion = new LocalFileVersion(second, BlockBytes, "etag-2");
        using var firstLease = files.Open(firstVersion, CancellationToken.None);
        using var secondLease = files.Open(secondVersion, CancellationToken.None);
        using var firstConnection = Open(firstLease.ConnectionString);
        using var secondConnection = Open(secondLease.ConnectionString);

        Assert.Equal("first version", Scalar(firstConnection, "SELECT v FROM t"));
        Assert.Equal("second version", Scalar(secondConnection, "SELECT v FROM t"));
        Assert.Equal("first version", Scalar(firstConnection, "SELECT group_concat(v) FROM t"));
    }

    [Fact]
    public void A_cache_far_smaller_than_the_file_stays_within_its_budget_evicts_and_still_answers_right()
    {
        const long budget = 4 * 1024 * 1024;
        const string sql = "SELECT count(*), sum(length(payload)), hex(max(payload)) FROM items NOT INDEXED";
        var files = _folder.NewFiles(budget);
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1");
        long largestFolder = 0;
        version.BeforeFetch = _ =>
        {
            largestFolder = Math.Max(largestFolder, FolderBytes(files.Cache.Folder));
            return Task.CompletedTask;
        };
        using var lease = files.Open(version, CancellationToken.None);

        Assert.Equal(QueryRow(PlainConnectionString(), sql), QueryRow(lease.ConnectionString, sql));
        output.WriteLine($"full scan, {budget}-byte cache: {version.Fetches} fetches, {version.FetchedBytes} bytes of {version.Length}, {files.Cache.Evictions} evictions, largest folder {largestFolder}");
        Assert.InRange(largestFolder, 1, budget);
        Assert.InRange(FolderBytes(files.Cache.Folder), 1, budget);
        Assert.InRange(files.Cache.CachedBytes, 1, budget);
        Assert.True(files.Cache.Evictions > 0);
        Assert.True(version.FetchedBytes >= version.Length / 2, $"fetched {version.FetchedBytes} of {version.Length}");
    }

    [Fact]
    public void A_failing_source_fails_the_query_with_an_io_error_and_the_lease_keeps_the_cause()
    {
        var cause = new IOException("the bucket is on fire");
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1") { BeforeFetch = _ => throw cause };
        using var lease = _folder.NewFiles().Open(version, CancellationToken.None);

        var error = Assert.Throws<SqliteException>(() => QueryRow(lease.ConnectionString, "SELECT count(*) FROM items"));

        Assert.Equal(SqliteIoError, error.SqliteErrorCode);
        Assert.Same(cause, lease.FirstFailure);
        Assert.Same(cause, Assert.Throws<IOException>(lease.ThrowIfFailed));
    }

    [Fact]
    public void A_source_that_hangs_is_cut_at_the_lease_deadline()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var neverAnswers = new TaskCompletionSource();
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1") { BeforeFetch = _ => neverAnswers.Task };
        using var lease = _folder.NewFiles().Open(version, deadline.Token);

        var started = DateTime.UtcNow;
        var error = Assert.Throws<SqliteException>(() => QueryRow(lease.ConnectionString, "SELECT count(*) FROM items"));

        Assert.Equal(SqliteIoError, error.SqliteErrorCode);
        Assert.IsType<OperationCanceledException>(lease.FirstFailure, exactMatch: false);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "the read waited past its deadline");
    }

    [Fact]
    public void A_short_fetch_is_an_io_error_and_nothing_of_it_is_cached()
    {
        var files = _folder.NewFiles();
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1") { ReportShortBy = 1 };
        using (var lease = files.Open(version, CancellationToken.None))
        {
            var error = Assert.Throws<SqliteException>(() => QueryRow(lease.ConnectionString, "SELECT count(*) FROM items"));
            Assert.Equal(SqliteIoError, error.SqliteErrorCode);
            Assert.IsType<BlockFetchException>(lease.FirstFailure);
        }

        Assert.Equal(0, files.Cache.CachedBytes);
        version.ReportShortBy = 0;
        var fetchesBefore = version.Fetches;
        using var healthy = files.Open(version, CancellationToken.None);
        Assert.Equal((object)(long)SampleDatabase.Rows, QueryRow(healthy.ConnectionString, "SELECT count(*) FROM items")[0]);
        Assert.True(version.Fetches > fetchesBefore);
    }

    [Theory]
    [InlineData("INSERT INTO items(name, payload) VALUES ('new', x'00')")]
    [InlineData("CREATE TABLE other(x)")]
    [InlineData("DELETE FROM items WHERE id = 1")]
    public void The_connection_cannot_write(string sql)
    {
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1");
        using var lease = _folder.NewFiles().Open(version, CancellationToken.None);
        using var connection = Open(lease.ConnectionString);

        var error = Assert.Throws<SqliteException>(() => Scalar(connection, sql));

        Assert.Equal(SqliteReadOnly, error.SqliteErrorCode);
        Assert.Equal(SampleDatabase.Rows, Convert.ToInt32(Scalar(connection, "SELECT count(*) FROM items"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void The_connection_is_read_only_even_when_opened_for_writing()
    {
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1");
        using var lease = _folder.NewFiles().Open(version, CancellationToken.None);
        var readWrite = new SqliteConnectionStringBuilder(lease.ConnectionString) { Mode = SqliteOpenMode.ReadWrite }.ToString();
        using var connection = Open(readWrite);

        var error = Assert.Throws<SqliteException>(() => Scalar(connection, "INSERT INTO items(name, payload) VALUES ('new', x'00')"));

        Assert.Equal(SqliteReadOnly, error.SqliteErrorCode);
    }

    [Fact]
    public void A_disposed_lease_can_no_longer_be_opened()
    {
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1");
        var lease = _folder.NewFiles().Open(version, CancellationToken.None);
        lease.Dispose();

        var error = Assert.Throws<SqliteException>(() => QueryRow(lease.ConnectionString, "SELECT count(*) FROM items"));

        Assert.Equal(SqliteCantOpen, error.SqliteErrorCode);
        Assert.Equal(0, version.Fetches);
    }

    [Fact]
    public void A_temporary_table_larger_than_its_cache_lives_in_a_file_of_the_default_vfs()
    {
        const string copy = "CREATE TEMP TABLE copy AS SELECT id, payload FROM items WHERE id <= 20000";
        const string sum = "SELECT count(*), sum(id), hex(max(payload)) FROM copy";
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1");
        using var lease = _folder.NewFiles().Open(version, CancellationToken.None);
        using var lazy = Open(lease.ConnectionString);
        using var plain = Open(PlainConnectionString());
        foreach (var connection in (SqliteConnection[])[lazy, plain])
        {
            Scalar(connection, "PRAGMA temp_store = FILE");
            Scalar(connection, "PRAGMA temp.cache_size = 16");
            Scalar(connection, copy);
        }

        Assert.Equal(QueryRow(plain, sum), QueryRow(lazy, sum));
    }

    [Fact]
    public void A_database_in_wal_mode_is_read_from_its_main_file()
    {
        var path = Path.Combine(_folder.Path, "wal.sqlite");
        using (var writer = Open($"Data Source={path};Pooling=False"))
        {
            Scalar(writer, "PRAGMA journal_mode = WAL");
            Scalar(writer, "CREATE TABLE t(v TEXT)");
            Scalar(writer, "INSERT INTO t VALUES ('checkpointed')");
        }

        Assert.False(File.Exists(path + "-wal"));
        Assert.Equal(2, File.ReadAllBytes(path)[18]); // the header's file format versions say WAL
        using var version = new LocalFileVersion(path, BlockBytes, "wal");
        using var lease = _folder.NewFiles().Open(version, CancellationToken.None);

        Assert.Equal("checkpointed", QueryRow(lease.ConnectionString, "SELECT v FROM t")[0]);
    }

    private string PlainConnectionString() => new SqliteConnectionStringBuilder { DataSource = sample.FilePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();

    private static long FolderBytes(string folder)
    {
        long total = 0;
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles())
        {
            try
            {
                total += file.Length;
            }
            catch (FileNotFoundException)
            {
                // evicted between the listing and the look at its size
            }
        }

        return total;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var found && found != seen)
        {
            seen = found;
        }
    }
}
