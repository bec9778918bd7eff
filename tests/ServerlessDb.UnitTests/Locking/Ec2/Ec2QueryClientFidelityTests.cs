using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using ServerlessDb.Locking.Ec2;

namespace ServerlessDb.UnitTests.Locking.Ec2;

/// <summary>
/// For the same inputs, credentials and time, the request we send is the one botocore sends:
/// same form body, same SigV4 Authorization. One difference is by design of AWSSDK.Core's signer:
/// it always adds and signs X-Amz-Content-SHA256 (as the real AWSSDK.EC2 does), which botocore
/// leaves out for EC2; so the Authorization is compared with botocore signing the request with
/// that header present, and the rest of the signed-header list is compared with plain botocore.
/// </summary>
public sealed class Ec2QueryClientFidelityTests
{
    public static TheoryData<string, string> Cases() => new()
    {
        { "CreateSecurityGroup", "https://ec2.us-east-1.amazonaws.com" },
        { "CreateSecurityGroup", "http://127.0.0.1:5123" },
        { "DeleteSecurityGroup", "https://ec2.eu-west-3.amazonaws.com" },
        { "DescribeSecurityGroups", "https://ec2.us-east-1.amazonaws.com" },
        { "DescribeSecurityGroups", "http://localhost:4566" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task The_request_equals_what_botocore_serializes_and_signs(string operation, string endpoint)
    {
        var region = endpoint.Contains("eu-west-3", StringComparison.Ordinal) ? "eu-west-3" : "us-east-1";
        var (sent, parameters) = await SendAsync(operation, endpoint, region);

        var plain = await BotocoreReference.SignAsync(BotocoreReference.Input(operation, parameters, endpoint, region));
        Assert.Equal(plain.Body, sent.Body);
        Assert.Equal(new Uri(plain.Url), sent.Uri);
        Assert.Equal(plain.Headers["Content-Type"], sent.ContentType);
        Assert.Equal(plain.Headers["X-Amz-Date"], sent.Headers["X-Amz-Date"]);
        Assert.Equal(plain.Headers["X-Amz-Security-Token"], sent.Headers["X-Amz-Security-Token"]);
        Assert.Equal(
            SignedHeaders(plain.Headers["Authorization"]).Append("x-amz-content-sha256").Order(StringComparer.Ordinal),
            SignedHeaders(sent.Headers["Authorization"]));

        var contentSha256 = sent.Headers["X-Amz-Content-SHA256"];
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sent.Body))), contentSha256);
        var withHash = await BotocoreReference.SignAsync(BotocoreReference.Input(
            operation, parameters, endpoint, region, new Dictionary<string, string> { ["X-Amz-Content-SHA256"] = contentSha256 }));
        Assert.Equal(withHash.Headers["Authorization"], sent.Headers["Authorization"]);
        Assert.Equal(withHash.Body, sent.Body);
    }

    private static async Task<(ScriptedHttpHandler.SentRequest Sent, JsonObject BotocoreParameters)> SendAsync(string operation, string endpoint, string region)
    {
        // Values chosen to exercise the form encoding: spaces, reserved and non-ASCII characters.
        const string groupName = "serverlessdb-lock-orders_2024";
        const string vpcId = "vpc-0a1b2c3d4e5f67890";
        const string description = "ServerlessDb write lock (orders) #1: a/b=c&d;{x}!$*~";
        const string holder = "req 7f3c/9+e=ü*";
        var handler = new ScriptedHttpHandler();
        var client = Ec2TestClients.Create(
            handler,
            new SessionAWSCredentials(FidelityCredentials.AccessKey, FidelityCredentials.SecretKey, FidelityCredentials.Token),
            endpoint,
            region);

        switch (operation)
        {
            case "CreateSecurityGroup":
                handler.Respond(HttpStatusCode.OK, Ec2Responses.CreateSecurityGroup("sg-1"));
                await client.CreateSecurityGroupAsync(
                    groupName,
                    vpcId,
                    description,
                    new Dictionary<string, string> { ["CreateTime"] = "1704164645", ["Holder"] = holder },
                    CancellationToken.None);
                return (handler.Requests.Single(), new JsonObject
                {
                    ["Description"] = description,
                    ["GroupName"] = groupName,
                    ["VpcId"] = vpcId,
                    ["TagSpecifications"] = new JsonArray(new JsonObject
                    {
                        ["ResourceType"] = "security-group",
                        ["Tags"] = new JsonArray(
                            new JsonObject { ["Key"] = "CreateTime", ["Value"] = "1704164645" },
                            new JsonObject { ["Key"] = "Holder", ["Value"] = holder }),
                    }),
                });
            case "DeleteSecurityGroup":
                handler.Respond(HttpStatusCode.OK, Ec2Responses.DeleteSecurityGroup());
                await client.DeleteSecurityGroupAsync("sg-0123456789abcdef0", CancellationToken.None);
                return (handler.Requests.Single(), new JsonObject { ["GroupId"] = "sg-0123456789abcdef0" });
            case "DescribeSecurityGroups":
                handler.Respond(HttpStatusCode.OK, Ec2Responses.DescribeSecurityGroups(null));
                await client.DescribeSecurityGroupsAsync(
                    [new Ec2Filter("group-name", "serverlessdb-lock-*"), new Ec2Filter("vpc-id", vpcId, "vpc-other")],
                    CancellationToken.None);
                return (handler.Requests.Single(), new JsonObject
                {
                    ["Filters"] = new JsonArray(
                        new JsonObject { ["Name"] = "group-name", ["Values"] = new JsonArray("serverlessdb-lock-*") },
                        new JsonObject { ["Name"] = "vpc-id", ["Values"] = new JsonArray(vpcId, "vpc-other") }),
                });
            default:
                throw new ArgumentOutOfRangeException(nameof(operation), operation, "no such case");
        }
    }

    private static IEnumerable<string> SignedHeaders(string authorization)
    {
        const string marker = "SignedHeaders=";
        var start = authorization.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        var end = authorization.IndexOf(',', start);
        return authorization[start..end].Split(';');
    }
}
