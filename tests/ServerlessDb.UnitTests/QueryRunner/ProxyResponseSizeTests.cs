using System.Text;
using System.Text.Json;
using Moq;
using QueryRunner;
using ServerlessDb.Api;
using ServerlessDb.Domain;
using ServerlessDb.Protocol;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.QueryRunner;

/// <summary>Lambda's 6 MB response limit holds for the bytes the handler returns, after the proxy response's own JSON encoding.</summary>
public sealed class ProxyResponseSizeTests
{
    private const int LambdaLimit = 6_291_456;

    /// <summary>A result body as the API writes it: one row with one text value of <paramref name="length"/> copies of <paramref name="c"/>.</summary>
    private static string ResultBody(char c, int length) => ResultsJsonWriter.Write(
        [new RowsResult(["v"], ["text"], [[new string(c, length)]])],
        new ResponseFormat(false, false, false, false),
        null,
        int.MaxValue);

    private static async Task<(byte[] Raw, JsonElement Response)> InvokeAsync(string sample, string body)
    {
        var handler = new Mock<IApiHandler>(MockBehavior.Strict);
        handler.Setup(h => h.HandleAsync(It.IsAny<ApiRequest>(), It.IsAny<CancellationToken>())).ReturnsAsync(ApiResponse.Json(200, body));
        await using var output = await new Function(handler.Object, new RecordingLogSink(), TimeProvider.System).HandleAsync(SampleEvents.Open(sample));
        using var copy = new MemoryStream();
        await output.CopyToAsync(copy);
        var raw = copy.ToArray();
        using var document = JsonDocument.Parse(raw);
        return (raw, document.RootElement.Clone());
    }

    private static string DecodedBody(JsonElement response)
    {
        var body = response.GetProperty("body").GetString()!;
        return response.GetProperty("isBase64Encoded").GetBoolean() ? Encoding.UTF8.GetString(Convert.FromBase64String(body)) : body;
    }

    [Theory]
    [InlineData(SampleEvents.HttpApiV2)]
    [InlineData(SampleEvents.RestApiProxy)]
    public async Task A_response_that_fits_as_text_stays_text_however_many_quotes_it_has(string sample)
    {
        // Escaped, this body is twice its size, still far below the limit: base64 would only puzzle a
        // REST API deployment without binary media types.
        var body = ResultBody('"', 1000);

        var (_, response) = await InvokeAsync(sample, body);

        Assert.False(response.GetProperty("isBase64Encoded").GetBoolean());
        Assert.Equal(body, response.GetProperty("body").GetString());
    }

    [Theory]
    [InlineData(SampleEvents.HttpApiV2)]
    [InlineData(SampleEvents.RestApiProxy)]
    public async Task A_result_full_of_quotes_under_the_result_limit_is_sent_whole_within_lambdas_limit(string sample)
    {
        // 4.4 MB of \" : escaped again it would be 8.8 MB (17.6 MB with \u0022); as base64 it is 5.9 MB.
        var body = ResultBody('"', 2_200_000);

        var (raw, response) = await InvokeAsync(sample, body);

        Assert.True(raw.Length <= LambdaLimit, $"{raw.Length} bytes");
        Assert.Equal(200, response.GetProperty("statusCode").GetInt32());
        Assert.True(response.GetProperty("isBase64Encoded").GetBoolean());
        Assert.Equal(body, DecodedBody(response));
    }

    [Theory]
    [InlineData(SampleEvents.HttpApiV2, '\u0001', 790_000)]
    [InlineData(SampleEvents.RestApiProxy, '\u0001', 790_000)]
    [InlineData(SampleEvents.HttpApiV2, '\u00e9', 2_500_000)]
    [InlineData(SampleEvents.RestApiProxy, '<', 4_900_000)]
    public async Task A_result_of_control_or_non_ascii_characters_is_sent_as_escaped_text_within_lambdas_limit(string sample, char c, int length)
    {
        var body = ResultBody(c, length);

        var (raw, response) = await InvokeAsync(sample, body);

        Assert.True(raw.Length <= LambdaLimit, $"{raw.Length} bytes");
        Assert.Equal(200, response.GetProperty("statusCode").GetInt32());
        Assert.False(response.GetProperty("isBase64Encoded").GetBoolean());
        Assert.Equal(body, DecodedBody(response));
    }

    [Theory]
    [InlineData(SampleEvents.HttpApiV2, '"', 2_400_000)]
    [InlineData(SampleEvents.RestApiProxy, '"', 2_400_000)]
    [InlineData(SampleEvents.HttpApiV2, '\u0001', 900_000)]
    [InlineData(SampleEvents.RestApiProxy, '\u0001', 900_000)]
    public async Task A_response_still_over_lambdas_limit_once_encoded_is_413_instead(string sample, char c, int length)
    {
        var body = ResultBody(c, length);
        Assert.True(Encoding.UTF8.GetByteCount(body) < 6 * 1024 * 1024);

        var (raw, response) = await InvokeAsync(sample, body);

        Assert.True(raw.Length <= LambdaLimit, $"{raw.Length} bytes");
        Assert.Equal(413, response.GetProperty("statusCode").GetInt32());
        Assert.StartsWith("text/plain", response.GetProperty("headers").GetProperty("Content-Type").GetString(), StringComparison.Ordinal);
        Assert.Equal(StatusDocuments.RqliteVersion, response.GetProperty("headers").GetProperty("X-RQLITE-VERSION").GetString());
        Assert.StartsWith("response too large: ", DecodedBody(response), StringComparison.Ordinal);
        Assert.EndsWith($"the limit is {LambdaLimit}; select fewer rows or columns (LIMIT/OFFSET)\n", DecodedBody(response), StringComparison.Ordinal);
    }
}
