using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.S3.Model;
using ServerlessDb.IntegrationTests.Infrastructure;

namespace ServerlessDb.IntegrationTests.BadInput;

/// <summary>The bad-input catalogue through the real QueryRunner handler, fed API Gateway events, with S3 on moto.</summary>
[Collection(MotoCollection.Name)]
public sealed class BadInputQueryRunnerTests(MotoServerFixture moto)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Theory]
    [MemberData(nameof(BadInputCatalogue.AllCaseNames), MemberType = typeof(BadInputCatalogue))]
    public async Task Each_bad_input_gets_its_documented_answer_in_time_and_leaves_the_bucket_byte_identical(string name)
    {
        var badInput = BadInputCatalogue.Named(name);
        var bucket = await moto.CreateBucketAsync();
        using var runner = new QueryRunnerInstance(moto, bucket);
        var setup = await runner.PostAsync("/db/execute", JsonSerializer.Serialize(BadInputCatalogue.Setup));
        Assert.True(setup.StatusCode == 200, setup.Body);
        var before = await ObjectsAsync(bucket);

        var response = await runner.InvokeAsync(EventFor(badInput)).WaitAsync(Bound);

        Assert.True(response.StatusCode == badInput.Status, $"{name}: expected {badInput.Status}, got {response.StatusCode}: {Shorten(response.Body)}");
        Assert.Contains(badInput.Expected, response.Body, StringComparison.Ordinal);
        Assert.Equal(before, await ObjectsAsync(bucket));
    }

    /// <summary>HTTP cases alternate between payload 2.0 and 1.0, so both mappings meet every kind of bad input.</summary>
    private static string EventFor(BadInputCase badInput)
    {
        if (badInput.RawEvent is { } raw)
        {
            return raw;
        }

        var headers = new Dictionary<string, string> { ["content-type"] = badInput.ContentType };
        var v1 = BadInputCatalogue.Cases.ToList().IndexOf(badInput) % 2 == 1;
        var json = v1
            ? ApiGatewayEvents.RestApiV1(badInput.Method, badInput.Path, badInput.Query, headers)
            : ApiGatewayEvents.HttpApiV2(badInput.Method, badInput.Path, badInput.Query, headers);
        if (badInput.Body is not { } body)
        {
            return json;
        }

        // Bytes that are not UTF-8 can only travel base64-encoded, as API Gateway sends them.
        var node = JsonNode.Parse(json)!.AsObject();
        var text = TryDecodeUtf8(body);
        node["body"] = text ?? Convert.ToBase64String(body);
        node["isBase64Encoded"] = text is null;
        return node.ToJsonString();
    }

    private static string? TryDecodeUtf8(byte[] body)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private async Task<List<string>> ObjectsAsync(string bucket)
    {
        var listed = await moto.S3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
        var objects = new List<string>();
        foreach (var item in (listed.S3Objects ?? []).OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            using var got = await moto.S3.GetObjectAsync(bucket, item.Key);
            using var content = new MemoryStream();
            await got.ResponseStream.CopyToAsync(content);
            objects.Add($"{item.Key} {got.ETag} {Convert.ToHexString(SHA256.HashData(content.ToArray()))}");
        }

        Assert.NotEmpty(objects);
        return objects;
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "...";
}
