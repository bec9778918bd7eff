using ServerlessDb.Domain;

namespace ServerlessDb.Storage;

/// <summary>
/// Every key the service writes in the databases' bucket, and the one reading of each back, all under the
/// databases' prefix (DB_PREFIX, so the functions' permissions cover them):
/// <list type="bullet">
/// <item>database NAME: <c>{prefix}{NAME}.sqlite</c> (the file, or the manifest of its chunks);</item>
/// <item>its chunks: <c>{prefix}_chunks/{NAME}/{sha256}</c>, written once and never changed;</item>
/// <item>its staged uploads: <c>{prefix}_staging/{NAME}/{id}.sqlite</c>, and the copies a backup too large for a
/// response links to, <c>{prefix}_staging/{NAME}/backup-{id}.sqlite</c> (the staging lifecycle rule expires both);</item>
/// <item>its write lock's lease: <c>{prefix}_locks/{NAME}.lease</c>.</item>
/// </list>
/// The folders start with <c>_</c> and sit one level down, so the one-level listing of the databases
/// (<c>GET /db/databases</c>) never reads them, and no database key can collide with them (names have no '/').
/// </summary>
internal sealed class ObjectKeys
{
    private const string DatabaseExtension = ".sqlite";
    private const string ChunksFolder = "_chunks/";
    private const string StagingFolder = "_staging/";
    private const string BackupCopyPrefix = "backup-";
    private const string LeasesFolder = "_locks/";
    private const string LeaseExtension = ".lease";
    private const int Sha256HexLength = 64;

    public ObjectKeys(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        Prefix = prefix;
    }

    /// <summary>The databases' key prefix (DB_PREFIX): every key below starts with it.</summary>
    public string Prefix { get; }

    /// <summary>Where database <paramref name="database"/> lives: <c>{prefix}{NAME}.sqlite</c>.</summary>
    public string Database(string database) => Prefix + database + DatabaseExtension;

    /// <summary>The database a key holds, or null when the key is not <c>{prefix}{NAME}.sqlite</c> with a valid NAME.</summary>
    public string? DatabaseOf(string key)
    {
        if (!key.StartsWith(Prefix, StringComparison.Ordinal) || !key.EndsWith(DatabaseExtension, StringComparison.Ordinal))
        {
            return null;
        }

        var name = key[Prefix.Length..^DatabaseExtension.Length];
        return DatabaseName.IsValid(name) ? name : null;
    }

    /// <summary>The folder holding every database's chunk folder, which the chunk collector lists with the delimiter <c>/</c>.</summary>
    public string ChunkFolders => Prefix + ChunksFolder;

    /// <summary>The folder holding the chunks of <paramref name="database"/>: <c>{prefix}_chunks/{NAME}/</c>.</summary>
    public string ChunkFolder(string database) => ChunkFolders + database + "/";

    /// <summary>Where the chunk of <paramref name="database"/> whose SHA-256 is <paramref name="sha256"/> lives.</summary>
    public string Chunk(string database, string sha256) => ChunkFolder(database) + sha256;

    /// <summary>The database whose chunk folder <paramref name="folder"/> (a common prefix listed under <see cref="ChunkFolders"/>) is, or null when it names none.</summary>
    public string? DatabaseOfChunkFolder(string folder)
    {
        if (!folder.StartsWith(ChunkFolders, StringComparison.Ordinal))
        {
            return null;
        }

        var name = folder[ChunkFolders.Length..].TrimEnd('/');
        return name.Length > 0 ? name : null;
    }

    /// <summary>The SHA-256 a key in <paramref name="database"/>'s chunk folder names, or null when the key is not named like a chunk (lowercase hex).</summary>
    public string? ChunkOf(string database, string? key)
    {
        var folder = ChunkFolder(database);
        return key is not null && key.Length == folder.Length + Sha256HexLength && key.StartsWith(folder, StringComparison.Ordinal)
            && !key.AsSpan(folder.Length).ContainsAnyExcept("0123456789abcdef")
                ? key[folder.Length..]
                : null;
    }

    /// <summary>Where the staged upload <paramref name="id"/> of <paramref name="database"/> lives: <c>{prefix}_staging/{NAME}/{id}.sqlite</c>.</summary>
    public string StagedUpload(string database, string id) => Prefix + StagingFolder + database + "/" + id + DatabaseExtension;

    /// <summary>Where the copy <paramref name="id"/> a backup of <paramref name="database"/> links to lives: <c>{prefix}_staging/{NAME}/backup-{id}.sqlite</c>.</summary>
    public string BackupCopy(string database, string id) => StagedUpload(database, BackupCopyPrefix + id);

    /// <summary>The folder holding every lease, and nothing else, which the lease reaper lists.</summary>
    public string LeaseFolder => Prefix + LeasesFolder;

    /// <summary>Where the lease of <paramref name="database"/>'s write lock lives: <c>{prefix}_locks/{NAME}.lease</c>.</summary>
    public string Lease(string database) => LeaseFolder + database + LeaseExtension;

    /// <summary>The database a key is the lease of, or null when the key is not <c>{prefix}_locks/{NAME}.lease</c>.</summary>
    public string? DatabaseOfLease(string key)
    {
        if (!key.StartsWith(LeaseFolder, StringComparison.Ordinal) || !key.EndsWith(LeaseExtension, StringComparison.Ordinal))
        {
            return null;
        }

        var name = key[LeaseFolder.Length..^LeaseExtension.Length];
        return name.Length > 0 && !name.Contains('/', StringComparison.Ordinal) ? name : null;
    }
}
