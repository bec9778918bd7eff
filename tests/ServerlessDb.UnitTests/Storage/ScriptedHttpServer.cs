using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>
/// A local HTTP server on 127.0.0.1 and a free port that records every request and answers it
/// with a scripted response, so that a real SDK client can be checked on the wire.
/// </summary>
internal sealed class ScriptedHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<RecordedRequest, ScriptedResponse> _script;
    private readonly Task _loop;

    public ScriptedHttpServer(Func<RecordedRequest, ScriptedResponse> script)
    {
        _script = script;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}/");

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException e) when (e.InnerException is HttpListenerException or ObjectDisposedException)
        {
            // The listener was closed under a pending GetContextAsync: that is how the loop ends.
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (!_listener.IsListening && e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var headers = context.Request.Headers.AllKeys
                .Where(name => name is not null)
                .ToDictionary(name => name!, name => context.Request.Headers[name]!, StringComparer.OrdinalIgnoreCase);
            var request = new RecordedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, headers, body.ToArray());
            Requests.Enqueue(request);

            ScriptedResponse answer;
            try
            {
                answer = _script(request);
            }
            catch (Exception e)
            {
                answer = new ScriptedResponse(599, Encoding.UTF8.GetBytes(e.ToString()));
            }

            try
            {
                context.Response.StatusCode = answer.Status;
                foreach (var (name, value) in answer.Headers ?? new Dictionary<string, string>())
                {
                    context.Response.Headers[name] = value;
                }

                if (answer.Body.Length > 0)
                {
                    context.Response.ContentLength64 = answer.Body.Length;
                    await context.Response.OutputStream.WriteAsync(answer.Body);
                }

                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                // The client gave up on this request (a timeout under test; the listener may have closed the
                // response already, hence InvalidOperationException); serve the next one.
            }
        }
    }
}
