using System.Net;
using System.Text;

namespace ServerlessDb.UnitTests.Locking.Ec2;

/// <summary>Answers requests from a script, in order, and records what was sent.</summary>
internal sealed class ScriptedHttpHandler : HttpMessageHandler
{
    private readonly Queue<Func<HttpResponseMessage>> _script = new();

    public List<SentRequest> Requests { get; } = [];

    public ScriptedHttpHandler Respond(HttpStatusCode status, string body)
    {
        _script.Enqueue(() => new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "text/xml") });
        return this;
    }

    public ScriptedHttpHandler Throw(Exception exception)
    {
        _script.Enqueue(() => throw exception);
        return this;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var headers = request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        string? contentType = null;
        var body = string.Empty;
        if (request.Content is not null)
        {
            contentType = request.Content.Headers.TryGetValues("Content-Type", out var values) ? string.Join(",", values) : null;
            body = await request.Content.ReadAsStringAsync(cancellationToken);
        }

        Requests.Add(new SentRequest(request.Method, request.RequestUri!, headers, contentType, body));
        Assert.True(_script.Count > 0, $"unexpected request: {body}");
        return _script.Dequeue()();
    }

    public sealed record SentRequest(
        HttpMethod Method,
        Uri Uri,
        IReadOnlyDictionary<string, string> Headers,
        string? ContentType,
        string Body);
}
