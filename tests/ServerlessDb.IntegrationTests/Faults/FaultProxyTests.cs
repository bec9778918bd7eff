using System.Net;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using ServerlessDb.IntegrationTests.Infrastructure;
using ServerlessDb.Locking.Ec2;

namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>The proxy itself: it forwards signed requests unchanged, and each fault does what it says, as moto sees it.</summary>
[Collection(MotoCollection.Name)]
public sealed class FaultProxyTests(MotoServerFixture moto)
{
    private const string Key = "databases/default.sqlite";

    [Fact]
    public async Task What_arrives_upstream_is_what_the_client_signed_and_sent()
    {
        await using var upstream = await EchoServer.StartAsync();
        await using var proxy = await FaultProxy.StartAsync(upstream.Url);
        using var s3 = S3Through(proxy.Url);
        var body = Encoding.UTF8.GetBytes(new string('x', 100_000));

        await s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = "bucket",
            Key = Key,
            InputStream = new MemoryStream(body),
            Metadata = { ["serverlessdb-commit-id"] = "c1" },
            IfMatch = "\"etag\"",
        });

        var sent = Assert.Single(proxy.Exchanges);
        var received = Assert.Single(upstream.Received);
        Assert.Equal("PUT", received.Method);
        Assert.Equal("/bucket/" + Key, received.Target);
        // Host is what the SDK signed: the proxy's own host and port, as the client connected to it.
        Assert.Equal($"{proxy.Url.Host}:{proxy.Url.Port}", received.Headers["Host"]);
        Assert.Contains("host", received.Headers["Authorization"], StringComparison.Ordinal);
        foreach (var (name, value) in sent.Headers)
        {
            if (name is "Expect" or "Connection" or "Transfer-Encoding")
            {
                continue;
            }

            Assert.True(received.Headers.TryGetValue(name, out var forwarded), $"{name} was not forwarded");
            Assert.Equal(value, forwarded);
        }

        Assert.StartsWith("AWS4-HMAC-SHA256 ", received.Headers["Authorization"], StringComparison.Ordinal);
        Assert.Equal("\"etag\"", received.Headers["If-Match"]);
        Assert.Equal("c1", received.Headers["x-amz-meta-serverlessdb-commit-id"]);
        Assert.Equal(sent.Headers["Content-Length"], received.BodyLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Signed_s3_and_ec2_calls_work_through_the_proxy_and_are_recorded()
    {
        var bucket = await moto.CreateBucketAsync();
        var vpc = await moto.CreateVpcAsync();
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var s3 = S3Through(proxy.Url);
        var ec2 = Ec2Through(proxy.Url);

        await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = Key, ContentBody = "hello" });
        var head = await s3.GetObjectMetadataAsync(bucket, Key);
        using (var get = await s3.GetObjectAsync(bucket, Key))
        using (var reader = new StreamReader(get.ResponseStream))
        {
            Assert.Equal("hello", await reader.ReadToEndAsync());
        }

        var groupId = await ec2.CreateSecurityGroupAsync("fault-proxy-check", vpc, "check", new Dictionary<string, string> { ["k"] = "v" }, default);
        var described = await ec2.DescribeSecurityGroupsAsync([new Ec2Filter("group-name", "fault-proxy-check")], default);
        await ec2.DeleteSecurityGroupAsync(groupId, default);

        Assert.Equal(5, head.ContentLength);
        Assert.Equal(groupId, Assert.Single(described).GroupId);
        Assert.Equal(
            ["PUT", "HEAD", "GET", "CreateSecurityGroup", "DescribeSecurityGroups", "DeleteSecurityGroup"],
            proxy.Exchanges.Select(e => e.Request.Ec2Action ?? e.Request.Method));
        Assert.All(proxy.Exchanges, e => Assert.True(e.Landed && e.Fault is null, e.ToString()));
    }

    [Theory]
    [InlineData(500, "InternalError")]
    [InlineData(503, "SlowDown")]
    public async Task An_s3_error_is_answered_without_forwarding(int status, string code)
    {
        var bucket = await moto.CreateBucketAsync();
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        var path = $"/{bucket}/{Key}";
        proxy.Add(FaultRule.S3Error(FaultRule.S3("PUT", path), FaultTimes.First(1), status, code));
        using var s3 = S3Through(proxy.Url);

        var error = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = Key, ContentBody = "one" }));
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = Key, ContentBody = "two" });

        Assert.Equal((HttpStatusCode)status, error.StatusCode);
        Assert.Equal(code, error.ErrorCode);
        Assert.Equal("two", await ReadDirectAsync(bucket));
        Assert.Equal([false, true], proxy.Where(FaultRule.S3("PUT", path)).Select(e => e.Landed));
    }

    [Fact]
    public async Task A_dropped_answer_landed_and_the_client_saw_a_reset()
    {
        var bucket = await moto.CreateBucketAsync();
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        proxy.Add(FaultRule.DropAnswer(FaultRule.S3("PUT"), FaultTimes.Every));
        using var s3 = S3Through(proxy.Url);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = Key, ContentBody = "landed" }));

        Assert.True(error is AmazonClientException or HttpRequestException or IOException, error.ToString());
        Assert.Equal("landed", await ReadDirectAsync(bucket));
        Assert.All(proxy.Where(FaultRule.S3("PUT")), e => Assert.True(e.Landed, e.ToString()));
    }

    [Fact]
    public async Task A_reset_before_forwarding_did_not_land()
    {
        var bucket = await moto.CreateBucketAsync();
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        proxy.Add(FaultRule.ResetBeforeForward(FaultRule.S3("PUT"), FaultTimes.Every));
        using var s3 = S3Through(proxy.Url);

        await Assert.ThrowsAnyAsync<Exception>(() => s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = Key, ContentBody = "lost" }));

        var missing = await Assert.ThrowsAsync<AmazonS3Exception>(() => moto.S3.GetObjectMetadataAsync(bucket, Key));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.All(proxy.Where(FaultRule.S3("PUT")), e => Assert.False(e.Forwarded, e.ToString()));
    }

    [Fact]
    public async Task A_late_answer_comes_after_the_delay_and_the_request_landed_before_it()
    {
        var bucket = await moto.CreateBucketAsync();
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        var delay = TimeSpan.FromSeconds(1.5);
        proxy.Add(FaultRule.DelayAnswer(FaultRule.S3("PUT"), FaultTimes.First(1), delay));
        using var s3 = S3Through(proxy.Url);

        var started = System.Diagnostics.Stopwatch.StartNew();
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = Key, ContentBody = "late" });

        // Timers may fire up to a tick early (1.4997 s was seen for 1.5 s): what matters is that the answer was held back.
        Assert.True(started.Elapsed >= delay - TimeSpan.FromMilliseconds(50), $"answered after {started.Elapsed}");
        Assert.Equal("late", await ReadDirectAsync(bucket));
    }

    [Fact]
    public async Task Ec2_throttling_is_answered_without_forwarding()
    {
        var vpc = await moto.CreateVpcAsync();
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        proxy.Add(FaultRule.Ec2Throttle(FaultRule.Ec2("CreateSecurityGroup"), FaultTimes.First(1)));
        var ec2 = Ec2Through(proxy.Url);
        var name = "throttled-" + Guid.NewGuid().ToString("N");

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => ec2.CreateSecurityGroupAsync(name, vpc, "d", new Dictionary<string, string>(), default));
        var groupsAfterRefusal = await new SecurityGroupsCli(moto).DescribeAsync(vpc, name);
        var groupId = await ec2.CreateSecurityGroupAsync(name, vpc, "d", new Dictionary<string, string>(), default);

        Assert.Equal("RequestLimitExceeded", error.Code);
        Assert.Equal(Ec2ErrorKind.Throttling, error.Kind);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Empty(groupsAfterRefusal);
        Assert.Equal(groupId, Assert.Single(await new SecurityGroupsCli(moto).DescribeAsync(vpc, name)).Id);
    }

    [Fact]
    public async Task A_truncated_body_has_the_full_length_but_half_the_bytes_then_breaks_off_and_a_held_answer_waits_for_its_release()
    {
        var bucket = await moto.CreateBucketAsync();
        var bytes = new byte[100_000];
        new Random(5).NextBytes(bytes);
        await moto.S3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = Key, InputStream = new MemoryStream(bytes) });
        await using var proxy = await FaultProxy.StartAsync(moto.EndpointUrl);
        using var s3 = S3Through(proxy.Url);
        var truncate = proxy.Add(FaultRule.TruncateBody(FaultRule.RangedGet(bucket), FaultTimes.First(1)));
        var ranged = new GetObjectRequest { BucketName = bucket, Key = Key, ByteRange = new ByteRange(1000, 80_999) };

        var read = new MemoryStream();
        var broke = await Record.ExceptionAsync(async () =>
        {
            using var get = await s3.GetObjectAsync(ranged);
            Assert.Equal(80_000, get.ContentLength);
            await get.ResponseStream.CopyToAsync(read);
        });

        Assert.True(
            broke is IOException or HttpRequestException or AmazonClientException,
            $"the truncated body was read without an error ({read.Length} bytes read; {broke}); the proxy saw: {string.Join("; ", await RecordedAsync(proxy, 1))}");
        Assert.True(read.Length <= 40_000, $"{read.Length} bytes of the truncated body were read");
        Assert.Equal(bytes.AsSpan(1000, (int)read.Length).ToArray(), read.ToArray());
        var exchange = Assert.Single(await RecordedAsync(proxy, 1));
        Assert.Equal(FaultKind.TruncateBody, exchange.Fault);
        Assert.Equal(206, exchange.UpstreamStatus);
        Assert.Equal(40_000, exchange.ResponseBytes);
        Assert.Equal("bytes=1000-80999", exchange.Request.Range);
        Assert.Equal(1, truncate.Fired);

        var hold = proxy.Add(FaultRule.HoldAnswer(FaultRule.RangedGet(bucket), FaultTimes.First(1)));
        var held = s3.GetObjectAsync(ranged);
        await hold.Acted.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(300);
        Assert.False(held.IsCompleted, "the held answer came before its release");
        hold.Release();
        using (var get = await held.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            var whole = new MemoryStream();
            await get.ResponseStream.CopyToAsync(whole);
            Assert.Equal(bytes.AsSpan(1000, 80_000).ToArray(), whole.ToArray());
        }

        Assert.Equal(80_000, (await RecordedAsync(proxy, 2))[^1].ResponseBytes);
    }

    /// <summary>
    /// The proxy's exchanges once it has recorded <paramref name="count"/> (or after 5 s, for the assertion to say what it
    /// saw): it records an exchange once it has finished with it, which may be just after the client read the body or
    /// saw it break off.
    /// </summary>
    private static async Task<IReadOnlyList<ProxiedExchange>> RecordedAsync(FaultProxy proxy, int count)
    {
        for (var wait = 0; proxy.Exchanges.Count < count && wait < 50; wait++)
        {
            await Task.Delay(100);
        }

        return proxy.Exchanges;
    }

    [Fact]
    public void A_seeded_probability_picks_the_same_matches_every_run()
    {
        static bool[] Draw() => Enumerable.Range(0, 50).Select(FaultTimes.WithProbability(0.3, seed: 7).Fires).ToArray();

        var first = Draw();

        Assert.Equal(first, Draw());
        Assert.InRange(first.Count(f => f), 5, 25);
    }

    private static AmazonS3Client S3Through(Uri endpoint) => new(
        new BasicAWSCredentials(MotoServerFixture.AccessKeyId, MotoServerFixture.SecretAccessKey),
        new AmazonS3Config { ServiceURL = endpoint.ToString(), ForcePathStyle = true, AuthenticationRegion = MotoServerFixture.Region, MaxErrorRetry = 0 });

    private static IEc2Client Ec2Through(Uri endpoint) => Ec2ClientFactory.Create(new Ec2ClientOptions(MotoServerFixture.Region, endpoint));

    private async Task<string> ReadDirectAsync(string bucket)
    {
        using var get = await moto.S3.GetObjectAsync(bucket, Key);
        using var reader = new StreamReader(get.ResponseStream);
        return await reader.ReadToEndAsync();
    }
}
