namespace ServerlessDb.Storage.LocalFolder;

/// <summary>
/// How many noncurrent versions of each key <see cref="LocalFolderObjectBackend"/> keeps (LOCAL_VERSIONS_KEPT): time
/// travel's history of each database, as an S3 lifecycle rule's NewerNoncurrentVersions keeps it in a bucket. Beyond it
/// the oldest are deleted by the put that replaces the current one, under the key's lock. 0 keeps none. The current
/// version is not counted and never deleted.
/// </summary>
internal sealed record LocalVersionRetention(int VersionsKept)
{
    public const int DefaultVersionsKept = 100;

    public static LocalVersionRetention Default { get; } = new(DefaultVersionsKept);
}
