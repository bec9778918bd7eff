using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ServerlessDb.Domain;
using ServerlessDb.Errors;
using ServerlessDb.Protocol;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Domain;

public sealed class DatabaseNameTests
{
    private const string Allowed = "abcxyzABCXYZ0189_-";

    private static bool FollowsTheRule(string name)
    {
        if (name.Length is < 1 or > 64)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    [Property(MaxTest = 2000)]
    public Property A_name_is_valid_exactly_when_every_character_follows_the_rule() =>
        Prop.ForAll(HostileText.Near(Allowed, 64), name => DatabaseName.IsValid(name) == FollowsTheRule(name));

    [Property(MaxTest = 500)]
    public Property Any_string_is_judged_by_the_rule() =>
        Prop.ForAll(HostileText.AnyString, name => DatabaseName.IsValid(name) == FollowsTheRule(name));

    [Theory]
    [InlineData("sneaky\n")]
    [InlineData("default\n")]
    [InlineData("\ndefault")]
    [InlineData("a\r\n")]
    [InlineData("a\0")]
    [InlineData("")]
    [InlineData("caf\u00e9")]
    [InlineData("\u0663")]
    public void Names_with_characters_outside_the_rule_are_invalid(string name) => Assert.False(DatabaseName.IsValid(name));

    [Fact]
    public void A_name_of_64_characters_is_valid_and_65_is_not()
    {
        Assert.True(DatabaseName.IsValid(new string('a', 64)));
        Assert.False(DatabaseName.IsValid(new string('a', 65)));
    }

    [Fact]
    public void A_db_flag_ending_in_a_newline_is_400()
    {
        var error = Assert.Throws<BadRequestException>(() => RequestFlagsParser.Parse(new Dictionary<string, string> { ["db"] = "sneaky\n" }));
        Assert.Equal(ProtocolMessages.InvalidDatabaseName("sneaky\n"), error.Message);
    }
}
