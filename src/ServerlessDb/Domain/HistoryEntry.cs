namespace ServerlessDb.Domain;

/// <summary>
/// One entry of a database's history: a version the store keeps, by its version id (the backend's: S3's object version
/// id, the local folder's), when it was committed, its size, and whether it is the current one.
/// </summary>
internal sealed record HistoryEntry(string Id, DateTimeOffset Time, long Size, bool IsCurrent);

/// <summary>A page of history entries, newest first, and the token of the next page (null on the last).</summary>
internal sealed record HistoryPage(IReadOnlyList<HistoryEntry> Versions, string? Next);
