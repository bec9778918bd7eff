using Cli.Proxy;

namespace ServerlessDb.Cli.Tests.Units;

/// <summary>The proxy's query strings: one encoding, on which every SigV4 implementation and the API agree.</summary>
public sealed class CanonicalQueryTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("?", "")]
    [InlineData("?db=shop", "?db=shop")]
    [InlineData("?transaction&db=shop", "?transaction&db=shop")]
    [InlineData("?q=SELECT+*+FROM+t", "?q=SELECT%20%2A%20FROM%20t")]
    [InlineData("?q=a%2Bb", "?q=a%2Bb")]
    [InlineData("?q='x'&level=", "?q=%27x%27&level=")]
    [InlineData("?as_of=2026-12-02T10:15:00%2B01:00", "?as_of=2026-12-02T10%3A15%3A00%2B01%3A00")]
    public void A_space_written_as_plus_and_raw_reserved_characters_are_percent_encoded_once(string query, string expected) =>
        Assert.Equal(expected, CanonicalQuery.Rewrite(query));
}
