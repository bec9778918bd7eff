namespace ServerlessDb.Storage;

/// <summary>
/// What one revalidation of a cached database found: the cached version is still current
/// (<see cref="Unchanged"/>), the database is missing, or a new version was downloaded to
/// <see cref="DownloadedFile"/>, a temporary file in the database's cache folder.
/// </summary>
internal readonly record struct FetchedVersion(StoredVersion Version, string? DownloadedFile, bool Unchanged)
{
    public static FetchedVersion StillCurrent => new(default, null, Unchanged: true);

    public static FetchedVersion Missing => new(StoredVersion.Missing, null, Unchanged: false);

    public static FetchedVersion Downloaded(StoredVersion version, string file) => new(version, file, Unchanged: false);
}
