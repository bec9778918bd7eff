using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Moq;
using ServerlessDb.Api;
using ServerlessDb.Protocol;
using ServerlessDb.UnitTests.Support;
using Function = QueryRunner.Function;
using LocalServerApp = LocalServer.LocalServerApp;

namespace ServerlessDb.UnitTests.LocalServer;

/// <summary>A request the local server fails around the handler gets the answer and the log line the handler's errors get.</summary>
public sealed class LocalServerAnswerTests
{
    private readonly Mock<IApiHandler> _handler = new(MockBehavior.Strict);
    private readonly RecordingLogSink _log = new();

    [Fact]
    public async Task A_failure_reading_the_request_is_the_apis_500_with_an_error_line()
    {
        var (context, body) = Request(new InvalidOperationException("the body broke"));

        await LocalServerApp.AnswerAsync(context, Function(), _log);

        AssertErrorAnswer(context, body, 500, ErrorResponses.Bug().Body);
        var logged = AssertLogLine("error", 500, "the body broke");
        Assert.Equal(typeof(InvalidOperationException).FullName, logged.GetProperty("exceptionType").GetString());
        Assert.Equal("POST", logged.GetProperty("method").GetString());
        Assert.Equal("/db/execute", logged.GetProperty("path").GetString());
        _handler.VerifyNoOtherCalls();
    }

    [Theory]
    [InlineData(StatusCodes.Status413PayloadTooLarge, "Request body too large.")]
    [InlineData(StatusCodes.Status400BadRequest, "Bad chunk size data.")]
    public async Task A_body_the_server_refuses_gets_the_uniform_4xx_with_an_info_line(int status, string message)
    {
        var (context, body) = Request(new BadHttpRequestException(message, status));

        await LocalServerApp.AnswerAsync(context, Function(), _log);

        AssertErrorAnswer(context, body, status, message + "\n");
        var logged = AssertLogLine("info", status, message);
        Assert.False(logged.TryGetProperty("exception", out _), "a refused body is no bug");
        _handler.VerifyNoOtherCalls();
    }

    private Function Function() => new(_handler.Object, _log, TimeProvider.System);

    private static (DefaultHttpContext Context, MemoryStream Body) Request(Exception readFailure)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/db/execute";
        context.Request.Body = new FailingStream(readFailure);
        var body = new MemoryStream();
        context.Response.Body = body;
        return (context, body);
    }

    private static void AssertErrorAnswer(DefaultHttpContext context, MemoryStream body, int status, string text)
    {
        Assert.Equal(status, context.Response.StatusCode);
        Assert.Equal(ApiResponse.TextContentType, context.Response.Headers.ContentType.ToString());
        Assert.Equal(StatusDocuments.RqliteVersion, context.Response.Headers["X-RQLITE-VERSION"].ToString());
        Assert.Equal("*", context.Response.Headers.AccessControlAllowOrigin.ToString());
        Assert.Equal(text, Encoding.UTF8.GetString(body.ToArray()));
    }

    private JsonElement AssertLogLine(string level, int status, string error)
    {
        var logged = JsonDocument.Parse(Assert.Single(_log.Lines)).RootElement;
        Assert.True(logged.TryGetProperty("time", out _), "every line carries its time");
        Assert.Equal(level, logged.GetProperty("level").GetString());
        Assert.Equal("request", logged.GetProperty("message").GetString());
        Assert.Equal(status, logged.GetProperty("status").GetInt32());
        Assert.Equal(error, logged.GetProperty("error").GetString());
        return logged;
    }

    private sealed class FailingStream(Exception failure) : MemoryStream
    {
        public override Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken) => throw failure;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => throw failure;

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => throw failure;
    }
}
