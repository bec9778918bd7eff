using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using ServerlessDb.Errors;
using ServerlessDb.Storage;
using ServerlessDb.Storage.Chunked;
using ServerlessDb.Storage.LocalFolder;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>The chunked layout in the local folder store, with real SQLite files in a temporary folder.</summary>
public sealed class LocalFolderChunkedTests : IDisposable
{
    private const string Db = "inventory";
    private const int ChunkSize = ChunkManifest.ChunkAlignment;
    private const int Rows = 300;
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    private readonly string _root = Directory.CreateTempSubdirectory("serverlessdb-local-chunked-").FullName;
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    private string DataFolder => Path.Combine(_root, "data");

    private string DataFile => Path.Combine(DataFolder, Db + ".sqlite");

    private string ChunksFolder => Path.Combine(DataFolder, ".chunks", Db);

    /// <summary>A store as one process would have it: the shared data folder, its own cache folder; chunked unless <paramref name="chunkSize"/> is null.</summary>
    private LocalFolderDatabaseStore NewStore(string process = "a", int? chunkSize = ChunkSize, int versionsKept = LocalVersionRetention.DefaultVersionsKept, TimeProvider? time = null) =>
        new(DataFolder, Path.Combine(_root, "cache-" + process), 256L * 1024 * 1024, time ?? _time, retention: new LocalVersionRetention(versionsKept), chunkSize: chunkSize);

