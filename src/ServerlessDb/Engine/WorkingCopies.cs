namespace ServerlessDb.Engine;

/// <summary>
/// Private scratch copies of snapshots that a write runs on; a snapshot itself is never modified.
/// Leftovers from a crashed earlier invocation in the same container are removed at start.
/// </summary>
public sealed class WorkingCopies
{
    private readonly string _directory;

    public WorkingCopies(string cacheDirectory)
    {
        _directory = Path.Combine(cacheDirectory, "work");
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        Directory.CreateDirectory(_directory);
    }

    /// <summary>Copies <paramref name="snapshotPath"/> (a streaming file copy) and returns the copy's path.</summary>
    public string CreateFrom(string snapshotPath)
    {
        var path = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".sqlite");
        File.Copy(snapshotPath, path);
        return path;
    }

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
