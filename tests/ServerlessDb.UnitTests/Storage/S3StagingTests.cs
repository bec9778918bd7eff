using System.Net;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Moq;
using ServerlessDb.Errors;
using ServerlessDb.Storage;
using ServerlessDb.Storage.S3;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>The S3 store's staging area for large loads, with Moq at <see cref="IAmazonS3"/>: keys, retries, and deleting exactly the version taken.</summary>
public sealed class S3StagingTests : IDisposable
{
    private const string Bucket = "test-bucket";
    private const string Id = "0123456789abcdef0123456789abcdef";
    private const string StagingKey = "databases/_staging/shop/" + Id + ".sqlite";

    private readonly string _root = Directory.CreateTempSubdirectory("sdb-staging-tests-").FullName;
    private readonly Mock<IAmazonS3> _s3 = new(MockBehavior.Strict);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private DatabaseStore CreateStore() =>
        TestStoreOptions.For(Bucket, TimeSpan.FromSeconds(5)).CreateStore(_s3.Object, Path.Combine(_root, "cache"), TimeProvider.System, TimeSpan.FromMilliseconds(10));

    private static AmazonS3Exception S3Error(HttpStatusCode status, string code) => new($"{code} from the test", ErrorType.Sender, code, "request-1", status);

    private static GetObjectResponse Object(byte[] content, string versionId) =>
        new() { ResponseStream = new MemoryStream(content), ETag = "\"e1\"", VersionId = versionId, HttpStatusCode = HttpStatusCode.OK };

    [Fact]
    public async Task An_upload_slot_is_a_presigned_put_of_a_key_in_the_databases_staging_folder()
    {
        GetPreSignedUrlRequest? signed = null;
        _s3.Setup(s => s.GetPreSignedURLAsync(It.IsAny<GetPreSignedUrlRequest>()))
            .Callback((GetPreSignedUrlRequest r) => signed = r)
            .ReturnsAsync((GetPreSignedUrlRequest r) => $"https://{r.BucketName}.s3.amazonaws.com/{r.Key}?X-Amz-Signature=x");
        var before = DateTime.UtcNow;
        var store = (TestStoreOptions.For(Bucket, TimeSpan.FromSeconds(5)) with { OverTls = true }).CreateStore(_s3.Object, Path.Combine(_root, "cache"), TimeProvider.System, TimeSpan.FromMilliseconds(10));
        var upload = await store.CreateUploadAsync("shop", TimeSpan.FromMinutes(15), default);

        Assert.Matches("^[0-9a-f]{32}$", upload.Id);
        Assert.Equal(HttpVerb.PUT, signed!.Verb);
        Assert.Equal(Bucket, signed.BucketName);
        Assert.Equal($"databases/_staging/shop/{upload.Id}.sqlite", signed.Key);
        Assert.InRange(signed.Expires!.Value, before.AddMinutes(15).AddSeconds(-1), DateTime.UtcNow.AddMinutes(15).AddSeconds(1));
        Assert.Equal(Amazon.S3.Protocol.HTTPS, signed.Protocol);
        Assert.EndsWith(signed.Key + "?X-Amz-Signature=x", upload.UploadUrl.AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_download_is_retried_through_a_transient_failure_and_the_delete_names_the_version_it_took()
    {
        var content = Encoding.ASCII.GetBytes("staged bytes");
        var gets = 0;
        _s3.Setup(s => s.GetObjectAsync(It.Is<GetObjectRequest>(r => r.BucketName == Bucket && r.Key == StagingKey), It.IsAny<CancellationToken>()))
            .Returns(() => ++gets == 1 ? throw S3Error(HttpStatusCode.ServiceUnavailable, "SlowDown") : Task.FromResult(Object(content, "v-7")));
        DeleteObjectRequest? deleted = null;
        _s3.Setup(s => s.DeleteObjectAsync(It.IsAny<DeleteObjectRequest>(), It.IsAny<CancellationToken>()))
            .Callback((DeleteObjectRequest r, CancellationToken _) => deleted = r)
            .ReturnsAsync(new DeleteObjectResponse());
        var store = CreateStore();
        var target = Path.Combine(_root, "staged.sqlite");

        var staged = await store.DownloadAsync("shop", Id, target, default);
        await store.DeleteAsync("shop", staged!, default);

        Assert.Equal(2, gets);
        Assert.Equal(content, File.ReadAllBytes(target));
        Assert.Equal(new StagedObject(Id, content.Length, "v-7"), staged);
        Assert.Equal((Bucket, StagingKey, "v-7"), (deleted!.BucketName, deleted.Key, deleted.VersionId));
    }

    [Fact]
    public async Task Nothing_staged_under_the_id_is_null_and_writes_no_file()
    {
        _s3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(S3Error(HttpStatusCode.NotFound, "NoSuchKey"));
        var target = Path.Combine(_root, "staged.sqlite");

        Assert.Null(await CreateStore().DownloadAsync("shop", Id, target, default));
        Assert.False(File.Exists(target));
    }

    [Fact]
    public async Task A_refused_download_is_storage_unavailable_naming_the_staging_key()
    {
        _s3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(S3Error(HttpStatusCode.Forbidden, "AccessDenied"));

        var failure = await Assert.ThrowsAsync<StorageUnavailableException>(() => CreateStore().DownloadAsync("shop", Id, Path.Combine(_root, "x"), default));
        Assert.Contains($"s3://{Bucket}/{StagingKey}", failure.Message, StringComparison.Ordinal);
    }
}
