namespace ServerlessDb.Storage;

/// <summary>
/// This process's own folder under CACHE_DIR, <c>{root}/p-{id}/</c>, holding <c>cache/</c> (cached
/// versions) and <c>work/</c> (working copies). Ownership is an OS file lock on
/// <c>{folder}/.owner.lock</c>, held while the instance lives, so several processes may share one
/// CACHE_DIR: claiming a folder deletes the sibling folders whose lock no process holds (leftovers of
/// processes that died, which on Lambda's /tmp outlive them) and never the folder of a live process.
/// </summary>
/// <remarks>
/// The lock is a <see cref="LockFile"/>, an advisory <c>flock</c> on Unix: it is released by the OS
/// when the process dies, however it dies. Keep the instance reachable for as long as the folder is
/// used: a collected instance releases its lock.
/// </remarks>
internal sealed class CacheFolder : IDisposable
{
    private const string OwnedPrefix = "p-";
    private const string DiscardedPrefix = "x-";
    private const string LockFileName = ".owner.lock";
    private const int ClaimAttempts = 5;

    private readonly LockFile _lock;
    private int _disposed;

    private CacheFolder(string path, LockFile held)
    {
        FolderPath = path;
        _lock = held;
        CacheDirectory = Path.Combine(path, "cache");
        WorkDirectory = Path.Combine(path, "work");
        BlocksDirectory = Path.Combine(path, "blocks");
        Directory.CreateDirectory(CacheDirectory);
        Directory.CreateDirectory(WorkDirectory);
    }

    /// <summary>The absolute path of the owned folder, <c>{root}/p-{id}</c>.</summary>
    public string FolderPath { get; }

    /// <summary>Where the store caches versions, one folder per database.</summary>
    public string CacheDirectory { get; }

    /// <summary>Where writes keep their working copies.</summary>
    public string WorkDirectory { get; }

    /// <summary>Where the lazy reader's block cache keeps the pieces it fetched (it creates the folder).</summary>
    public string BlocksDirectory { get; }

    /// <summary>
    /// Creates and locks a new folder under <paramref name="root"/> (created if missing), after
    /// deleting the sibling folders no live process owns.
    /// </summary>
    /// <exception cref="IOException">no folder could be claimed under <paramref name="root"/>; the message names it.</exception>
    public static CacheFolder Claim(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        root = Path.GetFullPath(root);
        Directory.CreateDirectory(root);
        RemoveAbandoned(root);

        // A claim can lose only to a cleaner that took the brand-new folder between its creation and
        // its lock; a fresh name then wins, so a few attempts are plenty.
        for (var attempt = 0; attempt < ClaimAttempts; attempt++)
        {
            var folder = Path.Combine(root, OwnedPrefix + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(folder);
            if (TryLock(folder) is { } held)
            {
                return new CacheFolder(folder, held);
            }
        }

        throw new IOException($"Could not claim a cache folder under {root}: each new folder was taken by another process's cleanup ({ClaimAttempts} attempts).");
    }

    /// <summary>Releases the folder and deletes it with everything in it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Discard(FolderPath, _lock);
        }
    }

    /// <summary>Deletes the owned folders whose lock is free, and what an interrupted cleanup left.</summary>
    private static void RemoveAbandoned(string root)
    {
        foreach (var sibling in Directory.EnumerateDirectories(root))
        {
            var name = Path.GetFileName(sibling);
            if (name.StartsWith(DiscardedPrefix, StringComparison.Ordinal))
            {
                DeleteDiscarded(sibling);
            }
            else if (name.StartsWith(OwnedPrefix, StringComparison.Ordinal) && TryLock(sibling) is { } abandoned)
            {
                Discard(sibling, abandoned);
            }
        }
    }

    /// <summary>
    /// The lock of <paramref name="folder"/>, or null when another holder has it or the folder is gone.
    /// </summary>
    private static LockFile? TryLock(string folder)
    {
        var path = Path.Combine(folder, LockFileName);
        LockFile? held;
        try
        {
            held = LockFile.TryAcquire(path);
        }
        catch (DirectoryNotFoundException)
        {
            return null; // another process's cleanup renamed it away
        }

        // The file was opened before a cleaner renamed the folder away and locked after it let go:
        // the lock is on a file no longer at this path, so it owns nothing.
        if (held is not null && !File.Exists(path))
        {
            held.Dispose();
            return null;
        }

        return held;
    }

    /// <summary>
    /// Renames <paramref name="folder"/> away while its lock is held (so no one can claim or lock it
    /// again by its name), lets the lock go, then deletes it.
    /// </summary>
    private static void Discard(string folder, LockFile held)
    {
        var discarded = Path.Combine(Path.GetDirectoryName(folder)!, DiscardedPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.Move(folder, discarded);
        }
        finally
        {
            held.Dispose();
        }

        DeleteDiscarded(discarded);
    }

    private static void DeleteDiscarded(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Two cleaners may delete one discarded folder at once, and one of them then finds it
            // half gone. Nothing in it is live; what is left is deleted by the next claim.
        }
    }
}
