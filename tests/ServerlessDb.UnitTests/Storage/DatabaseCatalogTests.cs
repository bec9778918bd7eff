using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using Moq;
using ServerlessDb.Configuration;
using ServerlessDb.Domain;
using ServerlessDb.Errors;
using ServerlessDb.Storage;
using ServerlessDb.Storage.LocalFolder;
using ServerlessDb.Storage.S3;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>Both stores list their databases in the same order, skip what is not a database, and page.</summary>
public sealed class DatabaseCatalogTests : IDisposable
{
    private const string Bucket = "test-bucket";
    private static readonly string Prefix = ServerlessDbOptions.DefaultPrefix;
    private readonly string _root = Directory.CreateTempSubdirectory("sdb-catalog-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string DataFolder => Path.Combine(_root, "data");

    private DatabaseStore FolderWith(params string[] files)
    {
        Directory.CreateDirectory(DataFolder);
        foreach (var file in files)
        {
            File.WriteAllBytes(Path.Combine(DataFolder, file), new byte[file.Length]);
        }

        return new DatabaseStore(
            new LocalFolderObjectBackend(DataFolder), links: null, new StoreOptions("", TimeSpan.FromSeconds(5), ServerlessDbOptions.DefaultCacheMaxBytes),
            CacheFolder.Claim(Path.Combine(_root, "cache")));
    }

    [Fact]
    public async Task The_folder_lists_its_databases_in_file_name_order_and_skips_other_files()
    {
        var store = FolderWith("b.sqlite", "a.sqlite", "a-b.sqlite", "notes.txt", "bad.name.sqlite", ".hidden.sqlite", "a.sqlite.version", "c.SQLITE");
        Directory.CreateDirectory(Path.Combine(DataFolder, "folder.sqlite"));

        var page = await store.ListAsync(after: null, limit: 10, CancellationToken.None);

        // '-' sorts before '.', so "a-b.sqlite" comes before "a.sqlite", as S3 lists their keys.
        Assert.Equal(["a-b", "a", "b"], page.Databases.Select(d => d.Name));
        Assert.Equal("a-b.sqlite".Length, page.Databases[0].Size);
        // The folder keeps times to the millisecond.
        Assert.Equal(File.GetLastWriteTimeUtc(Path.Combine(DataFolder, "b.sqlite")), page.Databases[2].LastModified.UtcDateTime, TimeSpan.FromMilliseconds(1));
        Assert.Null(page.Next);
    }

    [Fact]
    public async Task The_folder_pages_after_the_token_it_gave()
    {
        var store = FolderWith("a.sqlite", "b.sqlite", "c.sqlite");

        var first = await store.ListAsync(after: null, limit: 2, CancellationToken.None);
        var second = await store.ListAsync(first.Next, limit: 2, CancellationToken.None);

        Assert.Equal(["a", "b"], first.Databases.Select(d => d.Name));
        Assert.Equal("b", first.Next);
        Assert.Equal(["c"], second.Databases.Select(d => d.Name));
        Assert.Null(second.Next);
    }

    [Fact]
    public async Task A_page_that_ends_exactly_at_the_last_database_gives_no_token()
    {
        var store = FolderWith("a.sqlite", "b.sqlite");
        var page = await store.ListAsync(after: null, limit: 2, CancellationToken.None);
        Assert.Equal(2, page.Databases.Count);
        Assert.Null(page.Next);
    }

    [Fact]
    public async Task S3_lists_under_the_prefix_one_level_deep_and_skips_keys_that_are_not_databases()
    {
        var s3 = new Mock<IAmazonS3>(MockBehavior.Strict);
        var requests = new List<ListObjectsV2Request>();
        var modified = new DateTime(2026, 12, 2, 1, 2, 3, DateTimeKind.Utc);
        s3.Setup(s => s.ListObjectsV2Async(It.IsAny<ListObjectsV2Request>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((ListObjectsV2Request request, CancellationToken _) =>
            {
                requests.Add(request);
                return new ListObjectsV2Response
                {
                    IsTruncated = false,
                    S3Objects =
                    [
                        new S3Object { Key = Prefix + "a.sqlite", Size = 4096, LastModified = modified },
                        new S3Object { Key = Prefix + "notes.txt", Size = 1, LastModified = modified },
                        new S3Object { Key = Prefix + "bad.name.sqlite", Size = 1, LastModified = modified },
                        new S3Object { Key = Prefix + "b.sqlite", Size = 8192, LastModified = modified },
                    ],
                };
            });
        using var store = new Store(s3.Object, _root);

        var page = await store.S3.ListAsync(after: null, limit: 10, CancellationToken.None);

        Assert.Equal([new DatabaseEntry("a", 4096, new DateTimeOffset(modified)), new DatabaseEntry("b", 8192, new DateTimeOffset(modified))], page.Databases);
        Assert.Null(page.Next);
        var request = Assert.Single(requests);
        Assert.Equal(Bucket, request.BucketName);
        Assert.Equal(Prefix, request.Prefix);
        Assert.Equal("/", request.Delimiter);
        Assert.Equal(10, request.MaxKeys);
        Assert.Null(request.StartAfter);
    }

    [Fact]
    public async Task S3_starts_after_the_token_s_key_and_follows_continuations_until_the_page_is_full()
    {
        var s3 = new Mock<IAmazonS3>(MockBehavior.Strict);
        var requests = new List<ListObjectsV2Request>();
        s3.Setup(s => s.ListObjectsV2Async(It.IsAny<ListObjectsV2Request>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((ListObjectsV2Request request, CancellationToken _) =>
            {
                requests.Add(request);
                return request.ContinuationToken is null
                    ? new ListObjectsV2Response
                    {
                        IsTruncated = true,
                        NextContinuationToken = "page-2",
                        S3Objects = [new S3Object { Key = Prefix + "c.sqlite", Size = 1 }, new S3Object { Key = Prefix + "c.txt", Size = 1 }],
                    }
                    : new ListObjectsV2Response
                    {
                        IsTruncated = true,
                        NextContinuationToken = "page-3",
                        S3Objects = [new S3Object { Key = Prefix + "d.sqlite", Size = 1 }],
                    };
            });
        using var store = new Store(s3.Object, _root);

        var page = await store.S3.ListAsync(after: "b", limit: 2, CancellationToken.None);

        Assert.Equal(["c", "d"], page.Databases.Select(d => d.Name));
        Assert.Equal("d", page.Next);
        Assert.Equal(2, requests.Count);
        Assert.Equal(Prefix + "b.sqlite", requests[0].StartAfter);
        Assert.Equal(2, requests[0].MaxKeys);
        Assert.Equal("page-2", requests[1].ContinuationToken);
        Assert.Null(requests[1].StartAfter);
        Assert.Equal(1, requests[1].MaxKeys);
    }

    [Fact]
    public async Task A_listing_S3_keeps_refusing_is_a_storage_error_not_an_empty_page()
    {
        var s3 = new Mock<IAmazonS3>(MockBehavior.Strict);
        s3.Setup(s => s.ListObjectsV2Async(It.IsAny<ListObjectsV2Request>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new AmazonS3Exception("Access Denied") { StatusCode = HttpStatusCode.Forbidden, ErrorCode = "AccessDenied" });
        using var store = new Store(s3.Object, _root);

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.S3.ListAsync(null, 10, CancellationToken.None));
        Assert.Contains("ListObjectsV2", error.Message);
        Assert.Contains("AccessDenied", error.Message);
    }

    private sealed class Store : IDisposable
    {
        private readonly CacheFolder _folder;

        public Store(IAmazonS3 s3, string root)
        {
            _folder = CacheFolder.Claim(Path.Combine(root, "s3-cache"));
            S3 = TestStoreOptions.For(Bucket).CreateStore(s3, _folder);
        }

        public DatabaseStore S3 { get; }

        public void Dispose() => _folder.Dispose();
    }
}
