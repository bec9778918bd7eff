namespace ServerlessDb.Domain;

/// <summary>One kept version of a database: its id, when it was committed, its size, and whether it is the current one.</summary>
internal sealed record DatabaseVersion(string Id, DateTimeOffset Time, long Size, bool IsCurrent);

/// <summary>A page of versions, newest first, and the token of the next page (null on the last).</summary>
internal sealed record VersionPage(IReadOnlyList<DatabaseVersion> Versions, string? Next);
