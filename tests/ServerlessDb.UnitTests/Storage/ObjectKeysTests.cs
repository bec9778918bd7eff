using ServerlessDb.Storage;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>The bucket's key layout, pinned: deployed buckets, lifecycle rules and IAM policies depend on every one of these.</summary>
public sealed class ObjectKeysTests
{
    private static readonly string Sha256 = new('a', 64);

    private readonly ObjectKeys _keys = new("databases/");

    [Fact]
    public void Every_key_the_service_writes_lives_under_the_prefix_where_the_template_expects_it()
    {
        Assert.Equal("databases/shop.sqlite", _keys.Database("shop"));
        Assert.Equal("databases/_chunks/", _keys.ChunkFolders);
        Assert.Equal("databases/_chunks/shop/", _keys.ChunkFolder("shop"));
        Assert.Equal($"databases/_chunks/shop/{Sha256}", _keys.Chunk("shop", Sha256));
        Assert.Equal("databases/_staging/shop/0123.sqlite", _keys.StagedUpload("shop", "0123"));
        Assert.Equal("databases/_staging/shop/backup-0123.sqlite", _keys.BackupCopy("shop", "0123"));
        Assert.Equal("databases/_locks/", _keys.LeaseFolder);
        Assert.Equal("databases/_locks/shop.lease", _keys.Lease("shop"));
    }

    [Theory]
    [InlineData("databases/shop.sqlite", "shop")]
    [InlineData("databases/shop.sqlite.tmp", null)]
    [InlineData("other/shop.sqlite", null)]
    [InlineData("databases/_chunks/shop.sqlite", null)]
    [InlineData("databases/bad name.sqlite", null)]
    public void A_database_key_is_read_back_only_when_it_names_a_valid_database(string key, string? database) =>
        Assert.Equal(database, _keys.DatabaseOf(key));

    [Fact]
    public void A_chunk_key_is_read_back_only_when_it_is_a_lowercase_sha256_in_its_databases_folder()
    {
        Assert.Equal(Sha256, _keys.ChunkOf("shop", _keys.Chunk("shop", Sha256)));
        Assert.Null(_keys.ChunkOf("shop", _keys.Chunk("shop", Sha256.ToUpperInvariant())));
        Assert.Null(_keys.ChunkOf("shop", _keys.Chunk("shop", Sha256[1..])));
        Assert.Null(_keys.ChunkOf("shop", _keys.Chunk("other", Sha256)));
        Assert.Null(_keys.ChunkOf("shop", "databases/_chunks/shop/README.txt"));
        Assert.Null(_keys.ChunkOf("shop", null));
    }

    [Fact]
    public void A_chunk_folder_and_a_lease_key_are_read_back_as_their_database()
    {
        Assert.Equal("shop", _keys.DatabaseOfChunkFolder("databases/_chunks/shop/"));
        Assert.Null(_keys.DatabaseOfChunkFolder("databases/_chunks//"));
        Assert.Equal("shop", _keys.DatabaseOfLease("databases/_locks/shop.lease"));
        Assert.Null(_keys.DatabaseOfLease("databases/_locks/README.txt"));
        Assert.Null(_keys.DatabaseOfLease("databases/_locks/a/b.lease"));
        Assert.Null(_keys.DatabaseOfLease("databases/_locks/.lease"));
    }
}
