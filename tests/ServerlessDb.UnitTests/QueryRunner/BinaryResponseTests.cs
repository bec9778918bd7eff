using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Moq;
using QueryRunner;
using ServerlessDb.Api;
using ServerlessDb.UnitTests.Support;
using LocalServerApp = LocalServer.LocalServerApp;

namespace ServerlessDb.UnitTests.QueryRunner;

/// <summary>A binary answer (a backup): base64 with isBase64Encoded in Lambda, streamed by the local server; the file is released after either.</summary>
public sealed class BinaryResponseTests : IDisposable
{
    private readonly string _path = Path.GetTempFileName();
    private readonly Mock<IApiHandler> _handler = new(MockBehavior.Strict);
    private int _released;

    public void Dispose() => File.Delete(_path);

    private byte[] Answer(int length)
    {
        var bytes = new byte[length];
        new Random(7).NextBytes(bytes);
        File.WriteAllBytes(_path, bytes);
        var owner = new Mock<IDisposable>();
        owner.Setup(o => o.Dispose()).Callback(() => _released++);
        _handler.Setup(h => h.HandleAsync(It.IsAny<ApiRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => ApiResponse.Binary(200, ApiResponse.OctetStreamContentType, new ResponseFile(_path, length, owner.Object)));
        return bytes;
    }

    private Function Function() => new(_handler.Object, new RecordingLogSink(), TimeProvider.System);

    [Theory]
    [InlineData("http-api-v2.json")]
    [InlineData("rest-api-proxy.json")]
    public async Task Lambda_answers_the_bytes_base64_encoded(string sample)
    {
        var bytes = Answer(100_000);
        await using var output = await Function().HandleAsync(SampleEvents.Open(sample));
        using var document = await JsonDocument.ParseAsync(output);
        var response = document.RootElement;

        Assert.Equal(200, response.GetProperty("statusCode").GetInt32());
        Assert.True(response.GetProperty("isBase64Encoded").GetBoolean());
        Assert.Equal(bytes, Convert.FromBase64String(response.GetProperty("body").GetString()!));
        Assert.Equal("application/octet-stream", response.GetProperty("headers").GetProperty("Content-Type").GetString());
        Assert.Equal(1, _released);
    }

    [Fact]
    public async Task A_file_that_cannot_fit_as_base64_is_a_413_and_is_still_released()
    {
        Answer((ApiResponse.LambdaResponseLimitBytes / 4 * 3) + 1);
        await using var output = await Function().HandleAsync(SampleEvents.Open("http-api-v2.json"));
        using var document = await JsonDocument.ParseAsync(output);
        Assert.Equal(413, document.RootElement.GetProperty("statusCode").GetInt32());
        Assert.Equal(1, _released);
    }

    [Fact]
    public async Task The_local_server_streams_the_file_whatever_its_size()
    {
        var bytes = Answer(ApiResponse.LambdaResponseLimitBytes + 1);
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/db/backup";
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("localhost", 4001);
        context.Request.Body = Stream.Null;
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = "/db/backup";
        var body = new MemoryStream();
        context.Response.Body = body;

        await LocalServerApp.AnswerAsync(context, Function(), new RecordingLogSink());

        Assert.True(context.Response.StatusCode == 200, System.Text.Encoding.UTF8.GetString(body.ToArray()));
        Assert.Equal(bytes.Length, context.Response.ContentLength);
        Assert.Equal("application/octet-stream", context.Response.ContentType);
        Assert.Equal(bytes, body.ToArray());
        Assert.Equal(1, _released);
    }
}
