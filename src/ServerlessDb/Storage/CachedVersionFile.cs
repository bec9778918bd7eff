namespace ServerlessDb.Storage;

/// <summary>
/// One immutable local file holding one version of a database: its size, how many snapshots hold it, and its one
/// <see cref="CachedFileRole"/>, which only its <see cref="CachedDatabase"/> changes (through one method, under its lock).
/// </summary>
internal sealed class CachedVersionFile(DatabaseETag version, string path, long bytes, bool isStoredObject)
{
    private int _role = (int)CachedFileRole.New;

    public DatabaseETag Version { get; } = version;

    public string Path { get; } = path;

    /// <summary>The file's size, counted against the cache's <see cref="CacheBudget"/>.</summary>
    public long Bytes { get; } = bytes;

    /// <summary>Byte for byte the stored object, as the store that fetched or committed it said (see <see cref="DatabaseSnapshot.IsStoredObject"/>).</summary>
    public bool IsStoredObject { get; } = isStoredObject;

    /// <summary>Snapshots that hold the file; guarded by the owning <see cref="CachedDatabase"/>'s lock.</summary>
    public int Holders { get; set; }

    /// <summary>
    /// What the file is to its database. Written under the owning database's lock (by <see cref="CachedDatabase"/>'s
    /// one transition method, after <see cref="CachedFileRoles.Allows"/>), read by the budget without it.
    /// </summary>
    public CachedFileRole Role
    {
        get => (CachedFileRole)Volatile.Read(ref _role);
        set => Volatile.Write(ref _role, (int)value);
    }
}

/// <summary>What a cached file is to its database, which decides when it may be deleted or handed over.</summary>
internal enum CachedFileRole
{
    /// <summary>Just moved into the folder, given its first role before its database's lock is released; not yet counted in the budget.</summary>
    New,

    /// <summary>
    /// The version readers are served. Deleted only by the budget, when no snapshot holds it and no reader waits for
    /// a refresh; replacing it gives it the role its holders and history ids call for.
    /// </summary>
    Current,

    /// <summary>
    /// An old version read by its history id (time travel), found again by that id. Immutable, so kept when no snapshot
    /// holds it until the budget evicts it or the store says it no longer keeps the version.
    /// </summary>
    KeptForHistory,

    /// <summary>
    /// Replaced, and still held by snapshots: not counted by the budget (it leaves soon; making room for it would evict
    /// the new current version of a large database after every commit). When its last snapshot is released it becomes
    /// the spare, or is deleted.
    /// </summary>
    Superseded,

    /// <summary>
    /// The last replaced version no snapshot holds, kept (and counted in the budget) when the database keeps spares:
    /// the store takes it, unheld, to patch into a newer version instead of copying a whole file. Deleted by the budget,
    /// or when a newer spare replaces it.
    /// </summary>
    Spare,

    /// <summary>Left the cache: deleted, or taken by the store. Final; no longer in the folder's books or the budget.</summary>
    Gone,
}

/// <summary>The changes of <see cref="CachedFileRole"/> a cached file may make; any other is a bug in its database.</summary>
internal static class CachedFileRoles
{
    /// <summary>Whether a file may change from <paramref name="from"/> to <paramref name="to"/>. Keeping a role is not a change.</summary>
    public static bool Allows(CachedFileRole from, CachedFileRole to) => (from, to) switch
    {
        (CachedFileRole.Gone, _) => false,
        (_, CachedFileRole.New) => false,
        (CachedFileRole.New, CachedFileRole.Current or CachedFileRole.KeptForHistory) => true,
        (CachedFileRole.New, _) => false,

        // A version served again: the same ETag is the same content, whatever the file was doing.
        (_, CachedFileRole.Current) => true,

        // Replaced, or a reader's snapshot released: the current version is evicted or retired, a held one superseded.
        (CachedFileRole.Current, _) => true,
        (CachedFileRole.Superseded, CachedFileRole.KeptForHistory or CachedFileRole.Spare or CachedFileRole.Gone) => true,

        // A newer spare replaced it while a snapshot held it; it goes when released.
        (CachedFileRole.Spare, CachedFileRole.KeptForHistory or CachedFileRole.Superseded or CachedFileRole.Gone) => true,

        // Forgotten by its history id while held, or unheld.
        (CachedFileRole.KeptForHistory, CachedFileRole.Superseded or CachedFileRole.Gone) => true,
        _ => false,
    };
}
