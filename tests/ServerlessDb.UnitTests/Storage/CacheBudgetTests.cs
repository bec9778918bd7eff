using System.Collections.Concurrent;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Moq;
using ServerlessDb.Storage;
using ServerlessDb.Storage.Chunked;
using ServerlessDb.Storage.S3;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>The cache's size bound, through the S3 store over a scripted bucket of several databases.</summary>
public sealed class CacheBudgetTests : IDisposable
{
    private const int FileBytes = DatabaseBytes.PageSize;

    // Room for two one-page versions, not three.
    private const long Bound = (2 * FileBytes) + (FileBytes / 2);

    private readonly string _root = Directory.CreateTempSubdirectory("serverlessdb-cache-budget-").FullName;
    private readonly Mock<IAmazonS3> _s3 = new(MockBehavior.Strict);
    private readonly ConcurrentDictionary<string, (string ETag, byte[] Content)> _bucket = new();
    private readonly ConcurrentQueue<GetObjectRequest> _gets = new();

    public CacheBudgetTests() =>
        _s3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((GetObjectRequest request, CancellationToken _) => Get(request));

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task The_least_recently_used_version_is_evicted_first()
    {
        Store("a", "b", "c");
        var store = CreateStore();
        var a = await ReadAsync(store, "a");
        var b = await ReadAsync(store, "b");
        await ReadAsync(store, "a"); // a is now used more recently than b

        var c = await ReadAsync(store, "c");

        Assert.True(File.Exists(a), "a was used after b");
        Assert.False(File.Exists(b), "b was the least recently used");
        Assert.True(File.Exists(c));
        Assert.Equal(2 * FileBytes, store.CachedBytes);
    }

    [Fact]
    public async Task A_held_version_is_never_evicted_and_stays_readable()
    {
        Store("held", "b", "c", "d");
        var store = CreateStore();
        using var held = await store.GetAsync("held", null, default);

        foreach (var name in new[] { "b", "c", "d" })
        {
            await ReadAsync(store, name);
        }

        Assert.Equal(Content("held"), File.ReadAllBytes(held.FilePath));
        Assert.True(store.CachedBytes <= Bound, $"{store.CachedBytes} bytes cached");
    }

    [Fact]
    public async Task An_evicted_current_version_is_downloaded_again_in_full()
    {
        Store("a", "b", "c");
        var store = CreateStore();
        var evicted = await ReadAsync(store, "a");
        await ReadAsync(store, "b");
        await ReadAsync(store, "c");
        Assert.False(File.Exists(evicted));

        using var again = await store.GetAsync("a", null, default);

        var get = _gets.Last();
        Assert.Equal("databases/a.sqlite", get.Key);
        Assert.Null(get.EtagToNotMatch);
        Assert.Equal(Content("a"), File.ReadAllBytes(again.FilePath));
    }

    [Fact]
    public async Task A_cached_version_within_the_bound_is_revalidated_not_downloaded()
    {
        Store("a", "b");
        var store = CreateStore();
        var first = await ReadAsync(store, "a");
        await ReadAsync(store, "b");

        var second = await ReadAsync(store, "a");

        Assert.Equal(first, second);
        Assert.Equal("\"etag-a\"", _gets.Last().EtagToNotMatch);
    }

    [Fact]
    public async Task The_total_stays_within_the_bound_however_many_databases_are_read()
    {
        var names = Enumerable.Range(0, 20).Select(i => "db" + i).ToArray();
        Store(names);
        var store = CreateStore();

        foreach (var name in names)
        {
            await ReadAsync(store, name);
            Assert.True(store.CachedBytes <= Bound, $"{store.CachedBytes} bytes cached after reading {name}");
            Assert.Equal(store.CachedBytes, BytesOnDisk(store));
        }
    }

    [Fact]
    public async Task A_database_larger_than_the_bound_is_served_while_held_and_evicted_once_released()
    {
        _bucket["databases/big.sqlite"] = ("\"etag-big\"", DatabaseBytes.Valid(pages: 8, marker: 8));
        Store("small");
        var store = CreateStore();

        string path;
        using (var first = await store.GetAsync("big", null, default))
        using (var second = await store.GetAsync("big", null, default))
        {
            path = first.FilePath;
            Assert.Equal(path, second.FilePath);
            Assert.Equal(_bucket["databases/big.sqlite"].Content, File.ReadAllBytes(path));
        }

        await ReadAsync(store, "small");

        Assert.False(File.Exists(path));
        Assert.True(store.CachedBytes <= Bound);
    }

