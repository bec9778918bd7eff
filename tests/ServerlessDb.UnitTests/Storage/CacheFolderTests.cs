using System.Diagnostics;
using ServerlessDb.Engine;
using ServerlessDb.Storage;

namespace ServerlessDb.UnitTests.Storage;

public sealed class CacheFolderTests : IDisposable
{
    private const string LockFileName = ".owner.lock";

    private readonly string _root = Directory.CreateTempSubdirectory("serverlessdb-cache-folder-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Two_owners_of_one_cache_directory_get_distinct_folders_and_the_second_leaves_the_first_alone()
    {
        using var first = CacheFolder.Claim(_root);
        var cached = Path.Combine(first.CacheDirectory, "shop", "v-e1.sqlite");
        Directory.CreateDirectory(Path.GetDirectoryName(cached)!);
        File.WriteAllBytes(cached, [1]);
        var working = Path.Combine(first.WorkDirectory, "copy.sqlite");
        File.WriteAllBytes(working, [2]);

        using var second = CacheFolder.Claim(_root);

        Assert.NotEqual(first.FolderPath, second.FolderPath);
        Assert.Equal(_root, Path.GetDirectoryName(second.FolderPath));
        Assert.True(File.Exists(cached), "the first owner's cached version survives the second owner's start");
        Assert.True(File.Exists(working), "the first owner's working copy survives the second owner's start");
        Assert.True(Directory.Exists(second.CacheDirectory));
        Assert.True(Directory.Exists(second.WorkDirectory));
    }

    [Fact]
    public void A_folder_whose_lock_is_held_survives_a_claim_and_one_whose_lock_is_free_is_removed()
    {
        var live = Leftover("p-live");
        var dead = Leftover("p-dead");
        var diedBeforeLocking = Path.Combine(_root, "p-unlocked");
        Directory.CreateDirectory(diedBeforeLocking);
        var interruptedCleanup = Leftover("x-half-deleted");
        var notOurs = Leftover("something-else");

        using (new FileStream(Path.Combine(live, LockFileName), FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        using (CacheFolder.Claim(_root))
        {
            Assert.True(File.Exists(Path.Combine(live, "cache", "data.sqlite")), "a folder whose lock is held belongs to a live process");
            Assert.False(Directory.Exists(dead), "a folder whose lock is free is a dead process's leftover");
            Assert.False(Directory.Exists(diedBeforeLocking));
            Assert.False(Directory.Exists(interruptedCleanup));
            Assert.True(Directory.Exists(notOurs), "only folders the claim names are touched");
        }
    }

    [Fact]
    public async Task Another_process_holding_the_lock_keeps_its_folder_until_it_dies()
    {
        var other = Leftover("p-other-process");

        // util-linux flock(1) takes the same advisory flock .NET takes for FileShare.None. --close keeps
        // the lock out of the sleep it runs, so the lock goes exactly when flock itself exits.
        using var holder = Process.Start(new ProcessStartInfo("flock", ["--exclusive", "--close", Path.Combine(other, LockFileName), "sleep", "60"])
        {
            RedirectStandardError = true,
        })!;
        try
        {
            await WaitUntilHeldAsync(Path.Combine(other, LockFileName));

            using (CacheFolder.Claim(_root))
            {
                Assert.True(Directory.Exists(other), "a live process's folder survives");
            }
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            await holder.WaitForExitAsync();
        }

        using (CacheFolder.Claim(_root))
        {
            Assert.False(Directory.Exists(other), "once the process died, its folder is a leftover");
        }
    }

    [Fact]
    public void Disposing_releases_the_folder_and_deletes_it()
    {
        var folder = CacheFolder.Claim(_root);
        File.WriteAllBytes(Path.Combine(folder.WorkDirectory, "copy.sqlite"), [1]);

        folder.Dispose();

        Assert.False(Directory.Exists(folder.FolderPath));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
    }

    [Fact]
    public void Working_copies_live_in_their_owners_folder_and_a_second_owner_does_not_delete_them()
    {
        using var firstFolder = CacheFolder.Claim(_root);
        var snapshot = Path.Combine(_root, "snapshot.sqlite");
        File.WriteAllBytes(snapshot, [7]);
        var copy = new WorkingCopies(firstFolder).CreateFrom(snapshot);

        _ = new WorkingCopies(_root);

        Assert.Equal(firstFolder.WorkDirectory, Path.GetDirectoryName(copy));
        Assert.Equal(new byte[] { 7 }, File.ReadAllBytes(copy));
    }

    [Fact]
    public async Task Concurrent_claims_on_one_cache_directory_each_get_a_folder_that_survives_the_others()
    {
        var folders = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => CacheFolder.Claim(_root))));
        try
        {
            Assert.Equal(folders.Length, folders.Select(f => f.FolderPath).Distinct().Count());
            Assert.All(folders, f => Assert.True(Directory.Exists(f.WorkDirectory) && Directory.Exists(f.CacheDirectory), f.FolderPath));
        }
        finally
        {
            Array.ForEach(folders, f => f.Dispose());
        }
    }

    /// <summary>A folder as a process leaves it: a lock file, a cached file.</summary>
    private string Leftover(string name)
    {
        var folder = Path.Combine(_root, name);
        Directory.CreateDirectory(Path.Combine(folder, "cache"));
        File.WriteAllBytes(Path.Combine(folder, LockFileName), []);
        File.WriteAllBytes(Path.Combine(folder, "cache", "data.sqlite"), [1]);
        return folder;
    }

    private static async Task WaitUntilHeldAsync(string lockPath)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                using (new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                }
            }
            catch (IOException)
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"flock did not take {lockPath} within 10 s.");
    }
}
