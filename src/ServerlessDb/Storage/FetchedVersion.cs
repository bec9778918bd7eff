namespace ServerlessDb.Storage;

/// <summary>
/// What one revalidation of a cached database found: the cached version is still current
/// (<see cref="Unchanged"/>), the database is missing, or a new version was downloaded to
/// <see cref="DownloadedFile"/>, a temporary file in the database's cache folder, from
/// <see cref="Source"/> (where the object lives, for messages).
/// </summary>
internal readonly record struct FetchedVersion(StoredVersion Version, string? DownloadedFile, bool Unchanged, string? Source = null)
{
    public static FetchedVersion StillCurrent => new(default, null, Unchanged: true);

    public static FetchedVersion Missing => new(StoredVersion.Missing, null, Unchanged: false);

    public static FetchedVersion Downloaded(StoredVersion version, string file, string source) => new(version, file, Unchanged: false, source);
}
