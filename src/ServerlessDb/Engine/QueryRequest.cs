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
