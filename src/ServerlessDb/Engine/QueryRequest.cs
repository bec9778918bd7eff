using ServerlessDb.Domain;

namespace ServerlessDb.Engine;

/// <summary>
/// A parsed request: its statements, how it came in, and its flags; <paramref name="Idempotency"/>
/// when the client sent an Idempotency-Key with a write.
/// </summary>
public sealed record QueryRequest(
    string RequestId,
    RequestKind Kind,
    IReadOnlyList<Statement> Statements,
    RequestFlags Flags,
    IdempotentWrite? Idempotency = null);

/// <summary>
/// A write the client may retry: <paramref name="Key"/> (the Idempotency-Key header) makes it apply
/// at most once within the retention window. <paramref name="RenderAnswer"/> turns the results into the
/// exact response body, which is recorded in the same commit as the write and given again to a retry.
/// </summary>
public sealed record IdempotentWrite(string Key, Func<IReadOnlyList<StatementResult>, string> RenderAnswer)
{
    /// <summary>The longest key accepted, in characters.</summary>
    public const int MaxKeyLength = 128;
}
