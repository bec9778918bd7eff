using Microsoft.Data.Sqlite;
using ServerlessDb.Configuration;
using ServerlessDb.Storage;
using ServerlessDb.UnitTests.Support;
using ServerlessDb.UnitTests.Vfs;
using ServerlessDb.Vfs;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>
/// The store's read side by range: a database committed through the one store, pinned by <see cref="PinnedVersions"/>
/// over the object port and queried through the lazy VFS, fetches a few ranges, not the file, and never reads another
/// version's bytes.
/// </summary>
public sealed class PinnedVersionsTests : IDisposable
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

    private DatabaseStore Store(int? chunkSize) => new(
        _bucket, links: null, new StoreOptions("databases/", TimeSpan.FromSeconds(5), ServerlessDbOptions.DefaultCacheMaxBytes, chunkSize),
        CacheFolder.Claim(Path.Combine(_root, "cache-" + Guid.NewGuid().ToString("N"))));

    private PinnedVersions Pinned() => new(_bucket, "databases/", TimeProvider.System, TimeSpan.FromSeconds(5));

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
        var file = NewDatabase();
        var copy = file + ".commit";
        File.Copy(file, copy);
        await Store(chunkSize).CommitAsync(Db, DatabaseETag.Missing, copy, CancellationToken.None);
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
        var cause = Assert.IsType<ObjectBackendException>(lease.FirstFailure);
        Assert.Equal(ObjectBackendFailure.ConditionFailed, cause.Failure);
    }

    [Fact]
    public async Task A_database_that_does_not_exist_pins_nothing()
    {
        Assert.Null(await Pinned().PinCurrentAsync("nothing", CancellationToken.None));
    }
}
