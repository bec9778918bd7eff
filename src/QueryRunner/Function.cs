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
        : this(CompositionRoot.CreateApiHandler(ProcessEnvironment.Instance), ConsoleLogSink.Instance, TimeProvider.System)
    {
    }

    /// <param name="handler">Answers the mapped request.</param>
    /// <param name="log">Where the entry point's own answers (an invalid event, a bug) are logged, in the one line shape every component uses.</param>
    /// <param name="time">Stamps the log lines.</param>
    internal Function(IApiHandler handler, ILogSink log, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(time);
        _handler = handler;
        _log = log;
        _time = time;
    }

    /// <summary>
    /// Answers one event. Never throws: an input that is not a proxy event gets a 400 and an exception from
    /// the handler (a bug) a 500, both built and logged by <see cref="ErrorResponses"/> as the API's own
    /// error answers are, so one request never takes the container down.
    /// </summary>
    public async Task<Stream> HandleAsync(Stream input)
    {
        var (version, response) = await AnswerAsync(input);
        using (response.File)
        {
            return ProxyResponseWriter.Write(version, response);
        }
    }

    /// <summary>
    /// The answer to one event before it is written as a proxy response, for a host that sends a binary answer
    /// (<see cref="ApiResponse.File"/>) itself; that host disposes the file. Never throws, as <see cref="HandleAsync"/>.
    /// </summary>
    internal async Task<(PayloadVersion Version, ApiResponse Response)> AnswerAsync(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ProxyEvent? proxyEvent = null;
        try
        {
            proxyEvent = await ProxyEvent.ReadAsync(input, CancellationToken.None);
            return (proxyEvent.Version, await _handler.HandleAsync(proxyEvent.Request, CancellationToken.None));
        }
        catch (Exception e)
        {
            // An invalid event, or the last line of defence: a bug in one request must not crash the
            // container. Logged, not swallowed. The version may be unknown here; a 2.0 response is also a valid 1.0 one.
            var answer = ErrorResponses.Answer(e);
            ErrorResponses.Log(_log, _time, "request", proxyEvent?.Request, answer.StatusCode, e);
            return (proxyEvent?.Version ?? PayloadVersion.HttpApiV2, answer);
        }
    }
}