    [Fact]
    public async Task A_new_version_of_a_database_over_half_the_bound_stays_cached_while_a_reader_holds_the_old_one()
    {
        // Two pages each: the old and the new version together exceed the bound, either alone fits.
        _bucket["databases/big.sqlite"] = ("\"etag-1\"", DatabaseBytes.Valid(pages: 2, marker: 1));
        var store = CreateStore();
        var old = await store.GetAsync("big", null, default);
        _bucket["databases/big.sqlite"] = ("\"etag-2\"", DatabaseBytes.Valid(pages: 2, marker: 2));

        var current = await ReadAsync(store, "big");
        old.Dispose();

        Assert.False(File.Exists(old.FilePath), "the superseded version goes once released");
        Assert.True(File.Exists(current), "the new current version was not evicted to make room for the old one");
        var downloads = _gets.Count;
        Assert.Equal(current, await ReadAsync(store, "big"));
        Assert.Equal(downloads + 1, _gets.Count);
        Assert.Equal(2 * FileBytes, store.CachedBytes);
    }

    [Fact]
    public async Task Parallel_readers_of_many_databases_finish_see_their_own_bytes_and_leave_the_cache_bounded()
    {
        var names = Enumerable.Range(0, 8).Select(i => "db" + i).ToArray();
        Store(names);
        var store = CreateStore();

        var readers = Enumerable.Range(0, 400).Select(i => Task.Run(async () =>
        {
            var name = names[i % names.Length];
            using var snapshot = await store.GetAsync(name, i % 3 == 0 ? TimeSpan.FromSeconds(1) : null, default);
            await Task.Yield();
            Assert.Equal(Content(name), await File.ReadAllBytesAsync(snapshot.FilePath));
        }));
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(60));

        // The last releases trim what the held files kept above the bound.
        Assert.True(store.CachedBytes <= Bound, $"{store.CachedBytes} bytes cached");
        Assert.Equal(store.CachedBytes, BytesOnDisk(store));
    }

    private DatabaseStore CreateStore()
    {
        var options = TestStoreOptions.For("test-bucket", cacheMaxBytes: Bound);
        return options.CreateStore(_s3.Object, _root, TimeProvider.System, TimeSpan.FromMilliseconds(10));
    }

    /// <summary>Reads <paramref name="database"/>, releases the snapshot, and returns its file's path.</summary>
    private static async Task<string> ReadAsync(DatabaseStore store, string database)
    {
        using var snapshot = await store.GetAsync(database, null, default);
        return snapshot.FilePath;
    }

    private void Store(params string[] databases)
    {
        foreach (var name in databases)
        {
            _bucket["databases/" + name + ".sqlite"] = ($"\"etag-{name}\"", Content(name));
        }
    }

    private static byte[] Content(string database) => DatabaseBytes.Valid(marker: (uint)database.GetHashCode(StringComparison.Ordinal));

    private static long BytesOnDisk(DatabaseStore store) =>
        Directory.EnumerateFiles(store.CacheFolder.CacheDirectory, "*.sqlite", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    private Task<GetObjectResponse> Get(GetObjectRequest request)
    {
        _gets.Enqueue(request);
        if (!_bucket.TryGetValue(request.Key, out var stored))
        {
            throw new AmazonS3Exception("no such key", ErrorType.Sender, "NoSuchKey", "request-1", HttpStatusCode.NotFound);
        }

        if (request.EtagToNotMatch == stored.ETag)
        {
            throw new AmazonS3Exception("not modified", ErrorType.Sender, "NotModified", "request-1", HttpStatusCode.NotModified);
        }

        return Task.FromResult(new GetObjectResponse
        {
            ETag = stored.ETag,
            ResponseStream = new MemoryStream(stored.Content),
            ContentLength = stored.Content.Length,
            HttpStatusCode = HttpStatusCode.OK,
        });
    }
}
