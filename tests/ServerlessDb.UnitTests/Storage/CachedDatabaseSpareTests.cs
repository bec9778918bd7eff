using ServerlessDb.Storage;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>
/// The spare of a chunked database's cache: the file of the last replaced version no snapshot holds, kept (and
/// counted in the budget) so a write or a download can patch it instead of copying a whole file; handed over once.
/// </summary>
public sealed class CachedDatabaseSpareTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("serverlessdb-spare-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private CachedDatabase NewCache(bool keepsSpare, CacheBudget? budget = null) =>
        new("db", Path.Combine(_folder, "cache"), TimeProvider.System, budget ?? new CacheBudget(1 << 30)) { KeepsReplacedFileAsSpare = keepsSpare };

    private static void Commit(CachedDatabase cache, string etag, int bytes)
    {
        var file = cache.NewTempPath();
        File.WriteAllBytes(file, new byte[bytes]);
        cache.InstallCommitted(new DatabaseETag(etag), file, TimeProvider.System.GetTimestamp());
    }

    private string Target() => Path.Combine(_folder, Guid.NewGuid().ToString("N"));

    [Fact]
    public void A_replaced_version_no_snapshot_holds_becomes_the_spare_and_is_handed_over_once()
    {
        var cache = NewCache(keepsSpare: true);
        Commit(cache, "\"v1\"", 4096);
        Commit(cache, "\"v2\"", 8192);
        var target = Target();

        Assert.Equal(new DatabaseETag("\"v1\""), cache.TakeSpare(target));
        Assert.Equal(4096, new FileInfo(target).Length);
        Assert.Null(cache.TakeSpare(Target()));
        Assert.False(File.Exists(Path.Combine(cache.Folder, CachedDatabase.FileNameFor(new DatabaseETag("\"v1\"")))));
    }

    [Fact]
    public void A_replaced_version_still_held_becomes_the_spare_only_when_its_last_snapshot_is_released()
    {
        var cache = NewCache(keepsSpare: true);
        Commit(cache, "\"v1\"", 4096);
        var held = cache.TryHold(new DatabaseETag("\"v1\""))!;
        Commit(cache, "\"v2\"", 4096);

        Assert.Null(cache.TakeSpare(Target()));
        held.Dispose();
        Assert.Equal(new DatabaseETag("\"v1\""), cache.TakeSpare(Target()));
    }

    [Fact]
    public void Only_the_last_replaced_version_is_kept_and_the_current_one_is_never_handed_over()
    {
        var cache = NewCache(keepsSpare: true);
        Commit(cache, "\"v1\"", 4096);
        Commit(cache, "\"v2\"", 4096);
        Commit(cache, "\"v3\"", 4096);

        Assert.False(File.Exists(Path.Combine(cache.Folder, CachedDatabase.FileNameFor(new DatabaseETag("\"v1\"")))));
        Assert.Equal(new DatabaseETag("\"v2\""), cache.TakeSpare(Target()));
        Assert.Null(cache.TakeSpare(Target()));
        using var current = cache.TryHold(new DatabaseETag("\"v3\""));
        Assert.NotNull(current);
    }

    [Fact]
    public void Without_spares_a_replaced_version_is_deleted()
    {
        var cache = NewCache(keepsSpare: false);
        Commit(cache, "\"v1\"", 4096);
        Commit(cache, "\"v2\"", 4096);

        Assert.Null(cache.TakeSpare(Target()));
        Assert.Single(Directory.GetFiles(cache.Folder));
    }

    [Fact]
    public void The_spare_counts_in_the_budget_and_goes_first_when_the_cache_is_over_it()
    {
        var budget = new CacheBudget(12_000);
        var cache = NewCache(keepsSpare: true, budget);
        Commit(cache, "\"v1\"", 8192);
        Commit(cache, "\"v2\"", 8192);

        Assert.Null(cache.TakeSpare(Target()));
        Assert.Equal(8192, budget.TotalBytes);
        using var current = cache.TryHold(new DatabaseETag("\"v2\""));
        Assert.NotNull(current);
    }
}
