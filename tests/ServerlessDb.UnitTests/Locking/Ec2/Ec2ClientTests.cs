using System.Net;
using System.Net.Sockets;
using System.Web;
using Amazon.Runtime;
using ServerlessDb.Locking.Ec2;

namespace ServerlessDb.UnitTests.Locking.Ec2;

/// <summary>The lock's EC2 client: AWSSDK.EC2's real client, answered by a scripted HTTP server.</summary>
public sealed class Ec2ClientTests
{
    private static IEc2Client Client(ScriptedHttpHandler handler, string endpoint = "https://ec2.us-east-1.amazonaws.com/") =>
        Ec2ClientFactory.Create(new Ec2ClientOptions("us-east-1", new Uri(endpoint)), handler, new BasicAWSCredentials("AKIDEXAMPLE", "SECRETEXAMPLE"));

    private static Dictionary<string, string> Form(ScriptedHttpHandler.SentRequest request)
    {
        var form = HttpUtility.ParseQueryString(request.Body);
        return form.AllKeys.ToDictionary(k => k!, k => form[k]!, StringComparer.Ordinal);
    }

    [Fact]
    public async Task CreateSecurityGroup_names_the_group_in_the_VPC_tags_it_at_creation_and_returns_its_id()
    {
        var handler = new ScriptedHttpHandler().Respond(HttpStatusCode.OK, Ec2Responses.CreateSecurityGroup("sg-0123456789abcdef0"));

        var groupId = await Client(handler).CreateSecurityGroupAsync(
            "serverlessdb-lock-orders",
            "vpc-1a2b3c4d",
            "ServerlessDb write lock of database orders",
            new Dictionary<string, string> { ["CreateTime"] = "1704164645", ["Holder"] = "req-1" },
            CancellationToken.None);

        Assert.Equal("sg-0123456789abcdef0", groupId);
        var sent = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, sent.Method);
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", sent.Headers["Authorization"], StringComparison.Ordinal);
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["Action"] = "CreateSecurityGroup",
                ["Version"] = "2016-11-15",
                ["GroupDescription"] = "ServerlessDb write lock of database orders",
                ["GroupName"] = "serverlessdb-lock-orders",
                ["VpcId"] = "vpc-1a2b3c4d",
                ["TagSpecification.1.ResourceType"] = "security-group",
                ["TagSpecification.1.Tag.1.Key"] = "CreateTime",
                ["TagSpecification.1.Tag.1.Value"] = "1704164645",
                ["TagSpecification.1.Tag.2.Key"] = "Holder",
                ["TagSpecification.1.Tag.2.Value"] = "req-1",
            },
            Form(sent));
    }

    [Fact]
    public async Task DeleteSecurityGroup_deletes_by_group_id()
    {
        var handler = new ScriptedHttpHandler().Respond(HttpStatusCode.OK, Ec2Responses.DeleteSecurityGroup());

        await Client(handler).DeleteSecurityGroupAsync("sg-0123456789abcdef0", CancellationToken.None);

        var form = Form(Assert.Single(handler.Requests));
        Assert.Equal("DeleteSecurityGroup", form["Action"]);
        Assert.Equal("sg-0123456789abcdef0", form["GroupId"]);
        Assert.DoesNotContain("GroupName", form.Keys);
    }

    [Fact]
    public async Task DescribeSecurityGroups_follows_nextToken_to_the_last_page_and_reads_each_groups_own_tags()
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

        var groups = await Client(handler).DescribeSecurityGroupsAsync(
            [new Ec2Filter("group-name", "serverlessdb-lock-*"), new Ec2Filter("vpc-id", "vpc-1", "vpc-2")],
            CancellationToken.None);

        Assert.Equal(["sg-1", "sg-2", "sg-3"], groups.Select(g => g.GroupId));
        Assert.Equal(["serverlessdb-lock-a", "serverlessdb-lock-b", "serverlessdb-lock-c"], groups.Select(g => g.GroupName));
        Assert.Equal(new Dictionary<string, string> { ["CreateTime"] = "1700000000", ["Holder"] = "req-a" }, groups[0].Tags);
        Assert.Empty(groups[1].Tags);
        Assert.Equal(new Dictionary<string, string> { ["Holder"] = "req-c" }, groups[2].Tags);

        var forms = handler.Requests.Select(Form).ToList();
        Assert.All(forms, form =>
        {
            Assert.Equal("DescribeSecurityGroups", form["Action"]);
            Assert.Equal("group-name", form["Filter.1.Name"]);
            Assert.Equal("serverlessdb-lock-*", form["Filter.1.Value.1"]);
            Assert.Equal("vpc-id", form["Filter.2.Name"]);
            Assert.Equal("vpc-1", form["Filter.2.Value.1"]);
            Assert.Equal("vpc-2", form["Filter.2.Value.2"]);
        });
        Assert.Equal([null, "token/1+=", "token-2"], forms.Select(f => f.GetValueOrDefault("NextToken")));
    }

    [Fact]
    public async Task Answers_are_read_whatever_their_namespace_as_moto_server_sends_it()
    {
        // moto_server answers with the namespace minus its trailing slash.
        var motoStyle = Ec2Responses.DescribeSecurityGroups(null, ("sg-1", "g", "vpc-1", [("Holder", "h")]))
            .Replace(Ec2Responses.Namespace, "http://ec2.amazonaws.com/doc/2016-11-15", StringComparison.Ordinal);
        var handler = new ScriptedHttpHandler().Respond(HttpStatusCode.OK, motoStyle);

        var groups = await Client(handler).DescribeSecurityGroupsAsync([], CancellationToken.None);

        Assert.Equal("h", Assert.Single(groups).Tags["Holder"]);
    }

    [Fact]
    public async Task DescribeSecurityGroups_refuses_a_nextToken_that_repeats()
    {
        var handler = new ScriptedHttpHandler()
            .Respond(HttpStatusCode.OK, Ec2Responses.DescribeSecurityGroups("same"))
            .Respond(HttpStatusCode.OK, Ec2Responses.DescribeSecurityGroups("same"));

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => Client(handler).DescribeSecurityGroupsAsync([], CancellationToken.None));

        Assert.Equal("PaginationLoop", error.Code);
        Assert.Equal(2, handler.Requests.Count);
    }

    [Theory]
    [InlineData("InvalidGroup.Duplicate", HttpStatusCode.BadRequest, Ec2ErrorKind.GroupDuplicate, false)]
    [InlineData("InvalidGroup.NotFound", HttpStatusCode.BadRequest, Ec2ErrorKind.GroupNotFound, false)]
    [InlineData("DependencyViolation", HttpStatusCode.BadRequest, Ec2ErrorKind.DependencyViolation, false)]
    [InlineData("RequestLimitExceeded", HttpStatusCode.ServiceUnavailable, Ec2ErrorKind.Throttling, true)]
    [InlineData("RequestLimitExceeded", HttpStatusCode.BadRequest, Ec2ErrorKind.Throttling, true)]
    [InlineData("UnauthorizedOperation", HttpStatusCode.Forbidden, Ec2ErrorKind.Other, false)]
    [InlineData("AuthFailure", HttpStatusCode.Unauthorized, Ec2ErrorKind.Other, false)]
    [InlineData("InternalError", HttpStatusCode.InternalServerError, Ec2ErrorKind.Transient, true)]
    [InlineData("Unavailable", HttpStatusCode.ServiceUnavailable, Ec2ErrorKind.Transient, true)]
    [InlineData("InvalidVpcID.NotFound", HttpStatusCode.BadRequest, Ec2ErrorKind.Other, false)]
    [InlineData("InvalidParameterValue", HttpStatusCode.BadRequest, Ec2ErrorKind.Other, false)]
    public async Task An_error_answer_becomes_a_typed_Ec2Exception(string code, HttpStatusCode status, Ec2ErrorKind kind, bool transient)
    {
        var handler = new ScriptedHttpHandler().Respond(status, Ec2Responses.Error(code, "what EC2 said", "req-42"));

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => Client(handler).DeleteSecurityGroupAsync("sg-1", CancellationToken.None));

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
    public async Task The_SDK_makes_one_attempt_per_call_so_the_locks_retry_is_the_only_one()
    {
        var handler = new ScriptedHttpHandler()
            .Respond(HttpStatusCode.ServiceUnavailable, Ec2Responses.Error("RequestLimitExceeded", "Request limit exceeded."))
            .Respond(HttpStatusCode.OK, Ec2Responses.DeleteSecurityGroup());

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => Client(handler).DeleteSecurityGroupAsync("sg-1", CancellationToken.None));

        Assert.Equal(Ec2ErrorKind.Throttling, error.Kind);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task A_reset_connection_is_a_lost_answer_for_the_lock_to_resolve_not_resent_by_the_SDK()
    {
        // What a dropped answer looks like from here; the SDK takes it for a stale pooled connection.
        var reset = new HttpRequestException(
            "An error occurred while sending the request.",
            new IOException("Unable to read data from the transport connection: Connection reset by peer.", new SocketException((int)SocketError.ConnectionReset)));
        var handler = new ScriptedHttpHandler()
            .Throw(reset)
            .Respond(HttpStatusCode.BadRequest, Ec2Responses.Error("InvalidGroup.Duplicate", "The security group 'g' already exists"));

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => Client(handler).CreateSecurityGroupAsync(
            "g", "vpc-1", "d", new Dictionary<string, string> { ["Holder"] = "req-1" }, CancellationToken.None));

        Assert.Equal(Ec2ErrorKind.Transient, error.Kind);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task A_5xx_answer_that_is_not_EC2_XML_is_transient()
    {
        var handler = new ScriptedHttpHandler().Respond(HttpStatusCode.BadGateway, "<html>bad gateway</html>");

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => Client(handler).DeleteSecurityGroupAsync("sg-1", CancellationToken.None));

        Assert.Equal(Ec2ErrorKind.Transient, error.Kind);
        Assert.Equal(HttpStatusCode.BadGateway, error.StatusCode);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task A_network_failure_is_transient_and_keeps_its_cause()
    {
        var cause = new HttpRequestException("connection refused");
        var handler = new ScriptedHttpHandler().Throw(cause);

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => Client(handler).DeleteSecurityGroupAsync("sg-1", CancellationToken.None));

        Assert.Equal(Ec2ErrorKind.Transient, error.Kind);
        Assert.Equal(Ec2Exception.TransportErrorCode, error.Code);
        Assert.Null(error.StatusCode);
        Assert.Contains(cause, Causes(error));
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task An_attempt_that_times_out_is_a_lost_answer_not_the_callers_cancellation()
    {
        var handler = new ScriptedHttpHandler().Throw(new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout", new TimeoutException()));

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => Client(handler).CreateSecurityGroupAsync("g", "vpc-1", "d", new Dictionary<string, string>(), CancellationToken.None));

        Assert.Equal(Ec2ErrorKind.Transient, error.Kind);
    }

    [Fact]
    public async Task The_callers_cancellation_passes_through_as_a_cancellation()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var handler = new ScriptedHttpHandler().Respond(HttpStatusCode.OK, Ec2Responses.DeleteSecurityGroup());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Client(handler).DeleteSecurityGroupAsync("sg-1", cancelled.Token));
    }

    [Fact]
    public async Task A_success_answer_without_a_group_id_is_reported_not_returned_empty()
    {
        var handler = new ScriptedHttpHandler().Respond(HttpStatusCode.OK, Ec2Responses.DeleteSecurityGroup());

        var error = await Assert.ThrowsAsync<Ec2Exception>(() => Client(handler).CreateSecurityGroupAsync(
            "g", "vpc-1", "d", new Dictionary<string, string>(), CancellationToken.None));

        Assert.Equal("MalformedResponse", error.Code);
    }

    [Fact]
    public async Task The_SDK_client_is_built_on_the_first_call_once_not_when_the_container_starts()
    {
        var built = 0;
        var handler = new ScriptedHttpHandler()
            .Respond(HttpStatusCode.OK, Ec2Responses.DeleteSecurityGroup())
            .Respond(HttpStatusCode.OK, Ec2Responses.DeleteSecurityGroup());
        var config = Ec2ClientFactory.CreateConfig(new Ec2ClientOptions("us-east-1", null), handler);
        var client = new Ec2Client(() =>
        {
            Interlocked.Increment(ref built);
            return new Amazon.EC2.AmazonEC2Client(new BasicAWSCredentials("A", "S"), config);
        });

        Assert.Equal(0, built);
        await client.DeleteSecurityGroupAsync("sg-1", CancellationToken.None);
        await client.DeleteSecurityGroupAsync("sg-2", CancellationToken.None);

        Assert.Equal(1, built);
        Assert.Equal(2, handler.Requests.Count);
    }

    [Theory]
    [InlineData("us-east-1", null, "https://ec2.us-east-1.amazonaws.com/")]
    [InlineData("cn-north-1", null, "https://ec2.cn-north-1.amazonaws.com.cn/")]
    [InlineData("us-east-1", "http://127.0.0.1:6000/", "http://127.0.0.1:6000/")]
    public async Task Requests_go_to_the_override_else_the_regional_endpoint(string region, string? endpoint, string expected)
    {
        var handler = new ScriptedHttpHandler().Respond(HttpStatusCode.OK, Ec2Responses.DeleteSecurityGroup());
        var client = Ec2ClientFactory.Create(
            new Ec2ClientOptions(region, endpoint is null ? null : new Uri(endpoint)), handler, new BasicAWSCredentials("A", "S"));

        await client.DeleteSecurityGroupAsync("sg-1", CancellationToken.None);

        var sent = Assert.Single(handler.Requests);
        Assert.Equal(expected, sent.Uri.AbsoluteUri);
        Assert.Contains($"/{region}/ec2/aws4_request", sent.Headers["Authorization"], StringComparison.Ordinal);
    }

    private static IEnumerable<Exception> Causes(Exception error)
    {
        for (var e = error.InnerException; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
