using ServerlessDb.Storage;

namespace ServerlessDb.UnitTests.Storage;

public sealed class CachedDatabaseFileNameTests
{
    [Theory]
    [InlineData("\"abc\"", "v-abc.sqlite")]
    [InlineData("\"0-1a-2b\"", "v-0-1a-2b.sqlite")]
    public void A_plain_etag_names_its_file(string etag, string expected) =>
        Assert.Equal(expected, CachedDatabase.FileNameFor(new DatabaseETag(etag)));

    [Theory]
    [InlineData("\"abc\n\"")]
    [InlineData("abc\n")]
    [InlineData("W/\"abc\"")]
    [InlineData("\"../abc\"")]
    public void Any_other_etag_is_hashed_so_no_newline_or_path_reaches_the_file_name(string etag)
    {
        var name = CachedDatabase.FileNameFor(new DatabaseETag(etag));

        Assert.StartsWith("h-", name, StringComparison.Ordinal);
        Assert.Matches(@"\Ah-[0-9a-f]{64}\.sqlite\z", name);
    }
}
