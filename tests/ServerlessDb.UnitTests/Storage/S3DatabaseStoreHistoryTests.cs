using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Moq;
using ServerlessDb.Configuration;
using ServerlessDb.Errors;
using ServerlessDb.Storage;
using ServerlessDb.Storage.S3;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>The S3 store's time travel with Moq at <see cref="IAmazonS3"/>: ListObjectVersions on the exact key, paging, delete markers, GetObject by VersionId.</summary>
public sealed class S3DatabaseStoreHistoryTests : IDisposable
{
    private const string Bucket = "test-bucket";
    private const string Db = "shop";
    private static readonly string Key = new ObjectKeys(ServerlessDbOptions.DefaultPrefix).Database(Db);
    private static readonly DateTime T0 = new(2026, 12, 2, 10, 0, 0, DateTimeKind.Utc);

    private readonly string _root = Directory.CreateTempSubdirectory("sdb-s3history-").FullName;
    private readonly Mock<IAmazonS3> _s3 = new(MockBehavior.Strict);
    private readonly List<ListVersionsRequest> _lists = [];
    private readonly DatabaseStore _store;

    public S3DatabaseStoreHistoryTests() =>
        _store = TestStoreOptions.For(Bucket, TimeSpan.FromSeconds(5)).CreateStore(_s3.Object, _root, TimeProvider.System, TimeSpan.FromMilliseconds(10));

