namespace ServerlessDb.IntegrationTests.BadInput;

/// <summary>
/// One hostile request and its documented answer. An HTTP case (<see cref="RawEvent"/> null) runs
/// through both the Lambda handler and the local server; a raw-event case is a malformed Lambda
/// input, so it runs through the handler only.
/// </summary>
/// <param name="Query">The raw query string as a client sends it (percent-encoded), without '?'.</param>
/// <param name="Body">The body's bytes; not always valid UTF-8.</param>
/// <param name="Status">The documented status: a 4xx, or 200 where rqlite answers with a per-statement error.</param>
/// <param name="Expected">Text the answer's body must contain (for a 200, the statement's error).</param>
public sealed record BadInputCase(
    string Name,
    string Method,
    string Path,
    string? Query,
    string ContentType,
    byte[]? Body,
    int Status,
    string Expected,
    string? RawEvent = null)
{
    public bool LambdaOnly => RawEvent is not null;

    public override string ToString() => Name;
}
