using ServerlessDb.Domain;
using ServerlessDb.Storage;

namespace ServerlessDb.Engine;

/// <summary>
/// What a request did: one result per non-empty statement, whether a new version was committed,
/// and the version the results are based on. For an idempotent write, <see cref="Answer"/> is the
/// response body recorded with the write; <see cref="Replayed"/> says it was recorded by an earlier
/// request with the same key, and this one changed nothing.
/// </summary>
public sealed record QueryOutcome(IReadOnlyList<StatementResult> Results, bool Committed, StoredVersion Version)
{
    public string? Answer { get; init; }

    public bool Replayed { get; init; }

    public static QueryOutcome Replay(string answer, StoredVersion version) =>
        new([], Committed: false, version) { Answer = answer, Replayed = true };
}
