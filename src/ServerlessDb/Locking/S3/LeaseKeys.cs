namespace ServerlessDb.Locking.S3;

/// <summary>
/// Where the lease of database NAME lives: <c>{prefix}_locks/{NAME}.lease</c>, inside the databases'
/// prefix so the functions' permissions stay on it, and in a folder below it, which the one-level
/// listing of <c>GET /db/databases</c> never reads.
/// </summary>
internal static class LeaseKeys
{
    private const string Folder = "_locks/";
    private const string Extension = ".lease";

    public static string For(string prefix, string database) => prefix + Folder + database + Extension;

    /// <summary>The prefix the reaper lists: every lease, nothing else.</summary>
    public static string FolderOf(string prefix) => prefix + Folder;

    /// <summary>The database a key is the lease of, or null when the key is not <c>{prefix}_locks/{NAME}.lease</c>.</summary>
    public static string? DatabaseOf(string prefix, string key)
    {
        var folder = FolderOf(prefix);
        if (!key.StartsWith(folder, StringComparison.Ordinal) || !key.EndsWith(Extension, StringComparison.Ordinal))
        {
            return null;
        }

        var name = key[folder.Length..^Extension.Length];
        return name.Length > 0 && !name.Contains('/', StringComparison.Ordinal) ? name : null;
    }
}
