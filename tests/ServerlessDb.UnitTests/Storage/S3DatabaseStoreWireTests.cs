using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.Time.Testing;
using ServerlessDb.Errors;
using ServerlessDb.Storage;
using ServerlessDb.Storage.S3;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>The real AmazonS3Client, configured by S3ClientFactory, against a scripted local server.</summary>
public sealed class S3DatabaseStoreWireTests : IDisposable
{
    private const string Bucket = "wire-bucket";
    private const string Db = "wire";
    private const string ObjectPath = "/wire-bucket/databases/wire.sqlite";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "sdb-s3wire-tests-" + Guid.NewGuid().ToString("N"));

    public S3DatabaseStoreWireTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Commits_put_the_conditions_on_the_wire_and_a_412_is_a_conflict_once_the_stored_commit_is_seen()
    {
        var matchingPuts = 0;
        using var server = new ScriptedHttpServer(request => (request.Method, request.Header("If-Match"), request.Header("If-None-Match")) switch
        {
            ("PUT", null, "*") => ScriptedResponse.Ok("\"w1\""),
            ("PUT", "\"w1\"", null) when ++matchingPuts == 1 => ScriptedResponse.Ok("\"w2\""),
            ("PUT", _, _) => ScriptedResponse.Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"),
            ("HEAD", _, _) => StoredHead("\"w2\"", commitId: "another-writer", parent: "w1"),
            _ => ScriptedResponse.Error(400, "Unexpected", $"{request.Method} {request.Path}"),
        });
        var (store, client) = CreateStore(server);
        using var _ = client;

        var created = (await store.CommitAsync(Db, DatabaseETag.Missing, WriteWorkFile("SQLite format 3\0first"), default)).ETag;
        var updated = (await store.CommitAsync(Db, created, WriteWorkFile("SQLite format 3\0second"), default)).ETag;
        var conflict = await Assert.ThrowsAsync<WriteConflictException>(
            () => store.CommitAsync(Db, created, WriteWorkFile("SQLite format 3\0stale"), default));

        Assert.Equal(new DatabaseETag("\"w1\""), created);
        Assert.Equal(new DatabaseETag("\"w2\""), updated);
        Assert.Contains("PreconditionFailed (412)", conflict.Message);
        var requests = server.Requests.ToArray();
        Assert.Equal(["PUT", "PUT", "PUT", "HEAD"], requests.Select(r => r.Method));
        Assert.All(requests, r => Assert.Equal(ObjectPath, r.Path));
        var puts = requests[..3];

        Assert.Equal("*", puts[0].Header("If-None-Match"));
        Assert.Null(puts[0].Header("If-Match"));
        Assert.Equal("\"w1\"", puts[1].Header("If-Match"));
        Assert.Null(puts[1].Header("If-None-Match"));
        Assert.Equal("\"w1\"", puts[2].Header("If-Match"));

        Assert.All(puts, put => Assert.Matches("^[0-9a-f]{32}$", put.Header("x-amz-meta-" + StoredMetadata.CommitIdKey)));
        Assert.Equal(["none", "w1", "w1"], puts.Select(put => put.Header("x-amz-meta-" + StoredMetadata.ParentETagKey)));
        Assert.Contains("SQLite format 3\0second", Encoding.Latin1.GetString(puts[1].Body));
    }

    [Fact]
    public async Task A_412_for_a_put_that_landed_is_our_commit_when_the_stored_object_carries_our_commit_id()
    {
        // As when the HTTP stack re-sends a PUT whose first copy landed: the copy's answer is a 412.
        string? sentCommitId = null;
        using var server = new ScriptedHttpServer(request =>
        {
            if (request.Method == "PUT")
            {
                sentCommitId = request.Header("x-amz-meta-" + StoredMetadata.CommitIdKey);
                return ScriptedResponse.Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
            }

            return request.Method == "HEAD"
                ? StoredHead("\"mine\"", sentCommitId!, parent: "w1")
                : ScriptedResponse.Error(400, "Unexpected", $"{request.Method} {request.Path}");
        });
        var (store, client) = CreateStore(server);
        using var _ = client;

        var version = (await store.CommitAsync(Db, new DatabaseETag("\"w1\""), WriteWorkFile("SQLite format 3\0mine"), default)).ETag;

        Assert.Equal(new DatabaseETag("\"mine\""), version);
        Assert.Equal(["PUT", "HEAD"], server.Requests.Select(r => r.Method));
    }

    private static ScriptedResponse StoredHead(string etag, string commitId, string parent) => new(
        200,
        [],
        new Dictionary<string, string>
        {
            ["ETag"] = etag,
            ["x-amz-meta-" + StoredMetadata.CommitIdKey] = commitId,
            ["x-amz-meta-" + StoredMetadata.ParentETagKey] = parent,
        });

    [Fact]
    public async Task A_read_revalidates_with_IfNoneMatch_and_the_SDKs_304_keeps_the_cached_file()
    {
        var content = DatabaseBytes.Marked(42);

        // The SDK checks a GET body against a plain ETag as its MD5, as S3's single-part ETags are.
        var etag = $"\"{Convert.ToHexStringLower(MD5.HashData(content))}\"";
        using var server = new ScriptedHttpServer(request => (request.Method, request.Header("If-None-Match")) switch
        {
            ("GET", null) => ScriptedResponse.Ok(etag, content),
            ("GET", var cached) when cached == etag => ScriptedResponse.NotModified(etag),
            _ => ScriptedResponse.Error(400, "Unexpected", $"{request.Method} {request.Path}"),
        });
        var (store, client) = CreateStore(server);
        using var _ = client;

        using var first = await store.GetAsync(Db, null, default);
        using var second = await store.GetAsync(Db, null, default);

        Assert.Equal(new DatabaseETag(etag), second.ETag);
        Assert.Equal(first.FilePath, second.FilePath);
        Assert.Equal(content, File.ReadAllBytes(second.FilePath));
        var gets = server.Requests.ToArray();
        Assert.Equal(2, gets.Length);
        Assert.All(gets, get => Assert.Equal(("GET", ObjectPath), (get.Method, get.Path)));
        Assert.Equal(etag, gets[1].Header("If-None-Match"));
    }

    [Fact]
    public async Task A_NoSuchKey_answer_is_a_missing_database_and_AccessDenied_is_unavailable()
    {
        var denied = false;
        using var server = new ScriptedHttpServer(_ => denied
            ? ScriptedResponse.Error(403, "AccessDenied", "Access Denied")
            : ScriptedResponse.Error(404, "NoSuchKey", "The specified key does not exist."));
        var (store, client) = CreateStore(server);
        using var _ = client;

        using (var missing = await store.GetAsync(Db, null, default))
        {
            Assert.Equal(DatabaseETag.Missing, missing.ETag);
            Assert.Equal(0, new FileInfo(missing.FilePath).Length);
        }

        denied = true;
        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.GetAsync(Db, null, default));

        Assert.Contains($"s3://{Bucket}/databases/wire.sqlite: AccessDenied (403)", error.Message);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task A_server_that_does_not_answer_is_unavailable_at_the_deadline()
    {
        using var answer = new ManualResetEventSlim();
        using var server = new ScriptedHttpServer(_ =>
        {
            answer.Wait(TimeSpan.FromSeconds(30));
            return ScriptedResponse.Error(500, "InternalError", "too late");
        });
        var time = new FakeTimeProvider();
        var (store, client) = CreateStore(server, TimeSpan.FromSeconds(1), time);
        using var _ = client;

        try
        {
            // The server holds the request until the end: only the deadline, on the fake clock, can end the read.
            var reading = store.GetAsync(Db, null, default);
            await Bounded.WaitUntilAsync(() => !server.Requests.IsEmpty, "the GetObject reached the server");
            time.Advance(TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(1));
            Assert.False(reading.IsCompleted, "gave up before the deadline");
            time.Advance(TimeSpan.FromTicks(1));
            var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => reading.WaitAsync(Bounded.DefaultBound));

            Assert.StartsWith($"S3 did not answer GetObject on s3://{Bucket}/databases/wire.sqlite within 1s", error.Message);
            Assert.Single(server.Requests);
        }
        finally
        {
            answer.Set();
        }
    }

    [Fact]
    public async Task A_link_presigns_the_version_id_the_get_answered_and_asks_no_more()
    {
        var content = DatabaseBytes.Valid();
        var etag = "\"" + Convert.ToHexStringLower(MD5.HashData(content)) + "\"";
        using var server = new ScriptedHttpServer(request => request.Method == "GET"
            ? new ScriptedResponse(200, content, new Dictionary<string, string> { ["ETag"] = etag, ["x-amz-version-id"] = "ver-1" })
            : ScriptedResponse.Error(400, "Unexpected", $"{request.Method} {request.Path}"));
        var (store, client) = CreateStore(server);
        using var _ = client;
        using var snapshot = await store.GetAsync(Db, null, default);

        var link = await store.LinkToAsync(Db, snapshot.ETag, TimeSpan.FromMinutes(5), default);

        Assert.Equal(server.Url.Authority, link.Authority);
        Assert.Equal("http", link.Scheme);
        Assert.Equal(ObjectPath, link.AbsolutePath);
        Assert.Contains("versionId=ver-1", link.Query, StringComparison.Ordinal);
        Assert.Contains("X-Amz-Expires=300", link.Query, StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_link_to_a_version_not_seen_here_asks_a_head_conditional_on_its_etag()
    {
        var superseded = false;
        using var server = new ScriptedHttpServer(request => (request.Method, superseded) switch
        {
            ("HEAD", false) => new ScriptedResponse(200, [], new Dictionary<string, string> { ["ETag"] = "\"h1\"", ["x-amz-version-id"] = "ver-h" }),
            ("HEAD", true) => new ScriptedResponse(412, []),
            _ => ScriptedResponse.Error(400, "Unexpected", $"{request.Method} {request.Path}"),
        });
        var (store, client) = CreateStore(server);
        using var _ = client;

        var link = await store.LinkToAsync(Db, new DatabaseETag("\"h1\""), TimeSpan.FromMinutes(5), default);
        Assert.Contains("versionId=ver-h", link.Query, StringComparison.Ordinal);
        Assert.Equal("\"h1\"", Assert.Single(server.Requests).Header("If-Match"));

        superseded = true;
        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.LinkToAsync(Db, new DatabaseETag("\"h1\""), TimeSpan.FromMinutes(5), default));
        Assert.Contains("changed while its backup was taken", error.Message, StringComparison.Ordinal);
    }

    private (DatabaseStore Store, AmazonS3Client Client) CreateStore(ScriptedHttpServer server, TimeSpan? deadline = null, TimeProvider? time = null)
    {
        var options = TestStoreOptions.For(Bucket, deadline ?? TimeSpan.FromSeconds(5));
        var config = S3ClientFactory.CreateConfig(new S3ClientOptions("us-east-1", server.Url, options.RetryDeadline));
        var client = new AmazonS3Client(new BasicAWSCredentials("AKIDEXAMPLE", "wire-test-secret"), config);
        return (options.CreateStore(client, Path.Combine(_root, "cache"), time), client);
    }

    private string WriteWorkFile(string content)
    {
        var path = Path.Combine(_root, "work-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, Encoding.Latin1.GetBytes(content));
        return path;
    }
}
