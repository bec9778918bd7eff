using ServerlessDb.Configuration;

namespace ServerlessDb.UnitTests.Configuration;

public sealed class CacheMaxBytesOptionTests
{
    private static ServerlessDbOptions Read(string? cacheMaxBytes) =>
        ServerlessDbOptions.FromEnvironment(new DictionaryEnvironment(new Dictionary<string, string?>
        {
            ["DB_BUCKET"] = "my-databases",
            ["CACHE_MAX_BYTES"] = cacheMaxBytes,
        }));

    [Fact]
    public void The_default_bound_is_256_MiB_half_of_Lambdas_default_tmp()
    {
        Assert.Equal(256L * 1024 * 1024, Read(null).CacheMaxBytes);
        Assert.Equal(ServerlessDbOptions.DefaultCacheMaxBytes, Read(null).CacheMaxBytes);
    }

    [Theory]
    [InlineData("1048576", 1048576L)]
    [InlineData("2147483648", 2147483648L)]
    public void A_bound_in_range_is_read_in_bytes(string raw, long expected) =>
        Assert.Equal(expected, Read(raw).CacheMaxBytes);

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("1048575")]
    [InlineData("256MB")]
    [InlineData("1099511627777")]
    public void A_bound_out_of_range_or_not_a_number_is_refused_naming_the_variable_and_the_range(string raw)
    {
        var error = Assert.Throws<OptionsException>(() => Read(raw));

        var problem = Assert.Single(error.Problems);
        Assert.Equal($"CACHE_MAX_BYTES must be a whole number from 1048576 to 1099511627776; got '{raw}'.", problem);
    }
}
