using System.Net;
using System.Text;
using Amazon.S3.Model;

namespace ServerlessDb.IntegrationTests.Infrastructure;

[Collection(MotoCollection.Name)]
public sealed class MotoServerFixtureTests(MotoServerFixture moto)
{
    [Fact]
    public void Moto_listens_on_loopback()
    {
        Assert.Equal("127.0.0.1", moto.EndpointUrl.Host);
        Assert.NotEqual(0, moto.EndpointUrl.Port);
    }

    [Fact]
    public async Task A_fresh_bucket_takes_an_object_and_gives_it_back()
    {
        var bucket = await moto.CreateBucketAsync();
        var content = "SQLite format 3\0 and some bytes"u8.ToArray();

        var put = await moto.S3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = bucket,
            Key = "databases/default.sqlite",
            InputStream = new MemoryStream(content),
        });
        using var get = await moto.S3.GetObjectAsync(bucket, "databases/default.sqlite");
        using var read = new MemoryStream();
        await get.ResponseStream.CopyToAsync(read);

        Assert.Equal(HttpStatusCode.OK, put.HttpStatusCode);
        Assert.Equal(content, read.ToArray());
        Assert.Equal(put.ETag, get.ETag);
    }

    [Fact]
    public async Task Each_bucket_is_new_and_empty()
    {
        var first = await moto.CreateBucketAsync();
        var second = await moto.CreateBucketAsync();
        await moto.S3.PutObjectAsync(new PutObjectRequest { BucketName = first, Key = "a", ContentBody = "x" });

        var listed = await moto.S3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = second });

        Assert.NotEqual(first, second);
        Assert.Empty(listed.S3Objects ?? []);
    }

    [Fact]
    public async Task A_vpc_can_be_created_through_the_ec2_api()
    {
        var vpcId = await moto.CreateVpcAsync();

        var described = await moto.RunAwsCliAsync(
            ["ec2", "describe-vpcs", "--vpc-ids", vpcId, "--query", "Vpcs[0].CidrBlock", "--output", "text"]);

        Assert.StartsWith("vpc-", vpcId, StringComparison.Ordinal);
        Assert.Equal("10.0.0.0/16", described.Trim());
    }

    [Fact]
    public void The_test_process_has_dummy_credentials_for_the_default_chain()
    {
        Assert.Equal(MotoServerFixture.AccessKeyId, Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"));
        Assert.Equal(MotoServerFixture.SecretAccessKey, Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY"));
        Assert.Equal(MotoServerFixture.Region, Environment.GetEnvironmentVariable("AWS_REGION"));
    }

    [Fact]
    public async Task Put_with_a_stale_if_match_is_refused()
    {
        // The storage layer's correctness rests on this (DESIGN.md invariant 1): moto must honour it too.
        var bucket = await moto.CreateBucketAsync();
        await moto.S3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "k", ContentBody = "v1" });
        await moto.S3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "k", ContentBody = "v2" });

        var refused = await Assert.ThrowsAsync<Amazon.S3.AmazonS3Exception>(() => moto.S3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = bucket,
            Key = "k",
            ContentBody = "v3",
            IfMatch = "\"" + Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(Encoding.UTF8.GetBytes("v1"))) + "\"",
        }));

        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
    }
}
