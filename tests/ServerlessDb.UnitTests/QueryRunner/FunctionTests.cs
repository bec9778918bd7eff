using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Moq;
using QueryRunner;
using QueryRunner.ApiGateway;
using ServerlessDb.Api;
using ServerlessDb.Errors;
using ServerlessDb.Protocol;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.QueryRunner;

public sealed class FunctionTests
{
    private static readonly ApiResponse Ok = new(
        200,
        "application/json",
        """{"results":[]}""",
        new Dictionary<string, string> { ["X-RQLITE-VERSION"] = "v8" });

    private readonly Mock<IApiHandler> _handler = new(MockBehavior.Strict);
    private readonly RecordingLogSink _log = new();
    private ApiRequest? _received;

    public FunctionTests() =>
        _handler
            .Setup(h => h.HandleAsync(It.IsAny<ApiRequest>(), It.IsAny<CancellationToken>()))
            .Callback<ApiRequest, CancellationToken>((request, _) => _received = request)
            .ReturnsAsync(Ok);

    [Fact]
    public async Task HttpApiV2_sample_event_is_mapped_to_the_request()
    {
        await InvokeAsync(SampleEvents.Open(SampleEvents.HttpApiV2));

        var request = Received();
        Assert.Equal("POST", request.Method);
        Assert.Equal("/my/path", request.Path);
        Assert.Equal("value1", request.QueryValue("parameter1"));
        Assert.Equal("value", request.QueryValue("parameter2"));
        Assert.Equal(2, request.Query.Count);
        Assert.Equal("value1", request.Header("HEADER1"));
        Assert.Equal("value1,value2", request.Header("Header2"));
        Assert.Equal("cookie1; cookie2", request.Header("Cookie"));
        Assert.Equal("Hello from Lambda", Encoding.UTF8.GetString(request.Body.Span));
        Assert.Equal("id", request.RequestId);
    }

    [Fact]
    public async Task HttpApiV2_named_stage_event_strips_the_stage_decodes_the_query_and_the_base64_body()
    {
        await InvokeAsync(SampleEvents.Open(SampleEvents.HttpApiV2NamedStage));

        var request = Received();
        Assert.Equal("POST", request.Method);
        Assert.Equal("/db/query", request.Path);
        Assert.True(request.HasFlag("timings"));
        Assert.Equal("", request.QueryValue("timings"));
        Assert.Equal("none", request.QueryValue("level"));
        Assert.Equal("SELECT 1+1, 'a&b'", request.QueryValue("q"));
        Assert.Equal("orders", request.QueryValue("db"));
        Assert.False(request.HasFlag("transaction"));
        Assert.Equal("application/json", request.Header("Content-Type"));
        Assert.Equal("""["SELECT * FROM foo"]"""u8.ToArray(), request.Body.ToArray());
        Assert.Equal("JKJaXmPLvHcESHA=", request.RequestId);
    }

    [Fact]
    public async Task RestApi_proxy_sample_event_is_mapped_to_the_request()
    {
        await InvokeAsync(SampleEvents.Open(SampleEvents.RestApiProxy));

        var request = Received();
        Assert.Equal("POST", request.Method);
        // A REST API's path leaves the stage out (requestContext.path has it), so nothing is stripped.
        Assert.Equal("/path/to/resource", request.Path);
        Assert.Equal("bar", request.QueryValue("foo"));
        Assert.Single(request.Query);
        Assert.Equal("Custom User Agent String", request.Header("user-agent"));
        Assert.Equal("127.0.0.1, 127.0.0.2", request.Header("X-FORWARDED-FOR"));
        Assert.Equal("""{"test":"body"}"""u8.ToArray(), request.Body.ToArray());
        Assert.Equal("c6af9ac6-7b61-11e6-9a41-93e8deadbeef", request.RequestId);
    }

    [Fact]
    public async Task HttpApi_payload_1_0_sample_event_is_mapped_with_its_multi_value_fields()
    {
        await InvokeAsync(SampleEvents.Open(SampleEvents.HttpApiV1));

        var request = Received();
        Assert.Equal("GET", request.Method);
        Assert.Equal("/my/path", request.Path);
        Assert.Equal("value1", request.QueryValue("parameter1"));
        Assert.Equal("value", request.QueryValue("parameter2"));
        Assert.Equal("value1,value2", request.Header("header2"));
        Assert.Equal("Hello from Lambda!", Encoding.UTF8.GetString(request.Body.Span));
        Assert.Equal("id=", request.RequestId);
    }

