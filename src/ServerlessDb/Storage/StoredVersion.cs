namespace ServerlessDb.Storage;

/// <summary>
/// Which version of a database a reader saw: the object's ETag, or <see cref="Missing"/> when the
/// database does not exist yet. A commit is conditional on it.
/// </summary>
public readonly record struct StoredVersion(string? ETag)
{
    public static StoredVersion Missing => default;

    public bool Exists => ETag is not null;

    public override string ToString() => ETag ?? "(none)";
}