    /// <summary>A real database of <see cref="Rows"/> rows, one 4 KiB page each (about 1.2 MB, so about 19 chunks).</summary>
    private string NewDatabase()
    {
        var path = NewPath();
        Run(path,
            "PRAGMA page_size = 4096",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)",
            $"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {Rows}) INSERT INTO t SELECT i, randomblob(3000) FROM n");
        return path;
    }

    /// <summary>A working copy of <paramref name="from"/> with one row rewritten in place (same size, so only its page and the header page change).</summary>
    private string OneRowChanged(string from, int id)
    {
        var path = NewPath();
        File.Copy(from, path);
        Run(path, $"UPDATE t SET v = randomblob(3000) WHERE id = {id}");
        return path;
    }

    /// <summary>Commits a copy of <paramref name="path"/> (a commit moves its working copy into the cache), keeping the original to compare with.</summary>
    private async Task<StoredVersion> CommitAsync(LocalFolderDatabaseStore store, StoredVersion basedOn, string path)
    {
        var working = NewPath();
        File.Copy(path, working);
        return (await store.CommitAsync(Db, basedOn, working, CancellationToken.None)).Version;
    }

    private string NewPath() => Path.Combine(_root, Guid.NewGuid().ToString("N") + ".sqlite");

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

    private static long RowCount(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = new SqliteCommand("SELECT count(*) FROM t", connection);
        return (long)command.ExecuteScalar()!;
    }

    private Dictionary<string, (long Length, DateTime Written)> ChunkFiles() =>
        Directory.Exists(ChunksFolder)
            ? new DirectoryInfo(ChunksFolder).EnumerateFiles().ToDictionary(f => f.Name, f => (f.Length, f.LastWriteTimeUtc))
            : [];

    private ChunkManifest StoredManifest(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal((byte)'{', bytes[0]);
        return ChunkManifest.Parse(bytes);
    }

    private static async Task<(byte[] Content, SnapshotFetch Fetch)> ReadAsync(LocalFolderDatabaseStore store)
    {
        using var snapshot = await store.GetAsync(Db, maxStaleness: null, CancellationToken.None);
        return (File.ReadAllBytes(snapshot.FilePath), snapshot.Fetch);
    }

    private static string[] CachedFiles(LocalFolderDatabaseStore store)
    {
        var folder = Path.Combine(store.CacheFolder.CacheDirectory, Db);
        return Directory.Exists(folder) ? Directory.GetFiles(folder) : [];
    }

    [Fact]
    public async Task A_chunked_commit_stores_a_manifest_and_its_chunks_and_reads_back_byte_for_byte_in_another_process()
    {
        var working = NewDatabase();
        var version = await CommitAsync(NewStore("a"), StoredVersion.Missing, working);

        var manifest = StoredManifest(DataFile);
        Assert.Equal(new FileInfo(working).Length, manifest.Length);
        Assert.Equal(4096, manifest.PageSize);
        Assert.True(manifest.Chunks.Count > 10);
        Assert.Equal(manifest.Chunks.Select(c => c.Sha256).Order(), ChunkFiles().Keys.Order());
        Assert.All(manifest.Chunks, c => Assert.Equal(c.Length, ChunkFiles()[c.Sha256].Length));

        var other = NewStore("b");
        var (content, fetch) = await ReadAsync(other);
        Assert.Equal(File.ReadAllBytes(working), content);
        Assert.Equal(SnapshotSource.Downloaded, fetch.Source);
        Assert.Equal(new FileInfo(DataFile).Length + manifest.Length, fetch.BytesDownloaded);
        Assert.Equal(version, (await other.CurrentVersionAsync(Db, default)));
    }

    [Fact]
    public async Task A_one_row_change_writes_at_most_two_chunks_plus_the_manifest()
    {
        var store = NewStore();
        var first = NewDatabase();
        var v1 = await CommitAsync(store, StoredVersion.Missing, first);
        var before = ChunkFiles();
        _time.Advance(TimeSpan.FromMinutes(1));

        var second = OneRowChanged(first, id: 150);
        await CommitAsync(store, v1, second);

        var after = ChunkFiles();
        var added = after.Keys.Except(before.Keys).ToList();
        Assert.InRange(added.Count, 1, 2);
        Assert.InRange(added.Sum(name => after[name].Length), 1, 2L * ChunkSize);

        // The chunks the base held were neither written again nor touched.
        Assert.All(before, old => Assert.Equal(old.Value, after[old.Key]));
        Assert.Equal(File.ReadAllBytes(second), (await ReadAsync(NewStore("fresh"))).Content);
    }

    [Fact]
    public async Task A_reader_whose_cache_another_process_made_stale_copies_only_the_changed_chunks()
    {
        var writer = NewStore("writer");
        var reader = NewStore("reader");
        var first = NewDatabase();
        var v1 = await CommitAsync(writer, StoredVersion.Missing, first);
        Assert.Equal(File.ReadAllBytes(first), (await ReadAsync(reader)).Content);

        var second = OneRowChanged(first, id: 7);
        await CommitAsync(writer, v1, second);
        var (content, fetch) = await ReadAsync(reader);

        Assert.Equal(File.ReadAllBytes(second), content);
        var manifestBytes = new FileInfo(DataFile).Length;
        Assert.InRange(fetch.BytesDownloaded, manifestBytes + 1, manifestBytes + (2L * ChunkSize));
        Assert.Equal(manifestBytes + new FileInfo(second).Length, (await ReadAsync(NewStore("cold"))).Fetch.BytesDownloaded);
    }

    [Fact]
    public async Task A_database_converts_to_chunks_on_a_chunked_commit_and_back_to_a_file_on_a_whole_commit()
    {
        var whole = NewStore("whole", chunkSize: null);
        var chunked = NewStore("chunked");
        var first = NewDatabase();
        var v1 = await CommitAsync(whole, StoredVersion.Missing, first);
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(DataFile));
        Assert.Empty(ChunkFiles());
        Assert.Equal(File.ReadAllBytes(first), (await ReadAsync(chunked)).Content);

        var second = OneRowChanged(first, id: 1);
        var v2 = await CommitAsync(chunked, v1, second);
        Assert.Equal(new FileInfo(second).Length, StoredManifest(DataFile).Length);
        var (assembled, _) = await ReadAsync(whole);
        Assert.Equal(File.ReadAllBytes(second), assembled);

        var third = OneRowChanged(second, id: 2);
        await CommitAsync(whole, v2, third);
        Assert.Equal(File.ReadAllBytes(third), File.ReadAllBytes(DataFile));
        Assert.True(DatabaseFileHeader.StartsWithMagic(File.ReadAllBytes(DataFile)));
        using var snapshot = await chunked.GetAsync(Db, maxStaleness: null, default);
        Assert.Equal(File.ReadAllBytes(third), File.ReadAllBytes(snapshot.FilePath));
        Assert.Equal(Rows, RowCount(snapshot.FilePath));
    }

    [Fact]
    public async Task A_kept_manifest_version_reads_back_as_its_database()
    {
        var store = NewStore();
        var first = NewDatabase();
        var v1 = await CommitAsync(store, StoredVersion.Missing, first);
        _time.Advance(TimeSpan.FromMinutes(1));
        var v2 = await CommitAsync(store, v1, OneRowChanged(first, id: 3));
        _time.Advance(TimeSpan.FromMinutes(1));
        await CommitAsync(NewStore("whole", chunkSize: null), v2, OneRowChanged(first, id: 4));

        var kept = Directory.GetFiles(store.VersionsFolderOf(Db)).Single(f => f.Contains(v1.ETag!, StringComparison.Ordinal));
        Assert.Equal((byte)'{', File.ReadAllBytes(kept)[0]);
        foreach (var reader in new[] { store, NewStore("other") })
        {
            using var snapshot = await reader.GetVersionAsync(Db, v1.ETag!, default);
            Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(snapshot.FilePath));
            Assert.Equal(Rows, RowCount(snapshot.FilePath));
        }
    }

    [Fact]
    public async Task The_prune_deletes_only_chunks_no_kept_version_names_once_past_the_grace()
    {
        // One replaced version kept, pruned on every commit.
        var store = NewStore(versionsKept: 1);
        var first = NewDatabase();
        var v1 = await CommitAsync(store, StoredVersion.Missing, first);
        var chunks1 = StoredManifest(DataFile).Chunks.Select(c => c.Sha256).ToHashSet();
        var second = OneRowChanged(first, id: 10);
        var v2 = await CommitAsync(store, v1, second);
        var third = OneRowChanged(second, id: 20);
        var v3 = await CommitAsync(store, v2, third);
        var chunks3 = StoredManifest(DataFile).Chunks.Select(c => c.Sha256).ToHashSet();
        var onlyInFirst = chunks1.Except(chunks3).ToList();
        Assert.NotEmpty(onlyInFirst);

        // v1 is pruned and names chunks no kept version names, but they are younger than the grace.
        Assert.All(onlyInFirst, sha => Assert.True(ChunkFiles().ContainsKey(sha)));

        _time.Advance(LocalFolderDatabaseStore.ChunkGracePeriod + TimeSpan.FromMinutes(1));
        var oldOrphan = Path.Combine(ChunksFolder, new string('a', 64));
        File.WriteAllBytes(oldOrphan, [1, 2, 3]);
        File.SetLastWriteTimeUtc(oldOrphan, Start.UtcDateTime);
        var freshOrphan = Path.Combine(ChunksFolder, new string('b', 64));
        File.WriteAllBytes(freshOrphan, [4, 5, 6]);
        File.SetLastWriteTimeUtc(freshOrphan, _time.GetUtcNow().UtcDateTime);
        var fourth = OneRowChanged(third, id: 30);
        await CommitAsync(store, v3, fourth);

        // Kept now: v4 (current) and v3; v3's chunks are as old as v1's, and stay.
        var chunks4 = StoredManifest(DataFile).Chunks.Select(c => c.Sha256).ToHashSet();
        var named = chunks3.Union(chunks4).ToHashSet();
        var left = ChunkFiles().Keys.ToHashSet();
        Assert.Subset(left, named);
        Assert.NotEmpty(chunks3.Except(chunks4));
        Assert.Equal(named.Append(freshOrphan[^64..]).Order(), left.Order());
        Assert.False(File.Exists(oldOrphan));
        Assert.All(onlyInFirst, sha => Assert.DoesNotContain(sha, left));

        using var kept = await NewStore("other").GetVersionAsync(Db, v3.ETag!, default);
        Assert.Equal(File.ReadAllBytes(third), File.ReadAllBytes(kept.FilePath));
    }

    [Fact]
    public async Task A_commit_whose_chunks_a_prune_collected_before_it_took_the_lock_stores_them_again()
    {
        // The real clock: the commit waits for the lock file with real delays.
        var store = NewStore(time: TimeProvider.System);
        var first = NewDatabase();
        var v1 = await CommitAsync(store, StoredVersion.Missing, first);
        var second = OneRowChanged(first, id: 42);
        var toStore = (await ChunkedFiles.DescribeAsync(second, ChunkSize, StoredManifest(DataFile), default)).ToUpload;
        Assert.NotEmpty(toStore);

        Task<StoredVersion> commit;
        using (LockFile.TryAcquire(DataFile + ".lock") ?? throw new InvalidOperationException("The lock file is held."))
        {
            commit = CommitAsync(store, v1, second);
            await Bounded.WaitUntilAsync(() => toStore.All(c => File.Exists(Path.Combine(ChunksFolder, c.Sha256))), "the commit stored its new chunks");

            // What a prune in another process would do to a commit slower than the grace.
            foreach (var chunk in toStore)
            {
                File.Delete(Path.Combine(ChunksFolder, chunk.Sha256));
            }

            Assert.False(commit.IsCompleted);
        }

        await commit;
        Assert.All(toStore, c => Assert.True(File.Exists(Path.Combine(ChunksFolder, c.Sha256))));
        Assert.Equal(File.ReadAllBytes(second), (await ReadAsync(NewStore("fresh"))).Content);
    }

    [Fact]
    public async Task A_manifest_naming_a_missing_chunk_is_a_corrupt_database_and_nothing_is_cached()
    {
        await CommitAsync(NewStore("a"), StoredVersion.Missing, NewDatabase());
        var lost = StoredManifest(DataFile).Chunks[5];
        File.Delete(Path.Combine(ChunksFolder, lost.Sha256));
        var reader = NewStore("b");

        var corrupt = await Assert.ThrowsAsync<DatabaseCorruptException>(() => reader.GetAsync(Db, maxStaleness: null, default));

        Assert.Contains(lost.Sha256, corrupt.Message);
        Assert.Empty(CachedFiles(reader));
    }

    [Fact]
    public async Task A_chunk_whose_bytes_differ_from_its_manifest_is_a_corrupt_database()
    {
        await CommitAsync(NewStore("a"), StoredVersion.Missing, NewDatabase());
        var damaged = Path.Combine(ChunksFolder, StoredManifest(DataFile).Chunks[3].Sha256);
        var bytes = File.ReadAllBytes(damaged);
        bytes[100] ^= 0xFF;
        File.WriteAllBytes(damaged, bytes);
        var reader = NewStore("b");

        await Assert.ThrowsAsync<DatabaseCorruptException>(() => reader.GetAsync(Db, maxStaleness: null, default));

        Assert.Empty(CachedFiles(reader));
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("other format")]
    [InlineData("chunks short of the length")]
    [InlineData("not json")]
    public async Task A_corrupt_manifest_is_refused_and_nothing_is_cached(string damage)
    {
        var writer = NewStore("a");
        var v1 = await CommitAsync(writer, StoredVersion.Missing, NewDatabase());
        var json = Encoding.UTF8.GetString(File.ReadAllBytes(DataFile));
        var manifest = StoredManifest(DataFile);
        File.WriteAllText(DataFile, damage switch
        {
            "truncated" => json[..(json.Length / 2)],
            "other format" => json.Replace(ChunkManifest.FormatName, "serverlessdb-chunked-v0", StringComparison.Ordinal),
            "chunks short of the length" => Encoding.UTF8.GetString((manifest with { Length = manifest.Length + 4096 }).ToJson()),
            _ => "{ this is not a manifest",
        });
        var reader = NewStore("b");

        await Assert.ThrowsAsync<DatabaseCorruptException>(() => reader.GetAsync(Db, maxStaleness: null, default));

        Assert.Empty(CachedFiles(reader));
        Assert.Equal(v1, await reader.CurrentVersionAsync(Db, default));
    }
}
