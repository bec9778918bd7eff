using System.Collections.Concurrent;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Time.Testing;
using Moq;
using ServerlessDb.Configuration;
using ServerlessDb.Errors;
using ServerlessDb.Storage;
using ServerlessDb.Storage.S3;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

public sealed class S3DatabaseStoreTests : IDisposable
{
    private const string Bucket = "test-bucket";
    private const string Db = "shop";
    private static readonly string Key = new ObjectKeys(ServerlessDbOptions.DefaultPrefix).Database(Db);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "sdb-s3store-tests-" + Guid.NewGuid().ToString("N"));
    private readonly Mock<IAmazonS3> _s3 = new(MockBehavior.Strict);
    private readonly ConcurrentQueue<GetObjectRequest> _gets = new();
    private readonly ConcurrentQueue<PutObjectRequest> _puts = new();

    // What the fake bucket holds at Key: null means no object.
    private (string ETag, byte[] Content)? _stored;

    public S3DatabaseStoreTests()
    {
        Directory.CreateDirectory(_root);

        // A bucket that answers like S3; tests that need other answers set up over these.
        _s3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((GetObjectRequest request, CancellationToken token) => Get(request, token));
        _s3.Setup(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((PutObjectRequest request, CancellationToken token) => Put(request, token));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // The last store created: each claims a folder of its own under the cache directory.
    private DatabaseStore? _store;

    private string CacheFolder => Path.Combine(_store!.CacheFolder.CacheDirectory, Db);

    [Fact]
    public async Task First_read_downloads_the_object_into_a_file_named_by_its_etag()
    {
        StoreObject("\"e1\"", DatabaseBytes.Marked(1, 2, 3));
        var store = CreateStore();

        using var snapshot = await store.GetAsync(Db, null, default);

        Assert.Equal(new DatabaseETag("\"e1\""), snapshot.ETag);
        Assert.Equal(Path.Combine(CacheFolder, "v-e1.sqlite"), snapshot.FilePath);
        Assert.Equal(DatabaseBytes.Marked(1, 2, 3), File.ReadAllBytes(snapshot.FilePath));
        var get = Assert.Single(_gets);
        Assert.Equal(Bucket, get.BucketName);
        Assert.Equal(Key, get.Key);
        Assert.Null(get.EtagToNotMatch);
    }

    [Fact]
    public async Task Second_read_revalidates_with_the_cached_etag_and_a_304_returns_the_same_file()
    {
        StoreObject("\"e1\"", DatabaseBytes.Marked(1, 2, 3));
        var store = CreateStore();
        using var first = await store.GetAsync(Db, null, default);

        using var second = await store.GetAsync(Db, null, default);

        Assert.Equal(2, _gets.Count);
        Assert.Equal("\"e1\"", _gets.Last().EtagToNotMatch);
        Assert.Equal(first.FilePath, second.FilePath);
        Assert.Equal(first.ETag, second.ETag);
        Assert.Equal(DatabaseBytes.Marked(1, 2, 3), File.ReadAllBytes(second.FilePath));
        Assert.Single(Directory.GetFiles(CacheFolder));
    }

    [Fact]
    public async Task A_changed_object_gets_a_new_file_and_the_old_one_lives_until_its_snapshot_is_released()
    {
        StoreObject("\"e1\"", DatabaseBytes.Marked(1));
        var store = CreateStore();
        var old = await store.GetAsync(Db, null, default);
        StoreObject("\"e2\"", DatabaseBytes.Marked(2, 2));

        using var current = await store.GetAsync(Db, null, default);

        Assert.Equal(new DatabaseETag("\"e2\""), current.ETag);
        Assert.NotEqual(old.FilePath, current.FilePath);
        Assert.Equal(DatabaseBytes.Marked(2, 2), File.ReadAllBytes(current.FilePath));
        Assert.Equal(DatabaseBytes.Marked(1), File.ReadAllBytes(old.FilePath));

        old.Dispose();

        Assert.False(File.Exists(old.FilePath));
        Assert.True(File.Exists(current.FilePath));
    }

    [Fact]
    public async Task Only_the_current_version_is_kept_when_no_snapshot_holds_the_old_one()
    {
        StoreObject("\"e1\"", DatabaseBytes.Marked(1));
        var store = CreateStore();
        string oldPath;
        using (var old = await store.GetAsync(Db, null, default))
        {
            oldPath = old.FilePath;
        }

        Assert.True(File.Exists(oldPath), "the current version stays cached after its snapshot is released");
        StoreObject("\"e2\"", DatabaseBytes.Marked(2));

        using var current = await store.GetAsync(Db, null, default);

        Assert.False(File.Exists(oldPath));
        Assert.Equal(new[] { current.FilePath }, Directory.GetFiles(CacheFolder));
    }

    [Fact]
    public async Task Two_stores_on_one_cache_directory_keep_each_others_cached_versions()
    {
        StoreObject("\"e1\"", DatabaseBytes.Marked(1));
        var first = CreateStore();
        using var held = await first.GetAsync(Db, null, default);

        var second = CreateStore();
        using var other = await second.GetAsync(Db, null, default);
        using var again = await first.GetAsync(Db, null, default);

        Assert.NotEqual(held.FilePath, other.FilePath);
        Assert.Equal(DatabaseBytes.Marked(1), File.ReadAllBytes(held.FilePath));
        Assert.Equal(held.FilePath, again.FilePath);
        Assert.Equal("\"e1\"", _gets.Last().EtagToNotMatch);
    }

    [Fact]
    public async Task An_object_that_is_not_sqlite_is_refused_on_download_and_nothing_is_cached()
    {
        StoreObject("\"bad\"", "<html>not a database</html>"u8.ToArray());
        var store = CreateStore();

        var error = await Assert.ThrowsAsync<DatabaseCorruptException>(() => store.GetAsync(Db, null, default));

        Assert.Equal(
            "Database 'shop' (s3://test-bucket/databases/shop.sqlite, version \"bad\") is not a valid SQLite database: "
            + "it is 27 bytes long, shorter than the 100-byte SQLite header. Nothing was changed; restore a good version of the object.",
            error.Message);
        Assert.Empty(Directory.GetFiles(CacheFolder));
        Assert.Equal(0, store.CachedBytes);
    }

    [Fact]
    public async Task A_truncated_object_is_refused_on_every_read_until_a_good_version_is_restored()
    {
        StoreObject("\"cut\"", DatabaseBytes.Valid(pages: 4)[..1024]);
        var store = CreateStore();

        var first = await Assert.ThrowsAsync<DatabaseCorruptException>(() => store.GetAsync(Db, null, default));
        var second = await Assert.ThrowsAsync<DatabaseCorruptException>(() => store.GetAsync(Db, TimeSpan.FromMinutes(1), default));

        Assert.Contains("it is truncated: 1024 bytes (2 pages) where its header says 4 pages of 512 bytes", first.Message);
        Assert.Equal(first.Message, second.Message);
        Assert.All(_gets, get => Assert.Null(get.EtagToNotMatch));
        Assert.Empty(Directory.GetFiles(CacheFolder));

        StoreObject("\"good\"", DatabaseBytes.Marked(1));
        using var restored = await store.GetAsync(Db, null, default);
        Assert.Equal(DatabaseBytes.Marked(1), File.ReadAllBytes(restored.FilePath));
    }

    [Fact]
    public async Task A_corrupt_new_version_leaves_a_held_good_version_readable()
    {
        StoreObject("\"e1\"", DatabaseBytes.Marked(1));
        var store = CreateStore();
        using var held = await store.GetAsync(Db, null, default);
        var badPageSize = DatabaseBytes.Marked(2);
        badPageSize[16] = 0x03; // 768
        StoreObject("\"e2\"", badPageSize);

        var error = await Assert.ThrowsAsync<DatabaseCorruptException>(() => store.GetAsync(Db, null, default));

        Assert.Contains("version \"e2\"", error.Message);
        Assert.Contains("page size field (header bytes 16-17) is 768", error.Message);
        Assert.Equal(DatabaseBytes.Marked(1), File.ReadAllBytes(held.FilePath));
        Assert.Equal(new[] { held.FilePath }, Directory.GetFiles(CacheFolder));
    }

    [Fact]
    public async Task A_missing_object_is_an_empty_file_with_a_missing_version()
    {
        var store = CreateStore();

        using var snapshot = await store.GetAsync(Db, null, default);

        Assert.Equal(DatabaseETag.Missing, snapshot.ETag);
        Assert.False(snapshot.ETag.Exists);
        Assert.Equal(0, new FileInfo(snapshot.FilePath).Length);
        Assert.Null(Assert.Single(_gets).EtagToNotMatch);
    }

    [Fact]
    public async Task A_read_within_max_staleness_does_not_ask_S3_and_one_beyond_it_does()
    {
        StoreObject("\"e1\"", DatabaseBytes.Marked(1));
        var time = new FakeTimeProvider();
        var store = CreateStore(time: time);
        using var first = await store.GetAsync(Db, null, default);

        using var cached = await store.GetAsync(Db, TimeSpan.FromSeconds(5), default);
        Assert.Single(_gets);
        Assert.Equal(first.FilePath, cached.FilePath);

        time.Advance(TimeSpan.FromSeconds(6));
        using var revalidated = await store.GetAsync(Db, TimeSpan.FromSeconds(5), default);
        Assert.Equal(2, _gets.Count);
        Assert.Equal("\"e1\"", _gets.Last().EtagToNotMatch);
    }

    [Fact]
    public async Task Concurrent_reads_of_one_database_share_one_GetObject()
    {
        var answer = new TaskCompletionSource<GetObjectResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _s3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((GetObjectRequest request, CancellationToken _) =>
            {
                _gets.Enqueue(request);
                return answer.Task;
            });
        var store = CreateStore();

        var reads = Enumerable.Range(0, 10).Select(_ => store.GetAsync(Db, null, default)).ToList();
        Assert.All(reads, read => Assert.False(read.IsCompleted));
        answer.SetResult(ObjectResponse("\"e1\"", DatabaseBytes.Marked(7)));
        var snapshots = await Task.WhenAll(reads);

        Assert.Single(_gets);
        Assert.All(snapshots, s => Assert.Equal(snapshots[0].FilePath, s.FilePath));
        Assert.All(snapshots, s => Assert.Equal(new DatabaseETag("\"e1\""), s.ETag));
        foreach (var snapshot in snapshots)
        {
            snapshot.Dispose();
        }

        Assert.True(File.Exists(snapshots[0].FilePath), "the current version outlives its snapshots");
    }

    [Fact]
    public async Task A_slow_read_of_one_database_does_not_block_another()
    {
        var slow = new TaskCompletionSource<GetObjectResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _s3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((GetObjectRequest request, CancellationToken _) =>
                request.Key == Key ? slow.Task : Task.FromResult(ObjectResponse("\"b1\"", DatabaseBytes.Marked(9))));
        var store = CreateStore();

        var blocked = store.GetAsync(Db, null, default);
        using var other = await store.GetAsync("other", null, default).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(new DatabaseETag("\"b1\""), other.ETag);
        Assert.False(blocked.IsCompleted);
        slow.SetResult(ObjectResponse("\"e1\"", DatabaseBytes.Marked(1)));
        using var late = await blocked;
        Assert.Equal(new DatabaseETag("\"e1\""), late.ETag);
    }

    [Fact]
    public async Task Committing_a_new_database_sends_IfNoneMatch_star_and_streams_the_file()
    {
        var store = CreateStore();
        var work = WriteWorkFile([4, 5, 6]);

        var version = (await store.CommitAsync(Db, DatabaseETag.Missing, work, default)).ETag;

        var put = Assert.Single(_puts);
        Assert.Equal("*", put.IfNoneMatch);
        Assert.Null(put.IfMatch);
        Assert.Equal(Bucket, put.BucketName);
        Assert.Equal(Key, put.Key);
        Assert.True(Guid.TryParseExact(put.Metadata[StoredMetadata.CommitIdKey], "N", out _));
        Assert.Equal(new byte[] { 4, 5, 6 }, _stored!.Value.Content);
        Assert.Equal(new DatabaseETag(_stored.Value.ETag), version);
    }

    [Fact]
    public async Task Committing_on_a_read_version_sends_IfMatch_with_its_etag()
    {
        StoreObject("\"e1\"", DatabaseBytes.Marked(1));
        var store = CreateStore();
        var work = WriteWorkFile([1, 1]);

        await store.CommitAsync(Db, new DatabaseETag("\"e1\""), work, default);

        var put = Assert.Single(_puts);
        Assert.Equal("\"e1\"", put.IfMatch);
        Assert.Null(put.IfNoneMatch);
    }

    [Fact]
    public async Task A_committed_file_becomes_the_cached_current_version_validated_now()
    {
        var store = CreateStore();
        var work = WriteWorkFile([8, 8, 8]);

        var version = (await store.CommitAsync(Db, DatabaseETag.Missing, work, default)).ETag;
        using var snapshot = await store.GetAsync(Db, TimeSpan.FromSeconds(5), default);

        Assert.False(File.Exists(work), "the committed file is moved into the cache");
        Assert.Empty(_gets);
        Assert.Equal(version, snapshot.ETag);
        Assert.Equal(new byte[] { 8, 8, 8 }, File.ReadAllBytes(snapshot.FilePath));
    }

    [Theory]
    [InlineData(HttpStatusCode.PreconditionFailed, "PreconditionFailed", true)]
    [InlineData(HttpStatusCode.PreconditionFailed, "PreconditionFailed", false)]
    [InlineData(HttpStatusCode.Conflict, "ConditionalRequestConflict", true)]
    [InlineData(HttpStatusCode.Conflict, "ConditionalRequestConflict", false)]
    [InlineData(HttpStatusCode.NotFound, "NoSuchKey", true)]
    public async Task A_lost_condition_is_a_write_conflict_once_another_commit_on_the_same_parent_is_seen(HttpStatusCode status, string code, bool basedOnExisting)
    {
        _s3.Setup(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()))
            .Callback((PutObjectRequest request, CancellationToken _) => _puts.Enqueue(request))
            .ThrowsAsync(S3Error(status, code));
        SetupHead(() => "another-writer", "\"theirs\"", parent: basedOnExisting ? "e1" : StoredCommit.NoParent);
        var store = CreateStore();
        var work = WriteWorkFile([1]);
        var basedOn = basedOnExisting ? new DatabaseETag("\"e1\"") : DatabaseETag.Missing;

        var error = await Assert.ThrowsAsync<WriteConflictException>(() => store.CommitAsync(Db, basedOn, work, default));

        Assert.IsType<AmazonS3Exception>(Assert.IsType<ObjectBackendException>(error.InnerException).InnerException);
        Assert.Contains(code, error.Message);
        Assert.Single(_puts);
        _s3.Verify(s => s.GetObjectMetadataAsync(It.IsAny<GetObjectMetadataRequest>(), It.IsAny<CancellationToken>()), Times.Once);
        Assert.True(File.Exists(work), "a file that was not committed stays with the caller");
    }

    public static TheoryData<string> TransientFailures => ["500", "502", "503 SlowDown", "429", "RequestTimeout", "network", "io", "http timeout"];

    [Theory]
    [MemberData(nameof(TransientFailures))]
    public async Task A_transient_failure_on_read_is_retried(string failure)
    {
        StoreObject("\"e1\"", DatabaseBytes.Marked(1));
        var store = CreateStore();
        var calls = 0;
        _s3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((GetObjectRequest request, CancellationToken token) =>
                ++calls == 1 ? throw Transient(failure) : Get(request, token));

        using var snapshot = await store.GetAsync(Db, null, default);

        Assert.Equal(2, calls);
        Assert.Equal(new DatabaseETag("\"e1\""), snapshot.ETag);
    }

    [Fact]
    public async Task A_500_on_commit_is_retried_with_the_whole_file()
    {
        var store = CreateStore();
        var work = WriteWorkFile([3, 1, 4]);
        var calls = 0;
        _s3.Setup(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((PutObjectRequest request, CancellationToken token) =>
            {
                if (++calls == 1)
                {
                    request.InputStream.ReadByte();
                    throw S3Error(HttpStatusCode.InternalServerError, "InternalError");
                }

                return Put(request, token);
            });

        var version = (await store.CommitAsync(Db, DatabaseETag.Missing, work, default)).ETag;

        Assert.Equal(2, calls);
        Assert.Equal(new byte[] { 3, 1, 4 }, _stored!.Value.Content);
        Assert.Equal(new DatabaseETag(_stored.Value.ETag), version);
    }

    [Fact]
    public async Task Persistent_throttling_becomes_storage_unavailable_at_about_the_deadline()
    {
        var calls = 0;
        _s3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns(() =>
            {
                Interlocked.Increment(ref calls);
                throw S3Error(HttpStatusCode.ServiceUnavailable, "SlowDown");
            });
        var time = new FakeTimeProvider();
        var store = CreateStore(deadline: TimeSpan.FromSeconds(1), time: time);

        var reading = store.GetAsync(Db, null, default);
        await Bounded.WaitUntilAsync(() => Volatile.Read(ref calls) > 0, "the first GetObject, after the deadline was set"); // the fetch may start on another thread
        await time.AdvanceAsync(TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(1), TimeSpan.FromMilliseconds(10));
        Assert.False(reading.IsCompleted, "gave up before the deadline");
        time.Advance(TimeSpan.FromTicks(1));
        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => reading.WaitAsync(Bounded.DefaultBound));

        Assert.True(calls > 2, $"expected several attempts, got {calls}");
        Assert.StartsWith($"S3 did not answer GetObject on s3://{Bucket}/{Key} within 1s: SlowDown (503)", error.Message);
        Assert.Equal("SlowDown", Assert.IsType<AmazonS3Exception>(Assert.IsType<ObjectBackendException>(error.InnerException).InnerException).ErrorCode);
    }

    [Theory]
    [InlineData(HttpStatusCode.Forbidden, "AccessDenied")]
    [InlineData(HttpStatusCode.NotFound, "NoSuchBucket")]
    [InlineData(HttpStatusCode.BadRequest, "InvalidArgument")]
    public async Task A_refusal_is_storage_unavailable_at_once_naming_the_key_and_the_code(HttpStatusCode status, string code)
    {
        var calls = 0;
        _s3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns(() =>
            {
                calls++;
                throw S3Error(status, code);
            });
        var store = CreateStore();

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.GetAsync(Db, null, default));

        Assert.Equal(1, calls);
        Assert.Contains($"s3://{Bucket}/{Key}", error.Message);
        Assert.Contains($"{code} ({(int)status})", error.Message);
        Assert.IsType<AmazonS3Exception>(Assert.IsType<ObjectBackendException>(error.InnerException).InnerException);
    }

    [Fact]
    public async Task A_refused_commit_is_storage_unavailable_and_not_retried()
    {
        _s3.Setup(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()))
            .Callback((PutObjectRequest request, CancellationToken _) => _puts.Enqueue(request))
            .ThrowsAsync(S3Error(HttpStatusCode.Forbidden, "AccessDenied"));
        var store = CreateStore();

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(
            () => store.CommitAsync(Db, DatabaseETag.Missing, WriteWorkFile([1]), default));

        Assert.Single(_puts);
        Assert.Contains("AccessDenied (403)", error.Message);
    }

    [Fact]
    public async Task An_ambiguous_attempt_then_412_is_success_when_the_object_carries_our_commit_id()
    {
        var store = CreateStore();
        var work = WriteWorkFile([6, 6]);
        _s3.Setup(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((PutObjectRequest request, CancellationToken _) =>
            {
                _puts.Enqueue(request);
                throw _puts.Count == 1
                    ? (Exception)new HttpRequestException("connection reset after the request was sent")
                    : S3Error(HttpStatusCode.PreconditionFailed, "PreconditionFailed");
            });
        SetupHead(() => _puts.First().Metadata[StoredMetadata.CommitIdKey], "\"landed\"", parent: "e1");

        var version = (await store.CommitAsync(Db, new DatabaseETag("\"e1\""), work, default)).ETag;

        Assert.Equal(new DatabaseETag("\"landed\""), version);
        Assert.Equal(2, _puts.Count);
        Assert.Equal(_puts.First().Metadata[StoredMetadata.CommitIdKey], _puts.Last().Metadata[StoredMetadata.CommitIdKey]);
        Assert.False(File.Exists(work));
        using var snapshot = await store.GetAsync(Db, TimeSpan.FromMinutes(1), default);
        Assert.Equal(version, snapshot.ETag);
    }

    [Fact]
    public async Task An_ambiguous_attempt_then_412_is_a_conflict_when_the_object_carries_another_commit_id()
    {
        var store = CreateStore();
        var calls = 0;
        _s3.Setup(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns(() => throw (++calls == 1
                ? S3Error(HttpStatusCode.InternalServerError, "InternalError")
                : S3Error(HttpStatusCode.PreconditionFailed, "PreconditionFailed")));
        SetupHead(() => "someone-else", "\"theirs\"", parent: "e1");

        await Assert.ThrowsAsync<WriteConflictException>(
            () => store.CommitAsync(Db, new DatabaseETag("\"e1\""), WriteWorkFile([1]), default));

        Assert.Equal(2, calls);
        _s3.Verify(s => s.GetObjectMetadataAsync(It.IsAny<GetObjectMetadataRequest>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_failed_download_leaves_no_partial_file_behind()
    {
        var calls = 0;
        _s3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns(() => Task.FromResult(++calls == 1
                ? new GetObjectResponse { ETag = "\"e1\"", ResponseStream = new BrokenStream() }
                : ObjectResponse("\"e1\"", DatabaseBytes.Marked(5))));
        var store = CreateStore();

        using var snapshot = await store.GetAsync(Db, null, default);

        Assert.Equal(2, calls);
        Assert.Equal(new[] { snapshot.FilePath }, Directory.GetFiles(CacheFolder));
        Assert.Equal(DatabaseBytes.Marked(5), File.ReadAllBytes(snapshot.FilePath));
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData("")]
    public async Task A_name_that_is_not_a_database_name_is_refused(string name)
    {
        var store = CreateStore();

        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync(name, null, default));
    }

    [Theory]
    [InlineData("\"d41d8cd98f00b204e9800998ecf8427e\"", "v-d41d8cd98f00b204e9800998ecf8427e.sqlite")]
    [InlineData("\"abc-3\"", "v-abc-3.sqlite")]
    public void A_plain_etag_names_its_file(string etag, string expected) =>
        Assert.Equal(expected, CachedDatabase.FileNameFor(new DatabaseETag(etag)));

    [Fact]
    public void Unusual_etags_get_distinct_safe_file_names()
    {
        var a = CachedDatabase.FileNameFor(new DatabaseETag("W/\"a/b\""));
        var b = CachedDatabase.FileNameFor(new DatabaseETag("W/\"a_b\""));

        Assert.NotEqual(a, b);
        Assert.Matches("^h-[0-9a-f]{64}\\.sqlite$", a);
    }

    // The system clock unless a test moves time itself: the other tests' 10 ms backoffs just run.
    [Fact]
    public async Task The_current_version_is_a_head_of_the_object_and_the_next_commit_extends_its_lineage()
    {
        SetupHead(() => "commit-1", "\"e7\"", parent: "none");
        var store = CreateStore();

        var current = await store.CurrentETagAsync(Db, default);
        await store.CommitAsync(Db, current, WriteWorkFile(DatabaseBytes.Marked(4)), default);

        Assert.Equal(new DatabaseETag("\"e7\""), current);
        Assert.Empty(_gets);
        var put = Assert.Single(_puts);
        Assert.Equal("\"e7\"", put.IfMatch);
        Assert.Equal(StoredCommit.Format([new CommitLink("commit-1", "none")]), put.Metadata[StoredMetadata.LineageKey]);
    }

    [Fact]
    public async Task The_current_version_of_a_database_never_written_is_missing()
    {
        _s3.Setup(s => s.GetObjectMetadataAsync(It.IsAny<GetObjectMetadataRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new AmazonS3Exception("Not Found") { StatusCode = HttpStatusCode.NotFound, ErrorCode = "NotFound" });
        var store = CreateStore();

        Assert.Equal(DatabaseETag.Missing, await store.CurrentETagAsync(Db, default));
    }

    private DatabaseStore CreateStore(TimeSpan? deadline = null, TimeProvider? time = null)
    {
        var options = TestStoreOptions.For(Bucket, deadline ?? TimeSpan.FromSeconds(5));
        _store = options.CreateStore(_s3.Object, Path.Combine(_root, "cache"), time ?? TimeProvider.System, TimeSpan.FromMilliseconds(10));
        return _store;
    }

    private Task<GetObjectResponse> Get(GetObjectRequest request, CancellationToken token)
    {
        _gets.Enqueue(request);
        if (_stored is not { } stored)
        {
            throw S3Error(HttpStatusCode.NotFound, "NoSuchKey");
        }

        if (request.EtagToNotMatch == stored.ETag)
        {
            throw S3Error(HttpStatusCode.NotModified, "NotModified");
        }

        return Task.FromResult(ObjectResponse(stored.ETag, stored.Content));
    }

    private async Task<PutObjectResponse> Put(PutObjectRequest request, CancellationToken token)
    {
        _puts.Enqueue(request);
        using var body = new MemoryStream();
        request.InputStream.Position = 0;
        await request.InputStream.CopyToAsync(body, token);
        var etag = $"\"c{_puts.Count}\"";
        _stored = (etag, body.ToArray());
        return new PutObjectResponse { ETag = etag, HttpStatusCode = HttpStatusCode.OK };
    }

    private void SetupHead(Func<string> commitId, string etag, string? parent = null) =>
        _s3.Setup(s => s.GetObjectMetadataAsync(It.IsAny<GetObjectMetadataRequest>(), It.IsAny<CancellationToken>()))
            .Returns((GetObjectMetadataRequest request, CancellationToken _) =>
            {
                Assert.Equal(Key, request.Key);
                var head = new GetObjectMetadataResponse { ETag = etag };
                head.Metadata.Add(StoredMetadata.CommitIdKey, commitId());
                if (parent is not null)
                {
                    head.Metadata.Add(StoredMetadata.ParentETagKey, parent);
                }

                return Task.FromResult(head);
            });

    private void StoreObject(string etag, byte[] content) => _stored = (etag, content);

    private string WriteWorkFile(byte[] content)
    {
        var path = Path.Combine(_root, "work-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, content);
        return path;
    }

    private static GetObjectResponse ObjectResponse(string etag, byte[] content) => new()
    {
        ETag = etag,
        ResponseStream = new MemoryStream(content),
        ContentLength = content.Length,
        HttpStatusCode = HttpStatusCode.OK,
    };

    private static AmazonS3Exception S3Error(HttpStatusCode status, string code) =>
        new($"{code} from the test", ErrorType.Sender, code, "request-1", status);

    private static Exception Transient(string failure) => failure switch
    {
        "500" => S3Error(HttpStatusCode.InternalServerError, "InternalError"),
        "502" => S3Error(HttpStatusCode.BadGateway, ""),
        "503 SlowDown" => S3Error(HttpStatusCode.ServiceUnavailable, "SlowDown"),
        "429" => S3Error(HttpStatusCode.TooManyRequests, "TooManyRequests"),
        "RequestTimeout" => S3Error(HttpStatusCode.BadRequest, "RequestTimeout"),
        "network" => new HttpRequestException("Connection refused"),
        "io" => new IOException("Unable to read data from the transport connection"),
        "http timeout" => new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout"),
        _ => throw new ArgumentOutOfRangeException(nameof(failure), failure, null),
    };

    /// <summary>A response body whose connection drops after the first byte.</summary>
    private sealed class BrokenStream : Stream
    {
        private bool _sentOne;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_sentOne)
            {
                throw new IOException("connection reset by peer");
            }

            _sentOne = true;
            buffer[offset] = 1;
            return 1;
        }

        public override void Flush() => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
