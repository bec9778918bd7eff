using System.Text;
using Moq;
using QueryRunner;
using ServerlessDb.Api;
using ServerlessDb.Logging;

namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>The events the builders make are ones the real entry point understands, and the invoker reads its answers.</summary>
public sealed class ApiGatewayEventsTests
{
    private const string Body = """["CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT)"]""";

    private static readonly Dictionary<string, string> Headers = new() { ["Content-Type"] = "application/json" };

    private readonly Mock<IApiHandler> _handler = new(MockBehavior.Strict);
    private ApiRequest? _received;

    public ApiGatewayEventsTests() =>
        _handler
            .Setup(h => h.HandleAsync(It.IsAny<ApiRequest>(), It.IsAny<CancellationToken>()))
            .Callback<ApiRequest, CancellationToken>((request, _) => _received = request)
            .ReturnsAsync(new ApiResponse(201, "application/json", """{"results":[{}]}""", new Dictionary<string, string> { ["X-Test"] = "yes" }));

    public static TheoryData<string, bool> Events()
    {
        var data = new TheoryData<string, bool>();
        foreach (var base64 in new[] { false, true })
        {
            data.Add(ApiGatewayEvents.HttpApiV2(
                "POST", "/db/execute", "transaction&timings=1&q=SELECT+1%2B1", Headers, Body, base64, "prod", "req-1"), base64);
            data.Add(ApiGatewayEvents.RestApiV1(
                "POST", "/db/execute", "transaction&timings=1&q=SELECT+1%2B1", Headers, Body, base64, "prod", "req-1"), base64);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Events))]
    public async Task Built_event_reaches_the_handler_as_the_client_sent_it(string eventJson, bool base64)
    {
        var response = await new LambdaInvoker(new Function(_handler.Object, ConsoleLogSink.Instance, TimeProvider.System)).InvokeAsync(eventJson);

        var request = _received ?? throw new Xunit.Sdk.XunitException("the handler was not called");
        Assert.Equal("POST", request.Method);
        Assert.Equal("/db/execute", request.Path);
        Assert.Equal("", request.QueryValue("transaction"));
        Assert.Equal("1", request.QueryValue("timings"));
        Assert.Equal("SELECT 1+1", request.QueryValue("q"));
        Assert.Equal("application/json", request.Header("content-type"));
        Assert.Equal(Body, Encoding.UTF8.GetString(request.Body.Span));
        Assert.Equal("req-1", request.RequestId);
        Assert.Equal(201, response.StatusCode);
        Assert.Equal("yes", response.Header("x-test"));
        Assert.Equal("application/json", response.Header("Content-Type"));
        Assert.Equal("""{"results":[{}]}""", response.Body);
        Assert.False(response.IsBase64Encoded, $"base64 request: {base64}");
    }
}
