using ServerlessDb.Storage;

namespace ServerlessDb.Engine;

/// <summary>
/// Private scratch copies of snapshots that a write runs on; a snapshot itself is never modified.
/// They live in the process's own <see cref="CacheFolder"/>, so a process never sees another's; the
/// leftovers of a crashed earlier process go with its folder when the next one claims its own.
/// </summary>
internal sealed class WorkingCopies
{
    private readonly CacheFolder _folder;

    /// <summary>Working copies in a new folder of this process's own under <paramref name="cacheDirectory"/>.</summary>
    public WorkingCopies(string cacheDirectory)
        : this(CacheFolder.Claim(cacheDirectory))
    {
    }

    /// <summary>Working copies in <paramref name="folder"/>'s work folder; the caller keeps owning the folder.</summary>
    public WorkingCopies(CacheFolder folder) => _folder = folder;

    /// <summary>The folder working copies (and the overlays of writes in place) live in.</summary>
    public string Folder => _folder.WorkDirectory;

    /// <summary>Copies <paramref name="snapshotPath"/> (a streaming file copy) and returns the copy's path.</summary>
    public string CreateFrom(string snapshotPath)
    {
        var path = NewScratchPath(".sqlite");
        File.Copy(snapshotPath, path);
        return path;
    }

    /// <summary>A fresh path in the work folder for a file the caller writes and deletes (a generated backup).</summary>
    public string NewScratchPath(string extension) => Path.Combine(_folder.WorkDirectory, Guid.NewGuid().ToString("N") + extension);

    /// <summary>Deletes a working copy and anything SQLite left beside it.</summary>
    public static void Delete(string path)
    {
        foreach (var file in new[] { path, path + "-journal", path + "-wal", path + "-shm" })
        {
            File.Delete(file);
        }
    }

    /// <summary>A file is complete on its own when no journal or WAL is left beside it (invariant 5).</summary>
    public static void EnsureComplete(string path)
    {
        foreach (var suffix in new[] { "-journal", "-wal" })
        {
            if (File.Exists(path + suffix))
            {
                throw new InvalidOperationException($"{path}{suffix} exists after the connection closed; refusing to upload an incomplete database.");
            }
        }
    }
}
