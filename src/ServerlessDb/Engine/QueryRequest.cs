using ServerlessDb.Domain;
using ServerlessDb.Storage;

namespace ServerlessDb.Engine;

/// <summary>
/// A parsed request: its statements, how it came in, and its flags; <paramref name="Idempotency"/>
/// when the client sent an Idempotency-Key with a write.
/// </summary>
internal sealed record QueryRequest(
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
internal sealed record IdempotentWrite(string Key, Func<IReadOnlyList<StatementResult>, string> RenderAnswer)
{
    /// <summary>The longest key accepted, in characters.</summary>
    public const int MaxKeyLength = 128;
}

/// <summary>
/// What a request did: one result per non-empty statement, whether a new version was committed,
/// and the version the results are based on. For an idempotent write, <see cref="Answer"/> is the
/// response body recorded with the write; <see cref="Replayed"/> says it was recorded by an earlier
/// request with the same key, and this one changed nothing.
/// </summary>
internal sealed record QueryOutcome(IReadOnlyList<StatementResult> Results, bool Committed, DatabaseETag Version)
{
    public string? Answer { get; init; }

    public bool Replayed { get; init; }

    public static QueryOutcome Replay(string answer, DatabaseETag version) =>
        new([], Committed: false, version) { Answer = answer, Replayed = true };
}
