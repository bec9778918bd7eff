using System.Security.Cryptography;

using Microsoft.Data.Sqlite;

using Xunit.Abstractions;

using ServerlessDb.Vfs;

using static ServerlessDb.UnitTests.Vfs.SqliteCalls;

namespace ServerlessDb.UnitTests.Vfs;

/// <summary>
/// Real SQLite writing to a pinned version through a write lease's copy-on-write overlay, each result checked
/// against the same SQL run on a full copy of the file: the file the lease assembles must be the same bytes.
/// </summary>
/// <remarks>
/// SQLite is deterministic here: the same statements on the same bytes, with the same page size, cache size and
/// journal mode, write the same pages (the change counter included), and no statement draws random numbers, so
/// equal bytes is what the overlay must give.
/// </remarks>
public sealed class LazyWriteTests(SampleDatabase sample, ITestOutputHelper output) : IClassFixture<SampleDatabase>, IDisposable
{
    private const int BlockBytes = 2 * 1024 * 1024;
    private const string ContentQuery = "SELECT id, name, payload FROM items ORDER BY id";
    private const string OneRowUpdate = "UPDATE items SET payload = zeroblob(480) WHERE name = 'name-00123457'";
    private const string OneRowInsert = "INSERT INTO items(name, payload) VALUES ('name-new-row', x'0102030405')";

    private readonly LazyFilesFolder _folder = new("serverlessdb-vfs-write-");

