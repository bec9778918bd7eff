namespace ServerlessDb.Domain;

/// <summary>One stored database: its name, the size of its current version, and when that version was committed.</summary>
internal sealed record DatabaseEntry(string Name, long Size, DateTimeOffset LastModified);

/// <summary>A page of the catalog; <see cref="Next"/> is the name to list after for the next page, or null on the last.</summary>
internal sealed record DatabasePage(IReadOnlyList<DatabaseEntry> Databases, string? Next);
