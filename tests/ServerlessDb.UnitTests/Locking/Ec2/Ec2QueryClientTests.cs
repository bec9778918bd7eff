using System.Net;
using Amazon.Runtime;
using Moq;
using ServerlessDb.Locking.Ec2;

namespace ServerlessDb.UnitTests.Locking.Ec2;

public sealed class Ec2QueryClientTests
{
    private const string FormContentType = "application/x-www-form-urlencoded; charset=utf-8";

    [Fact]
    public async Task CreateSecurityGroup_posts_the_form_botocore_writes_and_returns_the_group_id()
    {
        var handler = new ScriptedHttpHandler().Respond(HttpStatusCode.OK, Ec2Responses.CreateSecurityGroup("sg-0123456789abcdef0"));
        var client = Ec2TestClients.Create(handler);

        var groupId = await client.CreateSecurityGroupAsync(
            "serverlessdb-lock-orders",
            "vpc-1a2b3c4d",
            "ServerlessDb write lock of database orders",
            new Dictionary<string, string> { ["CreateTime"] = "1704164645", ["Holder"] = "req-1" },
            CancellationToken.None);

        Assert.Equal("sg-0123456789abcdef0", groupId);
        var sent = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, sent.Method);
        Assert.Equal(new Uri("https://ec2.us-east-1.amazonaws.com/"), sent.Uri);
        Assert.Equal(FormContentType, sent.ContentType);
        Assert.Equal(
            "Action=CreateSecurityGroup&Version=2016-11-15&GroupDescription=ServerlessDb+write+lock+of+database+orders" +
            "&GroupName=serverlessdb-lock-orders&VpcId=vpc-1a2b3c4d&TagSpecification.1.ResourceType=security-group" +
            "&TagSpecification.1.Tag.1.Key=CreateTime&TagSpecification.1.Tag.1.Value=1704164645" +
            "&TagSpecification.1.Tag.2.Key=Holder&TagSpecification.1.Tag.2.Value=req-1",
            sent.Body);
    }

    [Fact]
    public async Task DeleteSecurityGroup_posts_the_group_id()
    {
        var handler = new ScriptedHttpHandler().Respond(HttpStatusCode.OK, Ec2Responses.DeleteSecurityGroup());
        var client = Ec2TestClients.Create(handler);

        await client.DeleteSecurityGroupAsync("sg-0123456789abcdef0", CancellationToken.None);

        var sent = Assert.Single(handler.Requests);
        Assert.Equal("Action=DeleteSecurityGroup&Version=2016-11-15&GroupId=sg-0123456789abcdef0", sent.Body);
        Assert.Equal(FormContentType, sent.ContentType);
    }

    [Fact]
    public async Task DescribeSecurityGroups_follows_nextToken_to_the_last_page_and_reads_direct_children_only()
    {
        var handler = new ScriptedHttpHandler()
            .Respond(HttpStatusCode.OK, Ec2Responses.DescribeSecurityGroups(
                "token/1+=",
                ("sg-1", "serverlessdb-lock-a", "vpc-1", [("CreateTime", "1700000000"), ("Holder", "req-a")]),
                ("sg-2", "serverlessdb-lock-b", "vpc-1", [])))
            .Respond(HttpStatusCode.OK, Ec2Responses.DescribeSecurityGroups(
                "token-2",
                ("sg-3", "serverlessdb-lock-c", "vpc-1", [("Holder", "req-c")])))
            .Respond(HttpStatusCode.OK, Ec2Responses.DescribeSecurityGroups(null));
        var client = Ec2TestClients.Create(handler);

        var groups = await client.DescribeSecurityGroupsAsync(
            [new Ec2Filter("group-name", "serverlessdb-lock-*"), new Ec2Filter("vpc-id", "vpc-1", "vpc-2")],
            CancellationToken.None);

        Assert.Equal(["sg-1", "sg-2", "sg-3"], groups.Select(g => g.GroupId));
        Assert.Equal(["serverlessdb-lock-a", "serverlessdb-lock-b", "serverlessdb-lock-c"], groups.Select(g => g.GroupName));
        Assert.Equal(new Dictionary<string, string> { ["CreateTime"] = "1700000000", ["Holder"] = "req-a" }, groups[0].Tags);
        Assert.Empty(groups[1].Tags);
        Assert.Equal(new Dictionary<string, string> { ["Holder"] = "req-c" }, groups[2].Tags);

        const string filters = "Filter.1.Name=group-name&Filter.1.Value.1=serverlessdb-lock-%2A&Filter.2.Name=vpc-id&Filter.2.Value.1=vpc-1&Filter.2.Value.2=vpc-2";
        Assert.Equal(
            [
                $"Action=DescribeSecurityGroups&Version=2016-11-15&{filters}",
                $"Action=DescribeSecurityGroups&Version=2016-11-15&{filters}&NextToken=token%2F1%2B%3D",
                $"Action=DescribeSecurityGroups&Version=2016-11-15&{filters}&NextToken=token-2",
            ],
            handler.Requests.Select(r => r.Body));
    }

    [Fact]
    public async Task Answers_are_read_whatever_their_namespace_as_botocore_reads_them()
    {
        // moto_server answers with the namespace minus its trailing slash.
        var motoStyle = Ec2Responses.DescribeSecurityGroups(null, ("sg-1", "g", "vpc-1", [("Holder", "h")]))
            .Replace(Ec2Responses.Namespace, "http://ec2.amazonaws.com/doc/2016-11-15", StringComparison.Ordinal);
        var handler = new ScriptedHttpHandler().Respond(HttpStatusCode.OK, motoStyle);
        var client = Ec2TestClients.Create(handler);

        var groups = await client.DescribeSecurityGroupsAsync([], CancellationToken.None);

        Assert.Equal("h", Assert.Single(groups).Tags["Holder"]);
    }

    [Fact]
    public async Task DescribeSecurityGroups_refuses_a_nextToken_that_repeats()
    {
        var handler = new ScriptedHttpHandler()
            .Respond(HttpStatusCode.OK, Ec2Responses.DescribeSecurityGroups("same"))
            .Respond(HttpStatusCode.OK, Ec2Responses.DescribeSecurityGroups("same"));
        var client = Ec2TestClients.Create(handler);

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => client.DescribeSecurityGroupsAsync([], CancellationToken.None));

        Assert.Equal("PaginationLoop", error.Code);
        Assert.Equal(2, handler.Requests.Count);
    }

    [Theory]
    [InlineData("InvalidGroup.Duplicate", HttpStatusCode.BadRequest, Ec2ErrorKind.GroupDuplicate, false)]
    [InlineData("InvalidGroup.NotFound", HttpStatusCode.BadRequest, Ec2ErrorKind.GroupNotFound, false)]
    [InlineData("DependencyViolation", HttpStatusCode.BadRequest, Ec2ErrorKind.DependencyViolation, false)]
    [InlineData("RequestLimitExceeded", HttpStatusCode.ServiceUnavailable, Ec2ErrorKind.Throttling, true)]
    [InlineData("UnauthorizedOperation", HttpStatusCode.Forbidden, Ec2ErrorKind.Unauthorized, false)]
    [InlineData("AuthFailure", HttpStatusCode.Unauthorized, Ec2ErrorKind.AuthFailure, false)]
    [InlineData("InternalError", HttpStatusCode.InternalServerError, Ec2ErrorKind.Transient, true)]
    [InlineData("Unavailable", HttpStatusCode.ServiceUnavailable, Ec2ErrorKind.Transient, true)]
    [InlineData("InvalidVpcID.NotFound", HttpStatusCode.BadRequest, Ec2ErrorKind.Other, false)]
    [InlineData("InvalidParameterValue", HttpStatusCode.BadRequest, Ec2ErrorKind.Other, false)]
    public async Task An_error_answer_becomes_a_typed_Ec2Exception(string code, HttpStatusCode status, Ec2ErrorKind kind, bool transient)
    {
        var handler = new ScriptedHttpHandler().Respond(status, Ec2Responses.Error(code, "what EC2 said", "req-42"));
        var client = Ec2TestClients.Create(handler);

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => client.DeleteSecurityGroupAsync("sg-1", CancellationToken.None));

        Assert.Equal(code, error.Code);
        Assert.Equal(kind, error.Kind);
        Assert.Equal(transient, error.IsTransient);
        Assert.Equal("what EC2 said", error.ErrorMessage);
        Assert.Equal(status, error.StatusCode);
        Assert.Equal("req-42", error.RequestId);
        Assert.Equal("DeleteSecurityGroup", error.Action);
        Assert.Contains("DeleteSecurityGroup", error.Message, StringComparison.Ordinal);
        Assert.Contains(code, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_5xx_answer_that_is_not_EC2_XML_is_transient()
    {
        var handler = new ScriptedHttpHandler().Respond(HttpStatusCode.BadGateway, "<html>bad gateway</html>");
        var client = Ec2TestClients.Create(handler);

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => client.DeleteSecurityGroupAsync("sg-1", CancellationToken.None));

        Assert.Equal(Ec2ErrorKind.Transient, error.Kind);
        Assert.Equal("Http502", error.Code);
        Assert.Contains("bad gateway", error.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_network_failure_is_transient_and_keeps_its_cause()
    {
        var cause = new HttpRequestException("connection refused");
        var handler = new ScriptedHttpHandler().Throw(cause);
        var client = Ec2TestClients.Create(handler);

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => client.DeleteSecurityGroupAsync("sg-1", CancellationToken.None));

        Assert.Equal(Ec2ErrorKind.Transient, error.Kind);
        Assert.Null(error.StatusCode);
        Assert.Same(cause, error.InnerException);
    }

    [Fact]
    public async Task A_success_answer_without_a_group_id_is_reported_not_returned_empty()
    {
        var handler = new ScriptedHttpHandler().Respond(HttpStatusCode.OK, Ec2Responses.DeleteSecurityGroup());
        var client = Ec2TestClients.Create(handler);

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => client.CreateSecurityGroupAsync(
            "g", "vpc-1", "d", new Dictionary<string, string>(), CancellationToken.None));

        Assert.Equal("MalformedResponse", error.Code);
    }

    [Fact]
    public async Task Session_credentials_send_X_Amz_Security_Token_and_sign_it()
    {
        var handler = new ScriptedHttpHandler().Respond(HttpStatusCode.OK, Ec2Responses.DeleteSecurityGroup());
        var client = Ec2TestClients.Create(handler, new SessionAWSCredentials("AKIDEXAMPLE", "SECRETEXAMPLE", "THE-SESSION-TOKEN"));

        await client.DeleteSecurityGroupAsync("sg-1", CancellationToken.None);

        var sent = Assert.Single(handler.Requests);
        Assert.Equal("THE-SESSION-TOKEN", sent.Headers["X-Amz-Security-Token"]);
        Assert.Equal("20240102T030405Z", sent.Headers["X-Amz-Date"]);
        var authorization = sent.Headers["Authorization"];
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/ec2/aws4_request, ", authorization, StringComparison.Ordinal);
        Assert.Contains("x-amz-security-token", authorization, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Long_term_credentials_send_no_security_token()
    {
        var handler = new ScriptedHttpHandler().Respond(HttpStatusCode.OK, Ec2Responses.DeleteSecurityGroup());
        var client = Ec2TestClients.Create(handler, new BasicAWSCredentials("AKIDEXAMPLE", "SECRETEXAMPLE"));

        await client.DeleteSecurityGroupAsync("sg-1", CancellationToken.None);

        var sent = Assert.Single(handler.Requests);
        Assert.False(sent.Headers.ContainsKey("X-Amz-Security-Token"));
        Assert.DoesNotContain("x-amz-security-token", sent.Headers["Authorization"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Credentials_are_resolved_for_every_request()
    {
        var handler = new ScriptedHttpHandler()
            .Respond(HttpStatusCode.OK, Ec2Responses.DeleteSecurityGroup())
            .Respond(HttpStatusCode.OK, Ec2Responses.DeleteSecurityGroup());
        var resolver = Ec2TestClients.Credentials(new SessionAWSCredentials("A", "S", "T"));
        var client = new Ec2QueryClient(new HttpClient(handler), new Uri("http://127.0.0.1:5000"), "us-east-1", resolver.Object, TimeProvider.System);

        await client.DeleteSecurityGroupAsync("sg-1", CancellationToken.None);
        await client.DeleteSecurityGroupAsync("sg-2", CancellationToken.None);

        resolver.Verify(r => r.ResolveIdentityAsync(It.IsAny<IClientConfig>(), It.IsAny<CancellationToken>()), Times.Exactly(2));
    }
}