    [Fact]
    public async Task RestApi_event_with_the_stage_in_its_path_and_decoded_flags_is_mapped_as_the_client_sent_it()
    {
        var json = SampleEvents.Json(SampleEvents.RestApiProxy);
        json["path"] = "/prod/db/query";
        json["httpMethod"] = "GET";
        // API Gateway hands 1.0 parameters over decoded; they must not be decoded a second time.
        json["queryStringParameters"] = new JsonObject { ["q"] = "SELECT 1+1 WHERE x LIKE '100%25'", ["transaction"] = "" };
        json["multiValueQueryStringParameters"] = new JsonObject
        {
            ["q"] = new JsonArray("SELECT 1+1 WHERE x LIKE '100%25'"),
            ["transaction"] = new JsonArray(""),
        };
        json["body"] = null;
        json["isBase64Encoded"] = false;

        await InvokeAsync(SampleEvents.Stream(json));

        var request = Received();
        Assert.Equal("GET", request.Method);
        Assert.Equal("/db/query", request.Path);
        Assert.Equal("SELECT 1+1 WHERE x LIKE '100%25'", request.QueryValue("q"));
        Assert.True(request.HasFlag("transaction"));
        Assert.Equal("", request.QueryValue("transaction"));
        Assert.True(request.Body.IsEmpty);
    }

    [Theory]
    [InlineData("/prod", "prod", "/")]
    [InlineData("/prod/", "prod", "/")]
    [InlineData("/production/db/query", "prod", "/production/db/query")]
    [InlineData("/$default/db/query", "$default", "/$default/db/query")]
    [InlineData("/db/query", "prod", "/db/query")]
    public async Task HttpApiV2_stage_prefix_is_stripped_only_when_the_path_starts_with_it(string rawPath, string stage, string expected)
    {
        var json = SampleEvents.Json(SampleEvents.HttpApiV2);
        json["rawPath"] = rawPath;
        json["requestContext"]!["stage"] = stage;

        await InvokeAsync(SampleEvents.Stream(json));

        Assert.Equal(expected, Received().Path);
    }

    [Fact]
    public async Task HttpApiV2_response_has_the_payload_2_0_shape()
    {
        using var output = await InvokeAsync(SampleEvents.Open(SampleEvents.HttpApiV2));

        var response = Parse(output);
        Assert.Equal(["statusCode", "headers", "body", "isBase64Encoded"], PropertyNames(response));
        AssertResponseMatchesOk(response);
    }

    [Theory]
    [InlineData(SampleEvents.RestApiProxy)]
    [InlineData(SampleEvents.HttpApiV1)]
    public async Task Payload_1_0_response_has_the_proxy_integration_shape(string sample)
    {
        using var output = await InvokeAsync(SampleEvents.Open(sample));

        var response = Parse(output);
        Assert.Equal(["statusCode", "headers", "body", "isBase64Encoded"], PropertyNames(response));
        AssertResponseMatchesOk(response);
    }