    public void Dispose()
    {
        _store.CacheFolder.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private static S3ObjectVersion Version(string id, int minute, bool latest = false, string? key = null, bool deleteMarker = false) => new()
    {
        Key = key ?? Key,
        VersionId = id,
        LastModified = T0.AddMinutes(minute),
        Size = deleteMarker ? null : 4096,
        IsLatest = latest,
        IsDeleteMarker = deleteMarker,
        ETag = deleteMarker ? null : $"\"e-{id}\"",
    };

    /// <summary>S3 answering ListObjectVersions with these pages in turn, each continuing after the marker of the one before.</summary>
    private void ListPages(params ListVersionsResponse[] pages)
    {
        var next = 0;
        _s3.Setup(s => s.ListVersionsAsync(It.IsAny<ListVersionsRequest>(), It.IsAny<CancellationToken>()))
            .Returns((ListVersionsRequest request, CancellationToken _) =>
            {
                _lists.Add(request);
                return Task.FromResult(pages[next++]);
            });
    }

    private static ListVersionsResponse Page(string? nextVersionIdMarker, params S3ObjectVersion[] versions) => new()
    {
        Versions = [.. versions],
        IsTruncated = nextVersionIdMarker is not null,
        NextKeyMarker = nextVersionIdMarker is null ? null : Key,
        NextVersionIdMarker = nextVersionIdMarker,
        HttpStatusCode = HttpStatusCode.OK,
    };

    private static AmazonS3Exception S3Error(HttpStatusCode status, string code) =>
        new($"{code} from the test", ErrorType.Sender, code, "request-1", status);

    [Fact]
    public async Task A_page_lists_the_exact_key_without_delete_markers_or_keys_sharing_its_prefix()
    {
        ListPages(Page(null,
            Version("v3", 3, latest: true),
            Version("dm", 2, deleteMarker: true),
            Version("v1", 1),
            Version("x1", 9, key: Key + ".bak")));

        var page = await _store.ListVersionsAsync(Db, 10, null, default);

        Assert.Equal(["v3", "v1"], page.Versions.Select(v => v.Id));
        Assert.Equal([true, false], page.Versions.Select(v => v.IsCurrent));
        Assert.Equal([new DateTimeOffset(T0.AddMinutes(3)), new DateTimeOffset(T0.AddMinutes(1))], page.Versions.Select(v => v.Time));
        Assert.Equal(4096, page.Versions[0].Size);
        Assert.Null(page.Next);
        var request = Assert.Single(_lists);
        Assert.Equal((Bucket, Key, 10, (string?)null, (string?)null), (request.BucketName, request.Prefix, request.MaxKeys, request.KeyMarker, request.VersionIdMarker));
    }

    [Fact]
    public async Task The_next_token_continues_after_the_version_id_marker_and_ends_where_another_key_begins()
    {
        ListPages(
            Page("v2", Version("v3", 3, latest: true), Version("v2", 2)),
            Page("x9", Version("v1", 1), Version("x9", 9, key: Key + "x")));

        var first = await _store.ListVersionsAsync(Db, 2, null, default);
        var second = await _store.ListVersionsAsync(Db, 2, first.Next, default);

        Assert.NotNull(first.Next);
        Assert.DoesNotContain("v2", first.Next, StringComparison.Ordinal); // opaque
        Assert.Equal((Key, "v2"), (_lists[1].KeyMarker, _lists[1].VersionIdMarker));
        Assert.Equal(["v1"], second.Versions.Select(v => v.Id));
        Assert.Null(second.Next); // S3 would go on, but with another key's versions
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("bm90LWEtdG9rZW4")] // "not-a-token": decodes, and could be a version id, but no token of ours
    [InlineData("czN2MTouLiAuLg")] // "s3v1:.. ..": ours in form, but no version id
    public async Task A_token_the_store_did_not_give_is_refused_without_asking_S3(string token)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _store.ListVersionsAsync(Db, 2, token, default));
        Assert.Empty(_lists);
    }

    [Fact]
    public async Task A_token_naming_a_version_S3_does_not_know_is_refused_not_retried()
    {
        _s3.Setup(s => s.ListVersionsAsync(It.IsAny<ListVersionsRequest>(), It.IsAny<CancellationToken>()))
            .Callback((ListVersionsRequest request, CancellationToken _) => _lists.Add(request))
            .ThrowsAsync(S3Error(HttpStatusCode.BadRequest, "InvalidArgument"));

        await Assert.ThrowsAsync<ArgumentException>(() => _store.ListVersionsAsync(Db, 2, "czN2MTpmb3JnZWQ", default)); // "s3v1:forged"

        Assert.Equal("forged", Assert.Single(_lists).VersionIdMarker);
    }

    [Fact]
    public async Task As_of_searches_the_pages_for_the_newest_version_at_or_before_the_time()
    {
        ListPages(
            Page("v3", Version("v4", 4, latest: true), Version("v3", 3)),
            Page(null, Version("v2", 2), Version("v1", 1)));

        var found = await _store.FindAsOfAsync(Db, new DateTimeOffset(T0.AddMinutes(2.5)), default);

        Assert.Equal("v2", found?.Id);
        Assert.Equal(2, _lists.Count);
        Assert.All(_lists, l => Assert.Equal(1000, l.MaxKeys));
    }

    [Fact]
    public async Task As_of_a_time_when_the_newest_entry_was_a_delete_marker_or_before_the_first_version_finds_none()
    {
        ListPages(
            Page(null, Version("v3", 3, latest: true), Version("dm", 2, deleteMarker: true), Version("v1", 1)),
            Page(null, Version("v3", 3, latest: true), Version("dm", 2, deleteMarker: true), Version("v1", 1)));

        Assert.Null(await _store.FindAsOfAsync(Db, new DateTimeOffset(T0.AddMinutes(2.5)), default));
        Assert.Null(await _store.FindAsOfAsync(Db, new DateTimeOffset(T0), default));
    }

    [Fact]
    public async Task A_transient_listing_failure_is_retried_within_the_deadline()
    {
        var calls = 0;
        _s3.Setup(s => s.ListVersionsAsync(It.IsAny<ListVersionsRequest>(), It.IsAny<CancellationToken>()))
            .Returns(() => ++calls == 1
                ? throw S3Error(HttpStatusCode.ServiceUnavailable, "SlowDown")
                : Task.FromResult(Page(null, Version("v1", 1, latest: true))));

        var page = await _store.ListVersionsAsync(Db, 10, null, default);

        Assert.Equal(["v1"], page.Versions.Select(v => v.Id));
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task A_version_is_read_by_its_id_into_the_cache_kept_there_and_confirmed_by_a_head_when_read_again()
    {
        var content = DatabaseBytes.Marked(4, 2);
        GetObjectRequest? asked = null;
        _s3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((GetObjectRequest request, CancellationToken _) =>
            {
                asked = request;
                return Task.FromResult(new GetObjectResponse { ETag = "\"e-v2\"", VersionId = "v2", ResponseStream = new MemoryStream(content), HttpStatusCode = HttpStatusCode.OK });
            });

        string path;
        using (var snapshot = await _store.GetVersionAsync(Db, "v2", default))
        {
            path = snapshot.FilePath;
            Assert.Equal(("v2", new DatabaseETag("\"e-v2\"")), (snapshot.VersionId, snapshot.ETag));
            Assert.Equal(content, File.ReadAllBytes(path));
            Assert.Equal(content.Length, _store.CachedBytes);
        }

        Assert.Equal((Bucket, Key, "v2"), (asked!.BucketName, asked.Key, asked.VersionId));
        Assert.True(File.Exists(path), "released, the version stays cached until the budget evicts it");
        Assert.Equal(content.Length, _store.CachedBytes);

        // Read again: a HEAD of that version id says S3 still keeps it, and no byte moves.
        GetObjectMetadataRequest? head = null;
        _s3.Setup(s => s.GetObjectMetadataAsync(It.IsAny<GetObjectMetadataRequest>(), It.IsAny<CancellationToken>()))
            .Returns((GetObjectMetadataRequest request, CancellationToken _) =>
            {
                head = request;
                return Task.FromResult(new GetObjectMetadataResponse { ETag = "\"e-v2\"", VersionId = "v2", HttpStatusCode = HttpStatusCode.OK });
            });
        using (var again = await _store.GetVersionAsync(Db, "v2", default))
        {
            Assert.Equal(path, again.FilePath);
            Assert.Equal(SnapshotFetch.Revalidated, again.Fetch);
        }

        Assert.Equal((Key, "v2"), (head!.Key, head.VersionId));
        _s3.Verify(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()), Times.Once);

        // Expired by the lifecycle since: not found, and no longer cached.
        _s3.Setup(s => s.GetObjectMetadataAsync(It.IsAny<GetObjectMetadataRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new AmazonS3Exception("Not Found") { StatusCode = HttpStatusCode.NotFound });
        await Assert.ThrowsAsync<VersionNotFoundException>(() => _store.GetVersionAsync(Db, "v2", default));
        Assert.False(File.Exists(path));
        Assert.Equal(0, _store.CachedBytes);
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound, "NoSuchVersion")]
    [InlineData(HttpStatusCode.NotFound, "NoSuchKey")]
    [InlineData(HttpStatusCode.BadRequest, "InvalidArgument")]
    [InlineData(HttpStatusCode.MethodNotAllowed, "MethodNotAllowed")]
    public async Task A_version_S3_does_not_keep_is_not_found(HttpStatusCode status, string code)
    {
        _s3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(S3Error(status, code));

        var error = await Assert.ThrowsAsync<VersionNotFoundException>(() => _store.GetVersionAsync(Db, "gone", default));

        Assert.Contains($"s3://{Bucket}/{Key}", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _store.CachedBytes);
    }

    [Fact]
    public async Task A_stored_version_that_is_not_a_database_is_never_cached()
    {
        _s3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => new GetObjectResponse { ETag = "\"bad\"", ResponseStream = new MemoryStream("not a database"u8.ToArray()), HttpStatusCode = HttpStatusCode.OK });

        await Assert.ThrowsAsync<DatabaseCorruptException>(() => _store.GetVersionAsync(Db, "v1", default));

        Assert.Empty(Directory.GetFiles(_store.CacheFolder.CacheDirectory, "*", SearchOption.AllDirectories));
    }
}
