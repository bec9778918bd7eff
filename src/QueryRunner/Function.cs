using System.Text;
using System.Text.Json;
using QueryRunner.ApiGateway;
using ServerlessDb.Api;
using ServerlessDb.Configuration;
using ServerlessDb.Hosting;

namespace QueryRunner;

/// <summary>
/// The QueryRunner Lambda entry point (handler <c>QueryRunner::QueryRunner.Function::HandleAsync</c>).
/// Takes and returns raw streams, so the managed runtime needs no Lambda serializer package: it maps an
/// API Gateway proxy event (HTTP API payload 2.0 or REST API payload 1.0) to an <see cref="ApiRequest"/>,
/// and the <see cref="ApiResponse"/> back to the proxy response of the same payload version.
/// </summary>
public sealed class Function
{
    private readonly IApiHandler _handler;
    private readonly TextWriter _errorLog;

    /// <summary>Used by the Lambda runtime: builds the handler once per container, from the environment.</summary>
    public Function()
        : this(ServerlessDbHost.CreateApiHandler(ProcessEnvironment.Instance))
    {
    }

    public Function(IApiHandler handler)
        : this(handler, Console.Error)
    {
    }

    /// <param name="handler">Answers the mapped request.</param>
    /// <param name="errorLog">Where an unexpected exception is logged, one JSON line each (Lambda sends stderr to CloudWatch).</param>
    public Function(IApiHandler handler, TextWriter errorLog)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(errorLog);
        _handler = handler;
        _errorLog = errorLog;
    }

    /// <summary>
    /// Answers one event. Never throws: an input that is not a proxy event gets a 400 with a plain
    /// message, and an exception from the handler (a bug) is logged and answered with a 500, so one
    /// request never takes the container down.
    /// </summary>
    public async Task<Stream> HandleAsync(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ProxyEvent? proxyEvent = null;
        try
        {
            proxyEvent = await ProxyEventReader.ReadAsync(input, CancellationToken.None);
            var response = await _handler.HandleAsync(proxyEvent.Request, CancellationToken.None);
            return ProxyResponseWriter.Write(proxyEvent.Version, response);
        }
        catch (InvalidEventException e)
        {
            // The version may be unknown here; a 2.0 response is also a valid 1.0 one.
            return ProxyResponseWriter.Write(PayloadVersion.HttpApiV2, PlainText(400, e.Message));
        }
        catch (Exception e)
        {
            // The last line of defence: a bug in one request must not crash the container. Logged, not swallowed.
            LogUnhandled(e, proxyEvent?.Request);
            return ProxyResponseWriter.Write(proxyEvent?.Version ?? PayloadVersion.HttpApiV2, InternalError());
        }
    }

    private static ApiResponse PlainText(int statusCode, string message) =>
        new(statusCode, "text/plain; charset=utf-8", message, new Dictionary<string, string>());

    private static ApiResponse InternalError() =>
        new(500, "application/json", EventMessages.InternalErrorJson, new Dictionary<string, string>());

    private void LogUnhandled(Exception exception, ApiRequest? request)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("level", "ERROR");
            json.WriteString("message", "unhandled exception while answering a request");
            json.WriteString("requestId", request?.RequestId);
            json.WriteString("method", request?.Method);
            json.WriteString("path", request?.Path);
            json.WriteString("exceptionType", exception.GetType().FullName);
            json.WriteString("exception", exception.ToString());
            json.WriteEndObject();
        }

        _errorLog.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        _errorLog.Flush();
    }
}
