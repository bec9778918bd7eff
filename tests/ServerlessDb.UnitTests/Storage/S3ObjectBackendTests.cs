using System.Net;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Moq;
using ServerlessDb.Storage;
using ServerlessDb.Storage.S3;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>
/// What <see cref="S3ObjectBackend"/> sends (one request per call, the conditions as S3 headers) and how it reads S3's
/// answers into the port's failures; the behaviour shared with every backend is the contract's, run on moto.
/// </summary>
public sealed class S3ObjectBackendTests
{
    private const string Bucket = "my-databases";
    private const string Key = "databases/_locks/orders.lease";

    private readonly Mock<IAmazonS3> _s3 = new(MockBehavior.Strict);

    private S3ObjectBackend Backend() => new(_s3.Object, Bucket);

    private static AmazonS3Exception Error(HttpStatusCode status, string code) =>
        new($"S3 says {code}", status >= HttpStatusCode.InternalServerError ? ErrorType.Receiver : ErrorType.Sender, code, "request-1", status);

    [Fact]
    public async Task A_put_if_none_exists_is_one_PutObject_with_If_None_Match_star_the_bytes_and_the_content_type()
    {
        var sent = new List<(string Bucket, string Key, string? IfNoneMatch, string? IfMatch, string ContentType, string Body, string? Holder)>();
        _s3.Setup(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((PutObjectRequest r, CancellationToken _) =>
            {
                sent.Add((r.BucketName, r.Key, r.IfNoneMatch, r.IfMatch, r.ContentType, new StreamReader(r.InputStream).ReadToEnd(), r.Metadata["holder"]));
                return Task.FromResult(new PutObjectResponse { ETag = "\"e1\"" });
            });

        var etag = (await Backend().PutAsync(Key, ObjectBody.Of(Encoding.UTF8.GetBytes("{}")), PutCondition.IfNoneExists, new ObjectMetadata("application/json", new Dictionary<string, string> { ["holder"] = "req-1" }), CancellationToken.None)).ETag;

        Assert.Equal("\"e1\"", etag);
        Assert.Equal([(Bucket, Key, "*", null, "application/json", "{}", "req-1")], sent);
    }

    [Fact]
    public async Task A_put_if_match_sends_If_Match_and_no_If_None_Match()
    {
        PutObjectRequest? sent = null;
        _s3.Setup(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()))
            .Callback((PutObjectRequest r, CancellationToken _) => sent = r)
            .ReturnsAsync(new PutObjectResponse { ETag = "\"e2\"" });

        await Backend().PutAsync(Key, ObjectBody.Of(new byte[] { 1 }), PutCondition.IfMatch("\"e1\""), new ObjectMetadata("application/json"), CancellationToken.None);

        Assert.Equal(("\"e1\"", (string?)null), (sent!.IfMatch, sent.IfNoneMatch));
        _s3.Verify(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    public static TheoryData<HttpStatusCode, string, bool, string> Answers => new()
    {
        { HttpStatusCode.PreconditionFailed, "PreconditionFailed", false, nameof(ObjectBackendFailure.ConditionFailed) },
        { HttpStatusCode.PreconditionFailed, "PreconditionFailed", true, nameof(ObjectBackendFailure.ConditionFailed) },
        { HttpStatusCode.Conflict, "ConditionalRequestConflict", true, nameof(ObjectBackendFailure.Conflict) },
        { HttpStatusCode.NotFound, "NoSuchKey", true, nameof(ObjectBackendFailure.ConditionFailed) },
        { HttpStatusCode.NotFound, "NoSuchBucket", true, nameof(ObjectBackendFailure.Refused) },
        { HttpStatusCode.Forbidden, "AccessDenied", false, nameof(ObjectBackendFailure.Refused) },
        { HttpStatusCode.ServiceUnavailable, "SlowDown", true, nameof(ObjectBackendFailure.Unavailable) },
        { HttpStatusCode.InternalServerError, "InternalError", false, nameof(ObjectBackendFailure.Unavailable) },
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public async Task S3s_error_answers_become_the_ports_failures_once_with_S3s_words(HttpStatusCode status, string code, bool ifMatch, string expected)
    {
        _s3.Setup(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>())).ThrowsAsync(Error(status, code));
        var condition = ifMatch ? PutCondition.IfMatch("\"e1\"") : PutCondition.IfNoneExists;

        var error = await Assert.ThrowsAsync<ObjectBackendException>(() => Backend().PutAsync(Key, ObjectBody.Of(new byte[] { 1 }), condition, new ObjectMetadata("application/json"), CancellationToken.None));

        Assert.Equal(expected, error.Failure.ToString());
        Assert.Equal($"{code} ({(int)status}): S3 says {code}", error.Detail);
        Assert.Equal($"PutObject on s3://{Bucket}/{Key} failed: {code} ({(int)status}): S3 says {code}", error.Message);
        _s3.Verify(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_broken_connection_or_an_HTTP_timeout_is_unavailable_but_the_callers_cancellation_passes_through()
    {
        _s3.SetupSequence(s => s.DeleteObjectAsync(It.IsAny<DeleteObjectRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new HttpRequestException("connection reset"))
            .ThrowsAsync(new TaskCanceledException("the HTTP timeout"))
            .ThrowsAsync(new OperationCanceledException());
        using var cancelled = new CancellationTokenSource();

        var reset = await Assert.ThrowsAsync<ObjectBackendException>(() => Backend().DeleteAsync(Key, "\"e1\"", versionId: null, CancellationToken.None));
        var timeout = await Assert.ThrowsAsync<ObjectBackendException>(() => Backend().DeleteAsync(Key, "\"e1\"", versionId: null, CancellationToken.None));
        await cancelled.CancelAsync();
        var caller = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Backend().DeleteAsync(Key, "\"e1\"", versionId: null, cancelled.Token));

        Assert.Equal((ObjectBackendFailure.Unavailable, ObjectBackendFailure.Unavailable), (reset.Failure, timeout.Failure));
        Assert.Equal("HttpRequestException: connection reset", reset.Detail);
        Assert.IsNotType<ObjectBackendException>(caller);
    }

    [Fact]
    public async Task A_get_of_a_missing_key_is_null_and_an_answer_without_an_ETag_is_refused()
    {
        _s3.SetupSequence(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(Error(HttpStatusCode.NotFound, "NoSuchKey"))
            .ReturnsAsync(new GetObjectResponse { ResponseStream = new MemoryStream([1, 2]) });

        Assert.Null(await Backend().GetSmallAsync(Key, ObjectSelector.Current, 10, CancellationToken.None));
        var error = await Assert.ThrowsAsync<ObjectBackendException>(() => Backend().GetSmallAsync(Key, ObjectSelector.Current, 10, CancellationToken.None));

        Assert.Equal(ObjectBackendFailure.Refused, error.Failure);
        Assert.Equal($"AmazonS3Exception: S3 answered GetObject on s3://{Bucket}/{Key} without an ETag.", error.Detail);
    }

    [Fact]
    public async Task A_delete_sends_If_Match_only_when_given()
    {
        var sent = new List<string?>();
        _s3.Setup(s => s.DeleteObjectAsync(It.IsAny<DeleteObjectRequest>(), It.IsAny<CancellationToken>()))
            .Callback((DeleteObjectRequest r, CancellationToken _) => sent.Add(r.IfMatch))
            .ReturnsAsync(new DeleteObjectResponse());

        await Backend().DeleteAsync(Key, "\"e1\"", versionId: null, CancellationToken.None);
        await Backend().DeleteAsync(Key, ifMatch: null, versionId: null, CancellationToken.None);

        Assert.Equal(["\"e1\"", null], sent);
    }

    [Fact]
    public async Task A_listing_page_is_one_ListObjectsV2_and_gives_the_next_token_only_when_truncated()
    {
        _s3.SetupSequence(s => s.ListObjectsV2Async(It.Is<ListObjectsV2Request>(r => r.BucketName == Bucket && r.Prefix == "databases/_locks/"), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new ListObjectsV2Response { S3Objects = [new S3Object { Key = "databases/_locks/a.lease" }], IsTruncated = true, NextContinuationToken = "next" })
            .ReturnsAsync(new ListObjectsV2Response { S3Objects = null, IsTruncated = false, NextContinuationToken = "ignored" });

        var first = await Backend().ListAsync(new ListRequest("databases/_locks/"), CancellationToken.None);
        var last = await Backend().ListAsync(new ListRequest("databases/_locks/", Continuation: "next"), CancellationToken.None);

        Assert.Equal(["databases/_locks/a.lease"], first.Keys.ToList());
        Assert.Equal("next", first.NextContinuation);
        Assert.Empty(last.Keys);
        Assert.Null(last.NextContinuation);
    }

    [Fact]
    public async Task Deleting_versions_sends_quiet_DeleteObjects_of_at_most_1000_keys_each_by_version_id()
    {
        var sent = new List<(string Bucket, bool Quiet, List<(string Key, string VersionId)> Objects)>();
        _s3.Setup(s => s.DeleteObjectsAsync(It.IsAny<DeleteObjectsRequest>(), It.IsAny<CancellationToken>()))
            .Callback((DeleteObjectsRequest r, CancellationToken _) => sent.Add((r.BucketName, r.Quiet == true, [.. r.Objects.Select(o => (o.Key, o.VersionId))])))
            .ReturnsAsync(new DeleteObjectsResponse());
        ObjectVersionRef[] versions = [.. Enumerable.Range(0, 2001).Select(i => new ObjectVersionRef($"databases/_chunks/orders/{i:D64}", $"v{i}"))];

        var failures = await Backend().DeleteVersionsAsync(versions, CancellationToken.None);

        Assert.Empty(failures);
        Assert.Equal([1000, 1000, 1], sent.Select(r => r.Objects.Count));
        Assert.All(sent, r => Assert.Equal((Bucket, true), (r.Bucket, r.Quiet)));
        Assert.Equal(versions.Select(v => (v.Key, v.VersionId)), sent.SelectMany(r => r.Objects));
    }

    [Fact]
    public async Task Versions_S3_did_not_delete_come_back_as_failures_whether_it_answered_or_threw_DeleteObjectsException()
    {
        _s3.SetupSequence(s => s.DeleteObjectsAsync(It.IsAny<DeleteObjectsRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new DeleteObjectsResponse
            {
                DeletedObjects = [new DeletedObject { Key = "k/1", VersionId = "v1" }],
                DeleteErrors = [new DeleteError { Key = "k/2", VersionId = "v2", Code = "AccessDenied", Message = "Access Denied" }],
            })
            .ThrowsAsync(new DeleteObjectsException(new DeleteObjectsResponse
            {
                DeleteErrors = [new DeleteError { Key = "k/1001", VersionId = "v1001", Code = "InternalError", Message = "try again" }],
            }));
        ObjectVersionRef[] versions = [.. Enumerable.Range(1, 1001).Select(i => new ObjectVersionRef($"k/{i}", $"v{i}"))];

        var failures = await Backend().DeleteVersionsAsync(versions, CancellationToken.None);

        Assert.Equal(
            [new VersionDeleteFailure(new ObjectVersionRef("k/2", "v2"), "AccessDenied: Access Denied"), new VersionDeleteFailure(new ObjectVersionRef("k/1001", "v1001"), "InternalError: try again")],
            failures);
    }

    [Theory]
    [InlineData("Enabled", true, "Enabled")]
    [InlineData("Suspended", false, "Suspended")]
    [InlineData(null, false, "never enabled")]
    public async Task Versioning_is_enabled_only_when_S3_says_Enabled_and_says_S3s_status(string? status, bool enabled, string said)
    {
        GetBucketVersioningRequest? sent = null;
        _s3.Setup(s => s.GetBucketVersioningAsync(It.IsAny<GetBucketVersioningRequest>(), It.IsAny<CancellationToken>()))
            .Callback((GetBucketVersioningRequest r, CancellationToken _) => sent = r)
            .ReturnsAsync(new GetBucketVersioningResponse { VersioningConfig = new S3BucketVersioningConfig { Status = status is null ? null : VersionStatus.FindValue(status) } });

        var versioning = await Backend().VersioningAsync(CancellationToken.None);

        Assert.Equal(new ObjectVersioning(enabled, said), versioning);
        Assert.Equal(Bucket, sent!.BucketName);
    }
}