    private string OverlayFolder => Path.Combine(_folder.Path, "overlays");

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(LazyReadOptions.DefaultPieceBytes, 2L * 1024 * 1024)]
    [InlineData(LazyReadOptions.DefaultMaxFetchBytes, 4L * BlockBytes)]
    public async Task A_one_row_update_and_insert_on_the_sample_keep_a_few_units_and_assemble_to_what_a_full_copy_gives(int maxFetchBytes, long mostFetchedBytes)
    {
        string[] sql = [OneRowUpdate, OneRowInsert];
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1");
        using var lease = _folder.NewFiles(maxFetchBytes: maxFetchBytes).OpenForWrite(version, OverlayFolder, CancellationToken.None);

        Write(lease, sql);
        var fetchedByTheWrite = version.FetchedBytes;
        var ranges = lease.ChangedRanges();
        output.WriteLine($"one-row update + insert, fetches of at most {maxFetchBytes} bytes: overlay {lease.OverlayBytes} bytes, fetched {fetchedByTheWrite} bytes in {version.Fetches} fetches of {version.Length}, changed {Describe(ranges)}");

        Assert.InRange(lease.OverlayBytes, CopyOnWriteOverlay.UnitBytes, 16 * CopyOnWriteOverlay.UnitBytes);
        Assert.InRange(fetchedByTheWrite, 1, mostFetchedBytes);
        Assert.InRange(ranges.Sum(range => range.Length), CopyOnWriteOverlay.UnitBytes, 16 * CopyOnWriteOverlay.UnitBytes);
        Assert.Equal(version.Length, lease.Length);
        Assert.Null(lease.FirstFailure);

        var expected = RunOnFullCopy(sample.FilePath, sql);
        var assembled = await AssembleAsync(lease);
        AssertSameDatabase(expected, assembled);
        AssertDifferencesWithin(ranges, sample.FilePath, assembled);
        Assert.Equal([1L, "0102030405"], QueryFile(assembled, "SELECT (SELECT payload = zeroblob(480) FROM items WHERE name = 'name-00123457'), (SELECT hex(payload) FROM items WHERE name = 'name-new-row')"));
        Assert.Equal(SampleDatabase.Rows + 1, Convert.ToInt32(QueryFile(assembled, "SELECT count(*) FROM items")[0]));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_rolled_back_transaction_assembles_to_the_base_byte_for_byte(bool spillPagesBeforeTheRollback)
    {
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1");
        using var lease = _folder.NewFiles().OpenForWrite(version, OverlayFolder, CancellationToken.None);

        // A page cache of 10 pages cannot hold 5000 changed rows: SQLite writes changed pages to the file before
        // the transaction ends, and the rollback writes the base's pages back over them.
        Write(lease, spillPagesBeforeTheRollback
            ? ["PRAGMA cache_size = 10", "BEGIN", "UPDATE items SET payload = zeroblob(480) WHERE id <= 5000", "ROLLBACK"]
            : ["BEGIN", OneRowUpdate, "ROLLBACK"]);
        var ranges = lease.ChangedRanges();
        output.WriteLine($"rollback (spilled: {spillPagesBeforeTheRollback}): overlay {lease.OverlayBytes} bytes, changed {Describe(ranges)}");

        Assert.Equal(spillPagesBeforeTheRollback, ranges.Count > 0);
        Assert.Equal(version.Length, lease.Length);
        Assert.Empty(DifferingRuns(sample.FilePath, await AssembleAsync(lease)));
    }

    [Fact]
    public async Task Inserting_a_lot_grows_the_file_past_its_base_into_what_a_full_copy_gives()
    {
        string[] sql = ["INSERT INTO items(name, payload) SELECT 'grown-' || id, zeroblob(480) FROM items WHERE id <= 20000"];
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1");
        using var lease = _folder.NewFiles().OpenForWrite(version, OverlayFolder, CancellationToken.None);

        Write(lease, sql);
        var ranges = lease.ChangedRanges();
        output.WriteLine($"growth: {version.Length} -> {lease.Length} bytes, overlay {lease.OverlayBytes} bytes, fetched {version.FetchedBytes} bytes, changed {Describe(ranges)}");

        Assert.True(lease.Length > version.Length + 5 * 1024 * 1024, $"{lease.Length} bytes, the base {version.Length}");
        Assert.Equal(lease.Length, ranges[^1].Offset + ranges[^1].Length);
        Assert.True(ranges[^1].Offset <= version.Length);
        var assembled = await AssembleAsync(lease);
        AssertSameDatabase(RunOnFullCopy(sample.FilePath, sql), assembled);
        AssertDifferencesWithin(ranges, sample.FilePath, assembled);
        Assert.Equal(SampleDatabase.Rows + 20000, Convert.ToInt32(QueryFile(assembled, "SELECT count(*) FROM items")[0]));
    }

    [Theory]
    [InlineData("PRAGMA incremental_vacuum")]
    [InlineData("VACUUM")]
    public async Task Deleting_and_vacuuming_shrinks_the_file_into_what_a_full_copy_gives(string vacuum)
    {
        var basePath = Path.Combine(_folder.Path, "incremental.sqlite");
        BuildRows(basePath, pageSize: 4096, rows: 20000, "PRAGMA auto_vacuum = INCREMENTAL");
        string[] sql = ["DELETE FROM items WHERE id > 2000", vacuum];
        using var version = new LocalFileVersion(basePath, BlockBytes, "shrink");
        using var lease = _folder.NewFiles().OpenForWrite(version, OverlayFolder, CancellationToken.None);

        Write(lease, sql);
        output.WriteLine($"{vacuum}: {version.Length} -> {lease.Length} bytes, overlay {lease.OverlayBytes} bytes, changed {Describe(lease.ChangedRanges())}");

        Assert.True(lease.Length < version.Length / 2, $"{lease.Length} bytes, the base {version.Length}");
        var assembled = await AssembleAsync(lease);
        AssertSameDatabase(RunOnFullCopy(basePath, sql), assembled);
        AssertDifferencesWithin(lease.ChangedRanges(), basePath, assembled);
        Assert.Equal(2000, Convert.ToInt32(QueryFile(assembled, "SELECT count(*) FROM items")[0]));
    }

    [Theory]
    [InlineData(512)]
    [InlineData(65536)]
    public async Task Pages_smaller_or_larger_than_a_unit_are_written_whole_and_assemble_to_what_a_full_copy_gives(int pageSize)
    {
        var basePath = Path.Combine(_folder.Path, $"pages-{pageSize}.sqlite");
        BuildRows(basePath, pageSize, rows: 5000);
        string[] sql = ["UPDATE items SET payload = zeroblob(100) WHERE id % 97 = 0", "INSERT INTO items(name, payload) VALUES ('new', x'ff')", "DELETE FROM items WHERE id BETWEEN 100 AND 120"];
        using var version = new LocalFileVersion(basePath, BlockBytes, $"pages-{pageSize}");
        using var lease = _folder.NewFiles().OpenForWrite(version, OverlayFolder, CancellationToken.None);

        Write(lease, sql);

        var assembled = await AssembleAsync(lease);
        AssertSameDatabase(RunOnFullCopy(basePath, sql), assembled);
        AssertDifferencesWithin(lease.ChangedRanges(), basePath, assembled);
        Assert.Equal(pageSize, Convert.ToInt32(QueryFile(assembled, "PRAGMA page_size")[0]));
    }

    [Fact]
    public async Task A_failing_fetch_fails_the_write_with_an_io_error_keeps_the_cause_and_changes_nothing()
    {
        var cause = new IOException("the bucket is on fire");
        var failing = false;
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1") { BeforeFetch = _ => failing ? throw cause : Task.CompletedTask };
        using var lease = _folder.NewFiles(maxFetchBytes: LazyReadOptions.DefaultPieceBytes).OpenForWrite(version, OverlayFolder, CancellationToken.None);
        using (var connection = OpenForWriting(lease))
        {
            Assert.Equal(SampleDatabase.Rows, Convert.ToInt32(Scalar(connection, "SELECT max(id) FROM items")));
            failing = true;

            var error = Assert.Throws<SqliteException>(() => Scalar(connection, OneRowUpdate));

            Assert.Equal(SqliteIoError, error.SqliteErrorCode);
        }

        Assert.Same(cause, lease.FirstFailure);
        Assert.Same(cause, Assert.Throws<IOException>(lease.ThrowIfFailed));
        failing = false;
        Assert.Empty(DifferingRuns(sample.FilePath, await AssembleAsync(lease)));
    }

    [Fact]
    public void A_write_the_overlay_cannot_keep_fails_with_an_io_error_and_the_lease_keeps_the_cause()
    {
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1");
        var lease = _folder.NewFiles().OpenForWrite(version, OverlayFolder, CancellationToken.None);
        using var connection = OpenForWriting(lease);
        Assert.Equal(SampleDatabase.Rows, Convert.ToInt32(Scalar(connection, "SELECT max(id) FROM items")));

        // Disposed under an open connection: its overlay file is closed, so the commit's writes cannot land.
        lease.Dispose();
        var error = Assert.Throws<SqliteException>(() => Scalar(connection, OneRowInsert));

        Assert.Equal(SqliteIoError, error.SqliteErrorCode);
        Assert.IsType<ObjectDisposedException>(lease.FirstFailure);
    }

    [Fact]
    public void A_database_in_wal_format_is_refused_cleanly_since_wal_needs_shared_memory_the_vfs_does_not_offer()
    {
        var path = Path.Combine(_folder.Path, "wal.sqlite");
        using (var writer = Open($"Data Source={path};Pooling=False"))
        {
            Scalar(writer, "PRAGMA journal_mode = WAL");
            Scalar(writer, "CREATE TABLE t(v TEXT)");
        }

        using var version = new LocalFileVersion(path, BlockBytes, "wal");
        using var lease = _folder.NewFiles().OpenForWrite(version, OverlayFolder, CancellationToken.None);
        using var connection = Open(lease.ConnectionString);

        var error = Assert.Throws<SqliteException>(() => Scalar(connection, "PRAGMA journal_mode=MEMORY"));

        output.WriteLine(error.Message);
        Assert.Equal(SqliteCantOpen, error.SqliteErrorCode);
        connection.Close();
        Assert.Empty(lease.ChangedRanges());
    }

    [Fact]
    public void Without_a_journal_in_memory_a_write_is_refused_since_no_journal_file_can_be_opened()
    {
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1");
        using var lease = _folder.NewFiles().OpenForWrite(version, OverlayFolder, CancellationToken.None);
        using var connection = Open(lease.ConnectionString);

        var error = Assert.Throws<SqliteException>(() => Scalar(connection, OneRowInsert));

        Assert.Equal(SqliteCantOpen, error.SqliteErrorCode);
        connection.Close();
        Assert.Empty(lease.ChangedRanges());
        Assert.Equal(0, lease.OverlayBytes);
    }

    [Fact]
    public async Task A_lease_serves_one_connection_at_a_time_and_is_read_only_once_it_is_closed()
    {
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1");
        using var lease = _folder.NewFiles().OpenForWrite(version, OverlayFolder, CancellationToken.None);
        using (var first = OpenForWriting(lease))
        {
            Scalar(first, OneRowInsert);

            Assert.Equal(SqliteCantOpen, Assert.Throws<SqliteException>(() => Open(lease.ConnectionString)).SqliteErrorCode);
            Assert.Throws<InvalidOperationException>(() => lease.ChangedRanges());
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await lease.ReadAsync(0, new byte[100], CancellationToken.None));
        }

        using (var second = OpenForWriting(lease))
        {
            Assert.Equal("name-new-row", Scalar(second, "SELECT name FROM items ORDER BY id DESC LIMIT 1"));
        }

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await lease.ReadAsync(lease.Length - 10, new byte[11], CancellationToken.None));
        var tail = new byte[10];
        await lease.ReadAsync(lease.Length - 10, tail, CancellationToken.None);
    }

    [Fact]
    public void Disposing_the_lease_deletes_its_overlay_and_forgets_its_name()
    {
        using var version = new LocalFileVersion(sample.FilePath, BlockBytes, "v1");
        var lease = _folder.NewFiles().OpenForWrite(version, OverlayFolder, CancellationToken.None);
        Write(lease, [OneRowInsert]);
        Assert.True(File.Exists(lease.OverlayPath));
        Assert.True(lease.OverlayBytes > 0);

        lease.Dispose();

        Assert.False(File.Exists(lease.OverlayPath));
        Assert.Empty(Directory.EnumerateFiles(OverlayFolder));
        Assert.Equal(SqliteCantOpen, Assert.Throws<SqliteException>(() => Open(lease.ConnectionString)).SqliteErrorCode);
    }

    /// <summary>A database of <paramref name="rows"/> rows of <c>items</c> with deterministic payloads, at the given page size.</summary>
    private static void BuildRows(string path, int pageSize, int rows, params string[] settings) =>
        SampleDatabase.Build(path, [
            $"PRAGMA page_size = {pageSize}",
            .. settings,
            "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, payload BLOB NOT NULL)",
            $"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) INSERT INTO items SELECT i, printf('name-%08d', i), zeroblob(400) || printf('%08d', i) FROM n",
            "CREATE INDEX items_by_name ON items(name)"]);

    /// <summary>Runs <paramref name="sql"/> on the lease as the engine runs a write: journal in memory, no syncs.</summary>
    private static void Write(LazyWriteLease lease, string[] sql)
    {
        using var connection = OpenForWriting(lease);
        foreach (var statement in sql)
        {
            Scalar(connection, statement);
        }
    }

    /// <summary>Runs <paramref name="sql"/> as <see cref="Write"/> does, on a full copy of <paramref name="basePath"/>, and returns the copy.</summary>
    private string RunOnFullCopy(string basePath, string[] sql)
    {
        var copy = Path.Combine(_folder.Path, $"full-copy-{Guid.NewGuid():N}.sqlite");
        File.Copy(basePath, copy);
        using var connection = Open($"Data Source={copy};Mode=ReadWrite;Pooling=False");
        foreach (var statement in (string[])["PRAGMA journal_mode=MEMORY", "PRAGMA synchronous=OFF", .. sql])
        {
            Scalar(connection, statement);
        }

        return copy;
    }

    private static SqliteConnection OpenForWriting(LazyWriteLease lease)
    {
        var connection = Open(lease.ConnectionString);
        Assert.Equal("memory", Scalar(connection, "PRAGMA journal_mode=MEMORY"));
        Scalar(connection, "PRAGMA synchronous=OFF");
        return connection;
    }

    /// <summary>The new file, written out from the lease's <see cref="LazyWriteLease.Length"/> and reads, a MiB at a time.</summary>
    private async Task<string> AssembleAsync(LazyWriteLease lease)
    {
        var path = Path.Combine(_folder.Path, $"assembled-{Guid.NewGuid():N}.sqlite");
        await using var file = File.Create(path);
        var buffer = new byte[1024 * 1024];
        for (long offset = 0; offset < lease.Length; offset += buffer.Length)
        {
            var part = buffer.AsMemory(0, (int)Math.Min(buffer.Length, lease.Length - offset));
            await lease.ReadAsync(offset, part, CancellationToken.None);
            await file.WriteAsync(part);
        }

        return path;
    }

    /// <summary>Same bytes, a sound database, and the same rows (the rows also when opened normally, as a check on the check).</summary>
    private static void AssertSameDatabase(string expectedPath, string actualPath)
    {
        Assert.Empty(DifferingRuns(expectedPath, actualPath));
        Assert.Equal("ok", QueryFile(actualPath, "PRAGMA integrity_check")[0]);
        Assert.Equal(ContentHash(expectedPath), ContentHash(actualPath));
    }

    /// <summary>
    /// Every byte of <paramref name="resultPath"/> that differs from <paramref name="basePath"/> (its growth included,
    /// the base's bytes past a shrunk result's end not being the result's) lies in one of <paramref name="ranges"/>.
    /// </summary>
    private void AssertDifferencesWithin(IReadOnlyList<(long Offset, long Length)> ranges, string basePath, string resultPath)
    {
        Assert.Equal(ranges.OrderBy(range => range.Offset), ranges);
        Assert.All(ranges.Zip(ranges.Skip(1)), pair => Assert.True(pair.First.Offset + pair.First.Length < pair.Second.Offset, "ranges not merged"));
        var resultLength = new FileInfo(resultPath).Length;
        var differences = DifferingRuns(basePath, resultPath).Where(run => run.Offset < resultLength).ToList();
        output.WriteLine($"differing from the base: {differences.Count} runs, {differences.Sum(run => run.Length)} bytes");
        Assert.All(differences, run => Assert.Contains(ranges, range => range.Offset <= run.Offset && run.Offset + run.Length <= range.Offset + range.Length));
    }

    /// <summary>The runs of bytes where the files differ, a longer file's tail being one.</summary>
    private static List<(long Offset, long Length)> DifferingRuns(string firstPath, string secondPath)
    {
        using var first = File.OpenRead(firstPath);
        using var second = File.OpenRead(secondPath);
        var runs = new List<(long Offset, long Length)>();
        var firstBuffer = new byte[1024 * 1024];
        var secondBuffer = new byte[firstBuffer.Length];
        var common = Math.Min(first.Length, second.Length);
        for (long offset = 0; offset < common; offset += firstBuffer.Length)
        {
            var count = (int)Math.Min(firstBuffer.Length, common - offset);
            first.ReadExactly(firstBuffer, 0, count);
            second.ReadExactly(secondBuffer, 0, count);
            for (var at = 0; at < count; at++)
            {
                if (firstBuffer[at] == secondBuffer[at])
                {
                    continue;
                }

                if (runs.Count > 0 && runs[^1].Offset + runs[^1].Length == offset + at)
                {
                    runs[^1] = (runs[^1].Offset, runs[^1].Length + 1);
                }
                else
                {
                    runs.Add((offset + at, 1));
                }
            }
        }

        if (first.Length != second.Length)
        {
            runs.Add((common, Math.Abs(first.Length - second.Length)));
        }

        return runs;
    }

    private static string ContentHash(string path)
    {
        using var connection = Open(ReadOnly(path));
        using var command = new SqliteCommand(ContentQuery, connection);
        using var reader = command.ExecuteReader();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        while (reader.Read())
        {
            hash.AppendData(BitConverter.GetBytes(reader.GetInt64(0)));
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(reader.GetString(1)));
            hash.AppendData(reader.GetFieldValue<byte[]>(2));
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private static string Describe(IReadOnlyList<(long Offset, long Length)> ranges) =>
        $"{ranges.Count} ranges, {ranges.Sum(range => range.Length)} bytes: {string.Join(", ", ranges.Take(8).Select(range => $"{range.Offset}+{range.Length}"))}{(ranges.Count > 8 ? ", ..." : "")}";

    /// <summary>The first row <paramref name="sql"/> returns on the database file at <paramref name="path"/>, opened normally.</summary>
    private static object?[] QueryFile(string path, string sql) => QueryRow(ReadOnly(path), sql);

    private static string ReadOnly(string path) => $"Data Source={path};Mode=ReadOnly;Pooling=False";
}
