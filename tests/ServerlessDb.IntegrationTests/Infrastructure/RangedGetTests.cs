using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>
/// The fixture's launcher (tools/atomic_moto_server.py) reads only the range a ranged GET asks for, where moto alone
/// reads the whole object and slices it: the answers must be S3's all the same, byte for byte, for every form of a
/// range, under conditions and on versions, on an object large enough to live in moto's temporary file.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class RangedGetTests(MotoServerFixture moto)
{
    private const int ObjectBytes = 7 * 1024 * 1024 + 123;
    private const string Key = "databases/ranged.sqlite";

    private static readonly byte[] Content = NewContent(1);

    [Theory]
    [InlineData(0L, 0L)]
    [InlineData(0L, 4095L)]
    [InlineData(2_097_152L, 2_228_223L)]
    [InlineData(ObjectBytes - 10L, ObjectBytes - 1L)]
    [InlineData(ObjectBytes - 10L, ObjectBytes + 5000L)] // an end past the object is cut at its last byte
    public async Task A_range_answers_206_with_exactly_its_bytes(long first, long last)
    {
        var bucket = await moto.CreateBucketAsync();
        await PutAsync(bucket, Content);

        using var answer = await moto.S3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = Key, ByteRange = new ByteRange(first, last) });

        var end = Math.Min(last, ObjectBytes - 1);
        Assert.Equal(HttpStatusCode.PartialContent, answer.HttpStatusCode);
        Assert.Equal(Content[(int)first..(int)(end + 1)], await BodyAsync(answer));
        Assert.Equal($"bytes {first}-{end}/{ObjectBytes}", answer.ContentRange);
    }

    [Fact]
    public async Task An_open_range_and_a_suffix_range_answer_the_rest_and_the_last_bytes()
    {
        var bucket = await moto.CreateBucketAsync();
        await PutAsync(bucket, Content);

        using var rest = await moto.S3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = Key, ByteRange = new ByteRange("bytes=7000000-") });
        using var suffix = await moto.S3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = Key, ByteRange = new ByteRange("bytes=-300") });
        using var whole = await moto.S3.GetObjectAsync(bucket, Key);

        Assert.Equal(Content[7_000_000..], await BodyAsync(rest));
        Assert.Equal(Content[^300..], await BodyAsync(suffix));
        Assert.Equal(Content, await BodyAsync(whole));
    }

    [Fact]
    public async Task A_range_past_the_end_is_refused_with_416()
    {
        var bucket = await moto.CreateBucketAsync();
        await PutAsync(bucket, Content);

        var refused = await Assert.ThrowsAsync<AmazonS3Exception>(() =>
            moto.S3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = Key, ByteRange = new ByteRange(ObjectBytes, ObjectBytes + 10L) }));

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, refused.StatusCode);
    }

    [Fact]
    public async Task A_range_on_condition_of_an_etag_answers_the_pinned_bytes_or_412_once_the_object_changed()
    {
        var bucket = await moto.CreateBucketAsync();
        var pinned = await PutAsync(bucket, Content);

        using (var matching = await moto.S3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = Key, EtagToMatch = pinned.ETag, ByteRange = new ByteRange(100, 199) }))
        {
            Assert.Equal(Content[100..200], await BodyAsync(matching));
        }

        await PutAsync(bucket, NewContent(2));
        var replaced = await Assert.ThrowsAsync<AmazonS3Exception>(() =>
            moto.S3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = Key, EtagToMatch = pinned.ETag, ByteRange = new ByteRange(100, 199) }));
        Assert.Equal(HttpStatusCode.PreconditionFailed, replaced.StatusCode);
    }

    [Fact]
    public async Task A_range_of_an_older_version_answers_that_versions_bytes()
    {
        var bucket = await moto.CreateVersionedBucketAsync();
        var older = await PutAsync(bucket, Content);
        var newer = NewContent(3);
        await PutAsync(bucket, newer);

        using var ofOlder = await moto.S3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = Key, VersionId = older.VersionId, ByteRange = new ByteRange(5_000_000, 5_000_999) });
        using var ofNewer = await moto.S3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = Key, ByteRange = new ByteRange(5_000_000, 5_000_999) });

        Assert.Equal(Content[5_000_000..5_001_000], await BodyAsync(ofOlder));
        Assert.Equal(newer[5_000_000..5_001_000], await BodyAsync(ofNewer));
    }

    private async Task<PutObjectResponse> PutAsync(string bucket, byte[] content) =>
        await moto.S3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = Key, InputStream = new MemoryStream(content) });

    private static async Task<byte[]> BodyAsync(GetObjectResponse answer)
    {
        using var body = new MemoryStream();
        await answer.ResponseStream.CopyToAsync(body);
        return body.ToArray();
    }

    private static byte[] NewContent(int seed)
    {
        var content = new byte[ObjectBytes];
        new Random(seed).NextBytes(content);
        return content;
    }
}
