using ServerlessDb.Protocol;
using ServerlessDb.Storage;

namespace ServerlessDb.Engine;

/// <summary>
/// What a request did: one result per non-empty statement, whether a new version was committed,
/// and the version the results are based on.
/// </summary>
public sealed record QueryOutcome(IReadOnlyList<StatementResult> Results, bool Committed, StoredVersion Version);