    [Theory]
    [InlineData("", EventMessages.NotJson)]
    [InlineData("not json", EventMessages.NotJson)]
    [InlineData("{\"version\": \"2.0\", ", EventMessages.NotJson)]
    public async Task Malformed_event_json_gets_the_uniform_400_and_an_info_line(string input, string message)
    {
        using var output = await InvokeAsync(SampleEvents.Stream(input));

        AssertErrorAnswer(Parse(output), 400, message + "\n");
        AssertLogLine(Assert.Single(_log.Lines), "info", 400, message);
        _handler.Verify(h => h.HandleAsync(It.IsAny<ApiRequest>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("\"a string\"")]
    [InlineData("{}")]
    [InlineData("""{"source": "aws.events", "detail-type": "Scheduled Event"}""")]
    [InlineData("""{"version": "2.0", "rawPath": "/db/query"}""")]
    [InlineData("""{"httpMethod": "GET"}""")]
    [InlineData("""{"httpMethod": "POST", "path": "/db/query", "headers": 5}""")]
    [InlineData("""{"httpMethod": "POST", "path": "/db/query", "body": "not base64!", "isBase64Encoded": true}""")]
    public async Task An_event_of_an_unknown_shape_gets_the_uniform_400_and_never_reaches_the_handler(string input)
    {
        using var output = await InvokeAsync(SampleEvents.Stream(input));

        var response = Parse(output);
        AssertErrorAnswer(response, 400, null);
        Assert.StartsWith("invalid event", response.GetProperty("body").GetString(), StringComparison.Ordinal);
        AssertLogLine(Assert.Single(_log.Lines), "info", 400, "invalid event");
        _handler.Verify(h => h.HandleAsync(It.IsAny<ApiRequest>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Theory]
    [InlineData(SampleEvents.HttpApiV2)]
    [InlineData(SampleEvents.RestApiProxy)]
    public async Task Handler_exception_is_answered_with_the_apis_500_and_logged_as_an_error_line(string sample)
    {
        var handler = new Mock<IApiHandler>(MockBehavior.Strict);
        handler
            .Setup(h => h.HandleAsync(It.IsAny<ApiRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new InvalidOperationException("boom\nsecond line"));

        using var output = await new Function(handler.Object, _log, TimeProvider.System).HandleAsync(SampleEvents.Open(sample));

        AssertErrorAnswer(Parse(output), 500, ErrorResponses.Bug().Body);
        var logged = AssertLogLine(Assert.Single(_log.Lines), "error", 500, "boom");
        Assert.Equal("System.InvalidOperationException", logged.GetProperty("exceptionType").GetString());
        Assert.Contains("boom", logged.GetProperty("exception").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(logged.GetProperty("requestId").GetString()));
        Assert.Equal("POST", logged.GetProperty("method").GetString());
    }

    [Fact]
    public async Task An_expected_failure_escaping_the_handler_gets_the_status_the_api_gives_it()
    {
        var handler = new Mock<IApiHandler>(MockBehavior.Strict);
        handler
            .Setup(h => h.HandleAsync(It.IsAny<ApiRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new LockUnavailableException("lock held", TimeSpan.FromSeconds(3)));

        using var output = await new Function(handler.Object, _log, TimeProvider.System).HandleAsync(SampleEvents.Open(SampleEvents.HttpApiV2));

        var response = Parse(output);
        AssertErrorAnswer(response, 503, "lock held\n");
        Assert.Equal("3", response.GetProperty("headers").GetProperty("Retry-After").GetString());
        var logged = AssertLogLine(Assert.Single(_log.Lines), "warn", 503, "lock held");
        Assert.False(logged.TryGetProperty("exception", out _), "an expected failure is no bug");
    }

    [Fact]
    public async Task Event_without_a_request_id_gets_a_generated_one()
    {
        var json = SampleEvents.Json(SampleEvents.HttpApiV2);
        json["requestContext"]!.AsObject().Remove("requestId");

        await InvokeAsync(SampleEvents.Stream(json));

        Assert.True(Guid.TryParse(Received().RequestId, out _));
    }

    private async Task<Stream> InvokeAsync(Stream input) => await new Function(_handler.Object, _log, TimeProvider.System).HandleAsync(input);

    private ApiRequest Received() => _received ?? throw new Xunit.Sdk.XunitException("the handler was not called");

    private static JsonElement Parse(Stream output)
    {
        using var document = JsonDocument.Parse(output);
        return document.RootElement.Clone();
    }

    /// <summary>The answer every error gets, from the API or the entry point: its status, rqlite's text/plain body and the common headers.</summary>
    private static void AssertErrorAnswer(JsonElement response, int status, string? body)
    {
        Assert.Equal(status, response.GetProperty("statusCode").GetInt32());
        var headers = response.GetProperty("headers");
        Assert.Equal(ApiResponse.TextContentType, headers.GetProperty("Content-Type").GetString());
        Assert.Equal(StatusDocuments.RqliteVersion, headers.GetProperty("X-RQLITE-VERSION").GetString());
        Assert.Equal("*", headers.GetProperty("Access-Control-Allow-Origin").GetString());
        Assert.False(response.GetProperty("isBase64Encoded").GetBoolean());
        if (body is not null)
        {
            Assert.Equal(body, response.GetProperty("body").GetString());
        }
    }

    /// <summary>The one line every answer gets: time, level, message "request", status, and the error.</summary>
    private static JsonElement AssertLogLine(string line, string level, int status, string error)
    {
        using var document = JsonDocument.Parse(line);
        var logged = document.RootElement.Clone();
        Assert.True(logged.TryGetProperty("time", out _), "every line carries its time");
        Assert.Equal(level, logged.GetProperty("level").GetString());
        Assert.Equal("request", logged.GetProperty("message").GetString());
        Assert.Equal(status, logged.GetProperty("status").GetInt32());
        Assert.StartsWith(error, logged.GetProperty("error").GetString(), StringComparison.Ordinal);
        return logged;
    }

    private static string[] PropertyNames(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];

    private static void AssertResponseMatchesOk(JsonElement response)
    {
        Assert.Equal(JsonValueKind.Number, response.GetProperty("statusCode").ValueKind);
        Assert.Equal(200, response.GetProperty("statusCode").GetInt32());
        var headers = response.GetProperty("headers");
        Assert.Equal("application/json", headers.GetProperty("Content-Type").GetString());
        Assert.Equal("v8", headers.GetProperty("X-RQLITE-VERSION").GetString());
        Assert.Equal("""{"results":[]}""", response.GetProperty("body").GetString());
        Assert.Equal(JsonValueKind.False, response.GetProperty("isBase64Encoded").ValueKind);
    }
}
