using QueryRunner.ApiGateway;
using ServerlessDb.Api;
using ServerlessDb.Configuration;
using ServerlessDb.Hosting;
using ServerlessDb.Logging;

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
    private readonly ILogSink _log;
    private readonly TimeProvider _time;

    /// <summary>Used by the Lambda runtime: builds the handler once per container, from the environment.</summary>
    public Function()
        : this(CompositionRoot.CreateApiHandler(ProcessEnvironment.Instance))
    {
    }

    public Function(IApiHandler handler)
        : this(handler, ConsoleLogSink.Instance, TimeProvider.System)
    {
    }

    /// <param name="handler">Answers the mapped request.</param>
    /// <param name="log">Where an unexpected exception is logged, in the one line shape every component uses.</param>
    /// <param name="time">Stamps the log lines.</param>
    public Function(IApiHandler handler, ILogSink log, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(time);
        _handler = handler;
        _log = log;
        _time = time;
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
        using var line = new LogLine(_time, "error", "unhandled exception while answering a request");
        line.Add("requestId", request?.RequestId)
            .Add("method", request?.Method)
            .Add("path", request?.Path)
            .Add("exceptionType", exception.GetType().FullName)
            .Add("exception", exception)
            .WriteTo(_log);
    }
}
