namespace ServerlessDb.Storage.LocalFolder;

/// <summary>
/// How many replaced versions of each database <see cref="LocalFolderDatabaseStore"/> keeps for time travel
/// (LOCAL_VERSIONS_KEPT); beyond it the oldest are deleted, checked every tenth of that many commits (every
/// commit below 10), so up to a tenth more may be kept between checks. 0 keeps none. The current version is
/// not counted and never deleted.
/// </summary>
internal sealed record LocalVersionRetention(int VersionsKept)
{
    public const int DefaultVersionsKept = 100;

    public static LocalVersionRetention Default { get; } = new(DefaultVersionsKept);
}
