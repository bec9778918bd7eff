using ServerlessDb.Storage;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>The changes of role a cached file may make, and that a database's files keep one role each.</summary>
public sealed class CachedFileRolesTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("serverlessdb-roles-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // Roles by name: the enum is internal, and a test's parameters are public.
    [Theory]
    [InlineData("New", "Current")]
    [InlineData("New", "KeptForHistory")]
    [InlineData("Current", "Superseded")]
    [InlineData("Current", "KeptForHistory")]
    [InlineData("Current", "Spare")]
    [InlineData("Current", "Gone")]
    [InlineData("Superseded", "Current")]
    [InlineData("Superseded", "KeptForHistory")]
    [InlineData("Superseded", "Spare")]
    [InlineData("Superseded", "Gone")]
    [InlineData("Spare", "Current")]
    [InlineData("Spare", "KeptForHistory")]
    [InlineData("Spare", "Superseded")]
    [InlineData("Spare", "Gone")]
    [InlineData("KeptForHistory", "Current")]
    [InlineData("KeptForHistory", "Superseded")]
    [InlineData("KeptForHistory", "Gone")]
    public void These_changes_are_allowed(string from, string to) => Assert.True(CachedFileRoles.Allows(Enum.Parse<CachedFileRole>(from), Enum.Parse<CachedFileRole>(to)));

    [Theory]
    [InlineData("New", "Superseded")]
    [InlineData("New", "Spare")]
    [InlineData("New", "Gone")]
    [InlineData("Current", "New")]
    [InlineData("KeptForHistory", "Spare")]
    [InlineData("Gone", "Current")]
    [InlineData("Gone", "Spare")]
    [InlineData("Gone", "New")]
    public void These_changes_are_not(string from, string to) => Assert.False(CachedFileRoles.Allows(Enum.Parse<CachedFileRole>(from), Enum.Parse<CachedFileRole>(to)));

    [Fact]
    public void Every_change_is_listed_as_allowed_or_not()
    {
        var roles = Enum.GetValues<CachedFileRole>();
        var allowed = roles.SelectMany(from => roles.Where(to => to != from && CachedFileRoles.Allows(from, to))).Count();

        // The seventeen of These_changes_are_allowed: a new one must be added there, with its reason in the table.
        Assert.Equal(17, allowed);
    }

    [Fact]
    public void A_spare_read_by_its_history_id_is_kept_for_history_and_no_longer_handed_over()
    {
        var cache = new CachedDatabase("db", Path.Combine(_folder, "cache"), TimeProvider.System, new CacheBudget(1 << 30)) { KeepsReplacedFileAsSpare = true };
        Commit(cache, "\"v1\"");
        Commit(cache, "\"v2\"");

        using (cache.AdoptAndHoldVersion(FetchedVersion.Downloaded(new DatabaseETag("\"v1\""), Written(cache), "test"), "id-1"))
        {
        }

        Assert.Null(cache.TakeSpare(Path.Combine(_folder, "taken")));
        using var kept = cache.TryHoldVersion("id-1");
        Assert.NotNull(kept);
        Assert.True(File.Exists(kept.FilePath));
    }

    [Fact]
    public void A_version_forgotten_while_held_is_deleted_when_released()
    {
        var cache = new CachedDatabase("db", Path.Combine(_folder, "cache"), TimeProvider.System, new CacheBudget(1 << 30));
        Commit(cache, "\"v2\"");
        var held = cache.AdoptAndHoldVersion(FetchedVersion.Downloaded(new DatabaseETag("\"v1\""), Written(cache), "test"), "id-1");

        cache.ForgetVersion("id-1");

        Assert.True(File.Exists(held.FilePath));
        Assert.Null(cache.TryHoldVersion("id-1"));
        held.Dispose();
        Assert.False(File.Exists(held.FilePath));
    }

    private static string Written(CachedDatabase cache)
    {
        var file = cache.NewTempPath();
        File.WriteAllBytes(file, new byte[4096]);
        return file;
    }

    private static void Commit(CachedDatabase cache, string etag) =>
        cache.InstallCommitted(new DatabaseETag(etag), Written(cache), TimeProvider.System.GetTimestamp());
}
